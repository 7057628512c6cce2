package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/wabarouter/wabarouter/internal/webhook"
)

const (
	slackToken    = "xoxb-e2e-secret-token"
	pdRoutingKey  = "R0UT1NGK3Y0123456789abcdefABCDEF"
	smtpUser      = "alerts@example.com"
	smtpPassword  = "smtp-e2e-p4ssw0rd"
	banWabaID     = "102290129340398"
	banDedupKey   = "e2e-ban/" + banWabaID
	seedBanSample = "../../testdata/webhooks/seed_disabled_update_disable.json"
)

// smtpBackend accepts PLAIN auth for smtpUser and records each message.
type smtpBackend struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

func (b *smtpBackend) messages() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.msgs...)
}

type smtpSession struct {
	b    *smtpBackend
	auth bool
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, pw string) error {
		if username != smtpUser || pw != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.auth = true
		return nil
	}), nil
}
func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, b)
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func serveSMTP(t *testing.T, be *smtpBackend) int {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout = 5 * time.Second
	s.WriteTimeout = 5 * time.Second
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// capture records the bodies an httptest server received.
type capture struct {
	mu     sync.Mutex
	bodies []string
}

func (c *capture) add(s string) {
	c.mu.Lock()
	c.bodies = append(c.bodies, s)
	c.mu.Unlock()
}

func (c *capture) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies...)
}

// mimeParts returns a message's subject and its text and HTML bodies.
func mimeParts(t *testing.T, data []byte) (subject, text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return subject, text, html
}

func TestServeDeliversToEverySink(t *testing.T) {
	bin := buildBinary(t)

	var slackGot capture
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/chat.postMessage" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		text := string(b)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if v, err := url.ParseQuery(text); err == nil {
				j, _ := json.Marshal(v)
				text = string(j)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("channel") == "CGONE" || strings.Contains(text, `"CGONE"`) {
			_, _ = io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
			return
		}
		slackGot.add("authorization=" + r.Header.Get("Authorization") + "\n" + text)
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C123","ts":"1.0001"}`)
	}))
	t.Cleanup(slackSrv.Close)

	var pdGot capture
	pdSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		pdGot.add(string(b))
		var ev struct {
			DedupKey string `json:"dedup_key"`
		}
		_ = json.Unmarshal(b, &ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
	}))
	t.Cleanup(pdSrv.Close)

	be := &smtpBackend{}
	smtpPort := serveSMTP(t, be)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(`rules:
  - name: account-banned
    description: The account is banned
    when: field == "account_update" and event == "DISABLED_UPDATE" and ban_state == "DISABLE"
    severity: critical
    to: [team-slack, oncall-pagerduty, legal-email]
    dedup:
      key: 'e2e-ban/{{.waba_id}}'
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: ${E2E_VERIFY_TOKEN}
  app_secrets: ["${E2E_APP_SECRET}"]
store:
  path: %s
rules: [%s]
sinks:
  - name: team-slack
    type: slack
    token: ${E2E_SLACK_TOKEN}
    channel: C123
    api_url: %s/
  - name: oncall-pagerduty
    type: pagerduty
    routing_key: ${E2E_PD_KEY}
    events_url: %s/v2/enqueue
  - name: legal-email
    type: email
    host: 127.0.0.1
    port: %d
    tls: none
    username: %s
    password: ${E2E_SMTP_PASSWORD}
    from: wabarouter@example.com
    to: [legal@example.com]
  - name: gone-slack
    type: slack
    token: ${E2E_SLACK_TOKEN}
    channel: CGONE
    api_url: %s/
`, filepath.Join(dir, "router.db"), rulesPath, slackSrv.URL, pdSrv.URL, smtpPort, smtpUser, slackSrv.URL)
	r := startRouter(t, bin, cfg, "E2E_VERIFY_TOKEN="+verifyToken, "E2E_APP_SECRET="+appSecret,
		"E2E_SLACK_TOKEN="+slackToken, "E2E_PD_KEY="+pdRoutingKey, "E2E_SMTP_PASSWORD="+smtpPassword)

	seed, err := os.ReadFile(seedBanSample)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, "http://"+r.addr+"/webhook", seed, webhook.Sign(appSecret, seed)); code != http.StatusOK {
		t.Fatalf("got %d %q, want 200", code, body)
	}
	for _, sink := range []string{"team-slack", "oncall-pagerduty", "legal-email"} {
		r.waitForLog(t, `msg="notification sent"`, "sink="+sink)
	}

	t.Run("slack", func(t *testing.T) {
		got := slackGot.all()
		if len(got) != 1 {
			t.Fatalf("slack got %d posts, want 1: %q", len(got), got)
		}
		if !strings.Contains(got[0], `"channel":["C123"]`) && !strings.Contains(got[0], `"channel":"C123"`) {
			t.Errorf("slack post names no channel C123: %s", got[0])
		}
		if !strings.Contains(got[0], slackToken) {
			t.Errorf("slack post carries no bot token (form token or Authorization header)")
		}
		// The blocks/attachments travel as a JSON string inside the form.
		var form map[string][]string
		body := got[0][strings.Index(got[0], "\n")+1:]
		rich := body
		if json.Unmarshal([]byte(body), &form) == nil {
			rich = strings.Join(form["attachments"], "") + strings.Join(form["blocks"], "")
		}
		if !strings.Contains(rich, banWabaID) || !strings.Contains(rich, "banned") {
			t.Errorf("slack attachments/blocks do not mention WABA %s and \"banned\": %s", banWabaID, body)
		}
	})

	t.Run("pagerduty", func(t *testing.T) {
		got := pdGot.all()
		if len(got) != 1 {
			t.Fatalf("pagerduty got %d events, want 1: %q", len(got), got)
		}
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     struct {
				Severity string `json:"severity"`
				Summary  string `json:"summary"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(got[0]), &ev); err != nil {
			t.Fatalf("pagerduty event %s: %v", got[0], err)
		}
		if ev.EventAction != "trigger" || ev.Payload.Severity != "critical" || ev.RoutingKey != pdRoutingKey || ev.DedupKey != banDedupKey {
			t.Errorf("pagerduty event %s\nwant event_action trigger, severity critical, the routing key and dedup_key %q", got[0], banDedupKey)
		}
		if !strings.Contains(ev.Payload.Summary, banWabaID) {
			t.Errorf("pagerduty summary %q does not name WABA %s", ev.Payload.Summary, banWabaID)
		}
	})

	t.Run("email", func(t *testing.T) {
		msgs := be.messages()
		if len(msgs) != 1 {
			t.Fatalf("smtp server got %d messages, want 1", len(msgs))
		}
		subject, text, html := mimeParts(t, msgs[0])
		if !strings.HasPrefix(subject, "[CRITICAL]") {
			t.Errorf("subject %q, want it to start with [CRITICAL]", subject)
		}
		if !strings.Contains(text, banWabaID) || !strings.Contains(html, banWabaID) {
			t.Errorf("want both a text and an HTML part naming WABA %s; text:\n%s\nhtml:\n%s", banWabaID, text, html)
		}
	})

	// Everything the other commands print, for the secret check below.
	var printed strings.Builder
	t.Run("notify-test reaches each peer", func(t *testing.T) {
		for _, sink := range []string{"team-slack", "oncall-pagerduty", "legal-email"} {
			code, out, errOut := r.command(t, bin, "notify-test", "--sink", sink)
			printed.WriteString(out + errOut)
			if code != 0 || !strings.Contains(out, "sink "+sink+" answered:") {
				t.Errorf("notify-test --sink %s: exit %d\nstdout: %s\nstderr: %s", sink, code, out, errOut)
			}
		}
		if got := slackGot.all(); len(got) != 2 || !strings.Contains(got[1], "[TEST]") || !strings.Contains(got[1], "team-slack works") {
			t.Errorf("slack peer got %d posts; want the incident and then a [TEST] post naming the sink: %q", len(got), got)
		}
		if got := pdGot.all(); len(got) != 3 || !strings.Contains(got[1], "wabarouter test notification") || !strings.Contains(got[1], pdRoutingKey) ||
			!strings.Contains(got[2], `"event_action":"resolve"`) || !strings.Contains(got[2], "wabarouter-notify-test/oncall-pagerduty") {
			t.Errorf("pagerduty peer got %d events; want the incident, a test trigger with the routing key, and its resolve: %q", len(got), got)
		}
		if msgs := be.messages(); len(msgs) != 2 {
			t.Errorf("smtp server got %d messages, want the incident and the test", len(msgs))
		} else if subject, _, _ := mimeParts(t, msgs[1]); !strings.Contains(subject, "[TEST]") {
			t.Errorf("test mail subject %q has no [TEST] tag", subject)
		}
	})

	t.Run("notify-test explains a permanent error", func(t *testing.T) {
		code, out, errOut := r.command(t, bin, "notify-test", "--sink", "gone-slack")
		printed.WriteString(out + errOut)
		if code != 1 || !strings.Contains(errOut, "channel_not_found") || !strings.Contains(errOut, "permanent") {
			t.Errorf("exit %d, stderr %q; want exit 1 naming channel_not_found and saying retrying will not help", code, errOut)
		}
		code, _, errOut = r.command(t, bin, "notify-test", "--sink", "pagerduty")
		printed.WriteString(errOut)
		if code != 2 || !strings.Contains(errOut, "defined sinks: team-slack, oncall-pagerduty, legal-email, gone-slack") {
			t.Errorf("unknown sink: exit %d, stderr %q; want a usage error listing the defined sinks", code, errOut)
		}
	})

	t.Run("check prints no secret", func(t *testing.T) {
		code, out, errOut := r.command(t, bin, "check")
		printed.WriteString(out + errOut)
		if code != 0 || !strings.Contains(out, "OK") {
			t.Errorf("check: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})

	t.Run("no secret reaches the log or any output", func(t *testing.T) {
		logs := r.logText() + "\n" + printed.String()
		for name, secret := range map[string]string{"slack token": slackToken, "routing key": pdRoutingKey,
			"smtp password": smtpPassword, "app secret": appSecret, "verify token": verifyToken} {
			if strings.Contains(logs, secret) {
				t.Errorf("the %s reached the log:\n%s", name, logs)
			}
		}
	})
}
