package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// customerTexts are what the customers in the payloads below wrote or
// are called.
var customerTexts = []string{
	"Kerry Fisher", "16315551181", "this is a text message", "see my receipt attached",
	"kerry-contract.pdf", "221B Baker Street", "Jane Contact", "Yes please deliver", "STOP promos", "my card number",
}

// messageNotifications are notifications about inbound messages, one per
// message, with the title and body a rule author would write without
// quoting the customer.
func messageNotifications(t *testing.T) []notification.Notification {
	t.Helper()
	var ns []notification.Notification
	for _, path := range []string{
		filepath.Join("..", "..", "testdata", "webhooks", "var_messages_inbound.json"),
		filepath.Join("..", "sinks", "testdata", "messages_rich.json"),
	} {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := event.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			ns = append(ns, notification.Notification{ID: "n-" + ev.MessageID, Sink: "s", Rule: "inbound",
				Severity: notification.Warning, Action: notification.Trigger, Title: "Inbound " + ev.MessageType + " message",
				Body: "A customer wrote to " + ev.PhoneNumber, DedupKey: "inbound/" + ev.MessageID, Event: ev, CreatedAt: time.Now()})
		}
	}
	return ns
}

// peers records what every kind of destination receives.
type peers struct {
	mu   sync.Mutex
	got  bytes.Buffer
	http *httptest.Server
	smtp int
	log  string
}

func (p *peers) record(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got.Write(b)
	p.got.WriteByte('\n')
}

func (p *peers) received() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got.String()
	if b, err := os.ReadFile(p.log); err == nil {
		out += string(b)
	}
	return out
}

type smtpBackend struct{ p *peers }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return smtpSession(b), nil }

type smtpSession struct{ p *peers }

func (smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.p.record(b)
	return err
}
func (smtpSession) Reset()        {}
func (smtpSession) Logout() error { return nil }

func newPeers(t *testing.T) *peers {
	t.Helper()
	p := &peers{log: filepath.Join(t.TempDir(), "notifications.jsonl")}
	p.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.record(b)
		if strings.HasPrefix(r.URL.Path, "/pd") {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"k"}`)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(p.http.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtpBackend{p})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.smtp = l.Addr().(*net.TCPAddr).Port
	return p
}

func (p *peers) sinkConfigs(include bool) []config.Sink {
	return []config.Sink{
		{Name: "slack", Type: "slack", IncludeCustomerData: include, Settings: map[string]any{"webhook_url": config.Secret(p.http.URL + "/slack/T0/B0/x")}},
		{Name: "pagerduty", Type: "pagerduty", IncludeCustomerData: include, Settings: map[string]any{
			"routing_key": config.Secret("R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"), "events_url": p.http.URL + "/pd"}},
		{Name: "webhook", Type: "webhook", IncludeCustomerData: include, Settings: map[string]any{"url": p.http.URL + "/hook"}},
		{Name: "log", Type: "log", IncludeCustomerData: include, Settings: map[string]any{"path": p.log}},
		{Name: "email", Type: "email", IncludeCustomerData: include, Settings: map[string]any{"host": "127.0.0.1",
			"port": strconv.Itoa(p.smtp), "tls": "none", "from": "router@example.com", "to": []string{"oncall@example.com"}}},
	}
}

// TestBuiltSinksWithholdCustomerData: every sink type, as BuildSinks
// makes it, sends no customer's name, WhatsApp id or words unless its
// config sets include_customer_data: true; then the sinks that send the
// event (PagerDuty, webhook, log) send them.
func TestBuiltSinksWithholdCustomerData(t *testing.T) {
	ns := messageNotifications(t)
	for _, include := range []bool{false, true} {
		for _, typ := range []string{"slack", "pagerduty", "webhook", "log", "email"} {
			t.Run(typ+"/include="+strconv.FormatBool(include), func(t *testing.T) {
				p := newPeers(t)
				var cfg config.Config
				for _, c := range p.sinkConfigs(include) {
					if c.Type == typ {
						cfg.Sinks = append(cfg.Sinks, c)
					}
				}
				sc := cfg.Sinks[0]
				built, err := BuildSinks(&cfg)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range ns {
					if _, err := built[sc.Name].Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
						t.Fatalf("%s: %v", n.ID, err)
					}
				}
				got := p.received()
				if !strings.Contains(got, "Inbound") {
					t.Fatalf("nothing arrived: %.300q", got)
				}
				carriesEvent := sc.Type == "pagerduty" || sc.Type == "webhook" || sc.Type == "log"
				for _, s := range customerTexts {
					switch {
					case !include && strings.Contains(got, s):
						t.Errorf("customer data %q sent by default", s)
					case include && carriesEvent && !strings.Contains(got, s):
						t.Errorf("include_customer_data: true, but %q was withheld", s)
					}
				}
				if !include && carriesEvent && !strings.Contains(got, "include_customer_data") {
					t.Error("nothing says the data was withheld, or how to send it")
				}
			})
		}
	}
}
