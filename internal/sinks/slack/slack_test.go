package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

var _ sinks.Sink = (*Sink)(nil)

const (
	token    = "xoxb-1111-2222-s3cr3tt0ken"
	hookPath = "/services/T000/B000/h00ks3cr3t"
)

func renderJSON(t *testing.T, n notification.Notification) []byte {
	t.Helper()
	b, err := Payload(n)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	for name, n := range sinkstest.All() {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, renderJSON(t, n)) })
	}
	// A named account with a runbook and Meta's description, and good
	// news outside any incident: every part a message can have.
	for _, name := range []string{"directory", "change"} {
		n := hostileNotifications()[name]
		t.Run(name, func(t *testing.T) { checkGolden(t, "message_"+name, renderJSON(t, n)) })
	}
}

// checkGolden compares got with testdata/name.golden.json, rewriting it
// with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden; got:\n%s", path, got)
	}
}

func TestRenderDetails(t *testing.T) {
	n := sinkstest.Restriction()
	n.Title = strings.Repeat("x", 300)
	if got := len([]rune(Title(n))); got != 150 {
		t.Errorf("header %d runes", got)
	}
	if !strings.HasPrefix(Title(sinkstest.AccountAlert()), ":white_check_mark: Resolved: ") {
		t.Errorf("resolve title %q", Title(sinkstest.AccountAlert()))
	}
	for sev, c := range map[notification.Severity]string{notification.Critical: "#d00000", notification.Error: "#e8590c", notification.Warning: "#f2c744", notification.Info: "#2eb67d"} {
		if Color(sev) != c {
			t.Errorf("colour %v", sev)
		}
	}
}

// posted is the text, blocks and attachments of a message as Slack
// received it, as Payload writes them.
func posted(t *testing.T, text, blocks, attachments string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]json.RawMessage{"text": mustJSON(t, text), "blocks": json.RawMessage(blocks), "attachments": json.RawMessage(attachments)})
	if err != nil {
		t.Fatalf("message %q %q %q: %v", text, blocks, attachments, err)
	}
	return b
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("received\n%s\nwant\n%s", gb, wb)
	}
}

func TestPostMessageSlacktest(t *testing.T) {
	var mu sync.Mutex
	var form url.Values
	srv := slacktest.NewTestServer()
	srv.Start()
	defer srv.Stop()
	s, err := New(Config{Token: token, Channel: "#alerts", APIURL: srv.GetAPIURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Watch what reaches slacktest's own chat.postMessage handler.
	s.http.Transport = spy{next: s.http.Transport, f: func(r *http.Request, body []byte) {
		if strings.HasSuffix(r.URL.Path, "chat.postMessage") {
			mu.Lock()
			form, _ = url.ParseQuery(string(body))
			mu.Unlock()
		}
	}}
	n := sinkstest.Restriction()
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Ref, "#alerts:") || len(r.Ref) <= len("#alerts:") {
		t.Errorf("ref %q", r.Ref)
	}
	mu.Lock()
	defer mu.Unlock()
	if form.Get("channel") != "#alerts" || form.Get("token") != token {
		t.Errorf("form %v", form.Get("channel"))
	}
	got := posted(t, form.Get("text"), form.Get("blocks"), form.Get("attachments"))
	sameJSON(t, got, renderJSON(t, n))
	want, _ := os.ReadFile(filepath.Join("testdata", "restriction.golden.json"))
	sameJSON(t, got, want)
}

type spy struct {
	next http.RoundTripper
	f    func(*http.Request, []byte)
}

func (s spy) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	s.f(r, b)
	return s.next.RoundTrip(r)
}

func TestWebhook(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != hookPath {
			t.Errorf("path %s", r.URL.Path)
		}
		got, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := New(Config{WebhookURL: srv.URL + hookPath}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	n := sinkstest.TemplatePaused()
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
	if err != nil {
		t.Fatal(err)
	}
	if r.Detail != "Slack answered: ok" {
		t.Errorf("receipt %+v", r)
	}
	var msg struct {
		Text        string          `json:"text"`
		Blocks      json.RawMessage `json:"blocks"`
		Attachments json.RawMessage `json:"attachments"`
	}
	if err := json.Unmarshal(got, &msg); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if msg.Text != "Warning: Template order_update (en_US) PAUSED" {
		t.Errorf("text %q", msg.Text)
	}
	sameJSON(t, posted(t, msg.Text, string(msg.Blocks), string(msg.Attachments)), renderJSON(t, n))
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name    string
		webhook bool
		status  int
		header  map[string]string
		body    string
		retry   bool
		after   time.Duration
		text    string
	}{
		{"api 429", false, 429, map[string]string{"Retry-After": "9"}, `{"ok":false,"error":"ratelimited"}`, true, 9 * time.Second, "rate limited"},
		{"api 500", false, 500, nil, `<html>oops</html>`, true, 0, "500"},
		{"channel_not_found", false, 200, nil, `{"ok":false,"error":"channel_not_found"}`, false, 0, "Slack says channel_not_found: invite the bot to #alerts or fix `channel`"},
		{"not_in_channel", false, 200, nil, `{"ok":false,"error":"not_in_channel"}`, false, 0, "invite the bot to #alerts"},
		{"invalid_auth", false, 200, nil, `{"ok":false,"error":"invalid_auth"}`, false, 0, "fix `token`"},
		{"token_revoked", false, 200, nil, `{"ok":false,"error":"token_revoked"}`, false, 0, "revoked"},
		{"account_inactive", false, 200, nil, `{"ok":false,"error":"account_inactive"}`, false, 0, "deactivated"},
		{"is_archived", false, 200, nil, `{"ok":false,"error":"is_archived"}`, false, 0, "archived"},
		{"internal_error", false, 200, nil, `{"ok":false,"error":"internal_error"}`, true, 0, "internal_error"},
		{"hook 429", true, 429, map[string]string{"Retry-After": "4"}, `rate_limited`, true, 4 * time.Second, "rate limited"},
		{"hook 500", true, 500, nil, `oops`, true, 0, "500"},
		{"hook 404", true, 404, nil, `channel_not_found`, false, 0, "Slack says channel_not_found: the incoming webhook's channel is gone"},
		{"hook 429 date", true, 429, map[string]string{"Retry-After": "Mon, 01 Jan 2024 00:00:00 GMT"}, `rate_limited`, true, 0, "rate limited"},
		{"hook 403", true, 403, nil, `invalid_token`, false, 0, "fix `webhook_url`"},
		{"hook 400", true, 400, nil, `invalid_payload`, false, 0, "invalid_payload"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				if strings.HasPrefix(c.body, "{") {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
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
			retry, after := sinks.IsRetryable(err)
			if retry != c.retry || after != c.after {
				t.Errorf("got (%v, %v) from %v", retry, after, err)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			sinkstest.AssertNoSecret(t, token, err.Error())
			sinkstest.AssertNoSecret(t, "h00ks3cr3t", err.Error())
		})
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	for _, cfg := range []Config{{WebhookURL: u + hookPath}, {Token: token, Channel: "c", APIURL: u + "/api/"}} {
		s, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
		if retry, _ := sinks.IsRetryable(err); err == nil || !retry {
			t.Fatalf("want retryable, got %v", err)
		}
		sinkstest.AssertNoSecret(t, token, err.Error())
		sinkstest.AssertNoSecret(t, "h00ks3cr3t", err.Error())
	}
}

func TestNewValidation(t *testing.T) {
	bad := []Config{
		{},
		{WebhookURL: "https://hooks.slack.com/x", Token: "t", Channel: "c"},
		{Token: "t"},
		{Channel: "c"},
		{WebhookURL: "not a url/h00ks3cr3t"},
	}
	for _, c := range bad {
		_, err := New(c, nil)
		if err == nil {
			t.Errorf("%+v: want error", c.Channel)
			continue
		}
		sinkstest.AssertNoSecret(t, "h00ks3cr3t", err.Error())
	}
}
