package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf16"

	"github.com/slack-go/slack/slacktest"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// hostile is text Meta relays from whoever wrote it: mentions, a
// disguised link, Meta's own <BUSINESS_NAME> placeholder and a bidi
// override.
const hostile = "<!channel> <!here> <@U123> <https://evil.example|click here> <BUSINESS_NAME> a&b \u202eredaeh"

// hostileAlert is an account alert whose description, template name
// and reason all carry hostile text, in every place a rule could put it.
func hostileAlert() notification.Notification {
	n := sinkstest.AccountAlert()
	n.Action = notification.Trigger
	n.Title = "Alert for " + hostile
	n.Body = "Description: " + hostile
	n.Event.AlertDescription = hostile
	n.Event.TemplateName = "tpl " + hostile
	n.Event.Reason = "reason " + hostile
	n.Event.AlertType = "TYPE " + hostile
	return n
}

// strs collects every string in a decoded JSON value.
func strs(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case map[string]any:
		for _, x := range t {
			strs(x, out)
		}
	case []any:
		for _, x := range t {
			strs(x, out)
		}
	}
}

var entity = regexp.MustCompile(`&(amp|lt|gt);`)

// dateToken is the one markup the sink writes itself (see Date).
var dateToken = regexp.MustCompile(`<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>`)

// assertNothingLive fails t if any string Slack received could ping,
// link or reorder: a raw < or >, an & that starts no entity, a bidi
// override. It also checks the hostile text arrived, escaped, so the
// check cannot pass because the text was dropped.
func assertNothingLive(t *testing.T, texts []string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "&lt;!channel&gt;") || !strings.Contains(all, "&lt;BUSINESS_NAME&gt;") {
		t.Fatalf("the hostile text did not arrive escaped:\n%s", all)
	}
	checkInert(t, texts)
}

// checkInert fails t if any of texts could ping, link or reorder: a raw
// < or > outside the sink's own date tokens, an & that starts no entity,
// a bidi control.
func checkInert(t *testing.T, texts []string) {
	t.Helper()
	for _, s := range texts {
		s = dateToken.ReplaceAllString(s, "")
		if strings.ContainsAny(s, "<>") || strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }) {
			t.Errorf("live markup or bidi override reaches Slack: %q", s)
		}
		if strings.Count(entity.ReplaceAllString(s, ""), "&") > 0 {
			t.Errorf("an & that is no entity (cut in half?) reaches Slack: %q", s)
		}
	}
}

// TestNoLiveMentionsOrLinks: text from Meta reaches Slack escaped in
// every field, for an incoming webhook and for chat.postMessage, as
// Slack receives it.
func TestNoLiveMentionsOrLinks(t *testing.T) {
	t.Run("webhook_url", func(t *testing.T) {
		var got []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
			_, _ = io.WriteString(w, "ok")
		}))
		defer srv.Close()
		s, err := New(Config{WebhookURL: srv.URL + hookPath}, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: hostileAlert()}); err != nil {
			t.Fatal(err)
		}
		var msg any
		if err := json.Unmarshal(got, &msg); err != nil {
			t.Fatal(err)
		}
		var texts []string
		strs(msg, &texts)
		assertNothingLive(t, texts)
	})
	t.Run("token", func(t *testing.T) {
		var mu sync.Mutex
		var form url.Values
		srv := slacktest.NewTestServer()
		srv.Start()
		defer srv.Stop()
		s, err := New(Config{Token: token, Channel: "#alerts", APIURL: srv.GetAPIURL()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.http.Transport = spy{next: s.http.Transport, f: func(r *http.Request, body []byte) {
			if strings.HasSuffix(r.URL.Path, "chat.postMessage") {
				mu.Lock()
				form, _ = url.ParseQuery(string(body))
				mu.Unlock()
			}
		}}
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: hostileAlert()}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		texts := []string{form.Get("text")}
		for _, part := range []string{"attachments", "blocks"} {
			var v any
			if err := json.Unmarshal([]byte(form.Get(part)), &v); err != nil {
				t.Fatalf("%s %q: %v", part, form.Get(part), err)
			}
			strs(v, &texts)
		}
		assertNothingLive(t, texts)
	})
}

func slackLen(s string) int { return len(utf16.Encode([]rune(s))) }

// TestTextCutsBetweenEntities: Text escapes first and cuts within the
// budget, never inside an entity, counting as Slack does.
func TestTextCutsBetweenEntities(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"a&b", 150, "a&amp;b"},
		{"<!channel>", 150, "&lt;!channel&gt;"},
		{strings.Repeat("&", 40), 150, strings.Repeat("&amp;", 29) + "…"},
		{"abcd<", 7, "abcd…"},
		{"abc<", 7, "abc&lt;"},
		{"x\u202ey", 10, "xy"},
		{strings.Repeat("😀", 100), 150, strings.Repeat("😀", 74) + "…"},
		{"anything", 0, ""},
	}
	for _, c := range cases {
		got := Text(c.in, c.max)
		if got != c.want {
			t.Errorf("Text(%.20q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if slackLen(got) > c.max {
			t.Errorf("Text(%.20q, %d) is %d long", c.in, c.max, slackLen(got))
		}
	}
}

// TestSlackLimits: a 600,000-character title, a 1.2 MB description and
// body, long fields, 10,000 restrictions and a huge id reach Slack
// through an incoming webhook within Block Kit's limits (see
// checkLimits), with as much of Meta's description as fits and a note
// that it was cut.
func TestSlackLimits(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := New(Config{WebhookURL: srv.URL + hookPath}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	n := hugeAlert()
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	checkLimits(t, got)
	desc := descriptionOf(t, got)
	if !strings.HasSuffix(desc, "(cut to fit Slack; Meta's whole text is in WhatsApp Manager)") || len(desc) < 500 {
		t.Errorf("Meta's description arrived as %d bytes ending %q, want most of the room and the note it was cut", len(desc), desc[max(0, len(desc)-80):])
	}
}

// TestSecretsNotInEchoedErrors: a Slack endpoint that echoes the whole
// request in its error (URL, headers, body; JSON-escaped the way PHP and
// others write "/") leaves neither the token nor the webhook's secret in
// the error that reaches the log, the store and notify-test.
func TestSecretsNotInEchoedErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		webhook bool
		status  int
	}{
		{"webhook 400", true, 400},
		{"webhook 500", true, 500},
		{"api 400", false, 400},
		{"api 500", false, 500},
		{"api 200 not ok", false, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				u, _ := json.Marshal("http://" + r.Host + r.URL.String())
				auth, _ := json.Marshal(r.Header.Get("Authorization"))
				b, _ := json.Marshal(string(body))
				echo := fmt.Sprintf(`{"ok":false,"error":"invalid_request","url":%s,"authorization":%s,"body":%s}`, u, auth, b)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, strings.ReplaceAll(echo, "/", `\/`))
			}))
			defer srv.Close()
			cfg := Config{Token: token, Channel: "alerts", APIURL: srv.URL + "/api"}
			if c.webhook {
				cfg = Config{WebhookURL: srv.URL + hookPath}
			}
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
			if err == nil {
				t.Fatal("want error")
			}
			sinkstest.AssertNoSecret(t, "s3cr3tt0ken", err.Error())
			sinkstest.AssertNoSecret(t, "h00ks3cr3t", err.Error())
			if retry, _ := sinks.IsRetryable(err); retry != (c.status >= 500) {
				t.Errorf("retryable %v for %d: %v", retry, c.status, err)
			}
		})
	}
}
