package e2etest

import (
	"context"
	"io"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"testing"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/slack-go/slack"
	gomail "github.com/wneessen/go-mail"
)

func postNotification(t *testing.T, url, signature, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(SinkSignatureHeader, signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookReceiver(t *testing.T) {
	const secret = "peer-secret"
	good := `{"id":"n1","rule":"r","severity":"error","event":{"waba_id":"42"}}`
	failNext := true
	r := ServeWebhookReceiver(t, secret, WebhookReceiverOptions{Respond: func(_ context.Context, d WebhookDelivery) Answer {
		if d.Notification.ID == "n2" && failNext {
			failNext = false
			return Answer{Status: http.StatusServiceUnavailable}
		}
		return Answer{}
	}})
	r.Want(1, "n1 about WABA 42", func(d WebhookDelivery) bool {
		return d.Notification.ID == "n1" && d.Notification.Event.WabaID == "42" && d.Contains(`"rule":"r"`)
	})
	r.Want(1, "n2, once it was answered 200", func(d WebhookDelivery) bool { return d.Notification.ID == "n2" })
	if code := postNotification(t, r.URL(), Sign([]byte(secret), []byte(good)), good); code != http.StatusOK {
		t.Errorf("good notification: %d", code)
	}
	n2 := `{"id":"n2"}`
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		if code := postNotification(t, r.URL(), Sign([]byte(secret), []byte(n2)), n2); code != want {
			t.Errorf("n2 attempt %d: %d, want %d", i+1, code, want)
		}
	}
	r.Check(t)
	if r.Attempts() != 3 {
		t.Errorf("attempts %d, want 3", r.Attempts())
	}

	for _, tc := range []struct{ name, sig, body string }{
		{"bad signature", Sign([]byte("other"), []byte(good)), good},
		{"no signature", "", good},
		{"not a notification", Sign([]byte(secret), []byte("[]")), "[]"},
	} {
		before := r.BadSignatures() + r.Malformed()
		if code := postNotification(t, r.URL(), tc.sig, tc.body); code/100 != 4 {
			t.Errorf("%s: %d, want a 4xx", tc.name, code)
		}
		if r.BadSignatures()+r.Malformed() != before+1 {
			t.Errorf("%s: not counted as refused", tc.name)
		}
	}
	tb := runTB(t, r.Check)
	if !strings.Contains(tb.text(), "refused 3 requests") {
		t.Errorf("Check after three bad requests:\n%s", tb.text())
	}
}

func TestWebhookReceiverObserve(t *testing.T) {
	var seen []string
	r := ServeWebhookReceiver(t, "", WebhookReceiverOptions{Observe: func(d WebhookDelivery) {
		seen = append(seen, d.Notification.ID+"/"+string(d.Body))
	}})
	if code := postNotification(t, r.URL(), "", `{"id":"x"}`); code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	if len(seen) != 1 || seen[0] != `x/{"id":"x"}` || r.Len() != 0 {
		t.Errorf("observed %q, collected %d; want the one delivery observed and none kept", seen, r.Len())
	}
}

func TestPagerDutyFake(t *testing.T) {
	const key = "R0UT1NGK3Y0123456789abcdefABCDEF"
	f := ServePagerDuty(t, key, func(_ context.Context, e PagerDutyEvent) Answer {
		if e.Event.DedupKey == "throttled" {
			return Answer{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "2"}, Body: `{"status":"throttle event"}`}
		}
		return Answer{}
	})
	client := pd.NewClient("", pd.WithV2EventsAPIEndpoint(f.URL()))
	send := func(ev pd.V2Event) (*pd.V2EventResponse, error) {
		return client.ManageEventWithContext(context.Background(), &ev)
	}
	f.Want(1, "the trigger", func(e PagerDutyEvent) bool { return e.Event.Action == "trigger" && e.Severity() == "critical" })
	f.Want(1, "its resolve", func(e PagerDutyEvent) bool { return e.Event.Action == "resolve" && e.Event.DedupKey == "k1" })
	resp, err := send(pd.V2Event{RoutingKey: key, Action: "trigger", DedupKey: "k1",
		Payload: &pd.V2Payload{Summary: "WABA banned", Source: "wabarouter", Severity: "critical", Timestamp: "2026-11-23T14:02:03Z"}})
	if err != nil || resp.DedupKey != "k1" || resp.Status != "success" {
		t.Fatalf("trigger: %+v, %v", resp, err)
	}
	if _, err := send(pd.V2Event{RoutingKey: key, Action: "resolve", DedupKey: "k1"}); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if _, err := send(pd.V2Event{RoutingKey: key, Action: "trigger", DedupKey: "throttled",
		Payload: &pd.V2Payload{Summary: "s", Source: "s", Severity: "info"}}); err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("throttled: %v, want a 429", err)
	}
	f.Check(t)
	if f.Attempts() != 3 {
		t.Errorf("attempts %d, want 3", f.Attempts())
	}

	for _, tc := range []struct {
		name string
		ev   pd.V2Event
		why  string
	}{
		{"wrong key", pd.V2Event{RoutingKey: "x", Action: "resolve", DedupKey: "k"}, "routing_key"},
		{"resolve without a key", pd.V2Event{RoutingKey: key, Action: "resolve"}, "dedup_key is required"},
		{"unknown action", pd.V2Event{RoutingKey: key, Action: "close", DedupKey: "k"}, "event_action"},
		{"trigger without a source", pd.V2Event{RoutingKey: key, Action: "trigger",
			Payload: &pd.V2Payload{Summary: "s", Severity: "error"}}, "payload.source"},
		{"summary too long", pd.V2Event{RoutingKey: key, Action: "trigger",
			Payload: &pd.V2Payload{Summary: strings.Repeat("s", 1025), Source: "s", Severity: "error"}}, "payload.summary"},
		{"severity unknown", pd.V2Event{RoutingKey: key, Action: "trigger",
			Payload: &pd.V2Payload{Summary: "s", Source: "s", Severity: "fatal"}}, "payload.severity"},
		{"event over 512 KB", pd.V2Event{RoutingKey: key, Action: "trigger",
			Payload: &pd.V2Payload{Summary: "s", Source: "s", Severity: "error", Details: strings.Repeat("x", 600<<10)}}, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := f.Refusals()
			_, err := send(tc.ev)
			after, reasons := f.Refusals()
			if err == nil || !strings.Contains(err.Error(), "400") || after != before+1 || !strings.Contains(reasons[len(reasons)-1], tc.why) {
				t.Errorf("got %v, refusals %q; want a 400 naming %q", err, reasons, tc.why)
			}
		})
	}
}

func TestSlackFake(t *testing.T) {
	const token = "xoxb-peer-test"
	f := ServeSlack(t, token, func(_ context.Context, m SlackMessage) Answer {
		if m.Channel == "CGONE" {
			return SlackAPIError("channel_not_found")
		}
		return Answer{}
	})
	api := slack.New(token, slack.OptionAPIURL(f.APIURL()))
	f.Want(1, "a post to C1 with an attachment", func(m SlackMessage) bool {
		return m.Via == SlackViaAPI && m.Channel == "C1" && m.Token == token && len(m.Attachments) == 1 &&
			strings.Contains(m.Rendered(), "<!channel>")
	})
	f.Want(1, "a webhook post", func(m SlackMessage) bool { return m.Via == SlackViaWebhook && m.Text == "via hook" })
	channel, ts, err := api.PostMessage("C1", slack.MsgOptionText("fallback", false),
		slack.MsgOptionAttachments(slack.Attachment{Title: "<!channel> title", Text: "body"}))
	if err != nil || channel != "C1" || ts == "" {
		t.Fatalf("PostMessage: %q %q %v", channel, ts, err)
	}
	if _, _, err := api.PostMessage("CGONE", slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("post to a gone channel: %v, want channel_not_found", err)
	}
	if err := slack.PostWebhook(f.WebhookURL(), &slack.WebhookMessage{Text: "via hook"}); err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	f.Check(t)
	if f.Attempts() != 3 {
		t.Errorf("attempts %d, want 3 (the gone channel's included)", f.Attempts())
	}

	if _, _, err := slack.New("xoxb-wrong", slack.OptionAPIURL(f.APIURL())).PostMessage("C1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong token: %v, want invalid_auth", err)
	}
	if _, _, err := api.PostMessage("C1"); err == nil || err.Error() != "no_text" {
		t.Errorf("empty message: %v, want no_text", err)
	}
	if err := slack.PostWebhook(f.WebhookURL()+"x", &slack.WebhookMessage{Text: "x"}); err == nil {
		t.Error("a post to another webhook URL was accepted")
	}
	if n, reasons := f.Refusals(); n != 3 {
		t.Errorf("refusals %d %q, want the wrong token, the empty message and the wrong URL", n, reasons)
	}
}

func TestSMTPServer(t *testing.T) {
	s := ServeSMTP(t, SMTPOptions{Username: "u@example.com", Password: "pw"})
	send := func(password string, build func(*gomail.Msg)) error {
		c, err := gomail.NewClient(s.Host(), gomail.WithPort(s.Port()), gomail.WithTLSPolicy(gomail.NoTLS),
			gomail.WithSMTPAuth(gomail.SMTPAuthPlainNoEnc), gomail.WithUsername("u@example.com"), gomail.WithPassword(password))
		if err != nil {
			return err
		}
		m := gomail.NewMsg()
		if err := m.From("router@example.com"); err != nil {
			return err
		}
		if err := m.To("legal@example.com"); err != nil {
			return err
		}
		build(m)
		return c.DialAndSend(m)
	}
	s.Want(1, "the multipart mail", func(m Mail) bool {
		return m.Subject == "[CRITICAL] Konto gesperrt – 102290129340398" && strings.Contains(m.Text, "plain 102290129340398") &&
			strings.Contains(m.HTML, "<b>102290129340398</b>") && m.From == "router@example.com" && len(m.To) == 1
	})
	err := send("pw", func(m *gomail.Msg) {
		m.Subject("[CRITICAL] Konto gesperrt – 102290129340398")
		m.SetBodyString(gomail.TypeTextPlain, "plain 102290129340398 "+strings.Repeat("long text ", 200))
		m.AddAlternativeString(gomail.TypeTextHTML, "<b>102290129340398</b>")
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Check(t)

	if err := send("wrong", func(m *gomail.Msg) { m.Subject("x"); m.SetBodyString(gomail.TypeTextPlain, "x") }); err == nil {
		t.Error("wrong password accepted")
	}
	// A header line over 998 characters, which go-mail would fold, sent
	// raw.
	c, err := smtp.Dial(s.Host() + ":" + strconv.Itoa(s.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "u@example.com", "pw", s.Host())); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("router@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("legal@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, "Subject: "+strings.Repeat("s", 1000)+"\r\n\r\nbody\r\n")
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "554") {
		t.Errorf("long line: %v, want 554", err)
	}
	if n, reasons := s.Refusals(); n != 2 || !strings.Contains(reasons[1], "more than RFC 5322's 998") {
		t.Errorf("refusals %d %q, want the wrong password and the long line", n, reasons)
	}
}
