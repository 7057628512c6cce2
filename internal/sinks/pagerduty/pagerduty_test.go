package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

var _ sinks.Sink = (*Sink)(nil)

const routingKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"

type fakePD struct {
	mu     sync.Mutex
	bodies [][]byte
	status int
	header map[string]string
	answer string
}

func (f *fakePD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	if r.URL.Path != "/v2/enqueue" || r.Method != http.MethodPost {
		http.Error(w, "bad path "+r.URL.Path, http.StatusNotFound)
		return
	}
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.answer)
}

func (f *fakePD) last(t *testing.T) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		t.Fatal("nothing received")
	}
	var m map[string]any
	if err := json.Unmarshal(f.bodies[len(f.bodies)-1], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newSink(t *testing.T, f *fakePD) *Sink {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := New(Config{RoutingKey: routingKey, EventsURL: srv.URL + "/v2/enqueue"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// checkGolden compares the event body PagerDuty received with
// testdata/<name>.golden.json, indented so that a diff reads.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("%s: %v in %s", name, err, body)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	var g, w any
	if err := json.Unmarshal(buf.Bytes(), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: PagerDuty received\n%s", path, buf.Bytes())
	}
}

// escalation is the lifecycle's escalation for an account the directory
// names, with a runbook: what a trigger carries when it has everything.
func escalation() notification.Notification {
	n := sinkstest.Lifecycle()[2]
	n.RuleDescription = "A number's quality rating dropped"
	n.Runbook = "https://runbooks.example.com/whatsapp/quality"
	n.Event.Account = event.Account{Name: "Acme Retail EU", Team: "growth", Tags: []string{"eu"}, PhoneLabel: "support line"}
	n.Suppressed, n.SuppressedSince = 2, sinkstest.Time
	return n
}

// alertTrigger is an account alert with Meta's own description, as a
// trigger, for an account the directory does not list.
func alertTrigger() notification.Notification {
	n := sinkstest.AccountAlert()
	n.Action, n.Severity = notification.Trigger, notification.Warning
	n.Title = "Account alert: messaging limit at risk"
	n.Body = "Meta warns that the account may lose its messaging limit."
	n.Event.AlertDescription = "Your phone number's messaging limit may decrease because of low quality. Review your templates."
	return n
}

// TestTriggerJSON: each trigger reaches PagerDuty as the golden file
// says: summary naming the account, custom_details with the body, Meta's
// description, the account, the rule, the incident and the event, links
// to WhatsApp Manager and the runbook, client and client_url.
func TestTriggerJSON(t *testing.T) {
	cases := []struct {
		name string
		n    notification.Notification
	}{
		{"trigger_restriction", sinkstest.Restriction()},
		{"trigger_escalation", escalation()},
		{"trigger_alert", alertTrigger()},
	}
	schema := compileSchema(t, "alert_event.schema.json")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakePD{status: 202, answer: `{"status":"success","message":"Event processed","dedup_key":"` + c.n.DedupKey + `"}`}
			s := newSink(t, f)
			r, err := s.Send(context.Background(), sinks.Delivery{Notification: c.n})
			if err != nil {
				t.Fatal(err)
			}
			if r.Ref != c.n.DedupKey || r.Detail != "success: Event processed" {
				t.Errorf("receipt %+v", r)
			}
			body := f.bodies[len(f.bodies)-1]
			if err := schemaCheck(schema, body); err != nil {
				t.Errorf("PagerDuty would refuse it: %v", err)
			}
			checkGolden(t, c.name, body)
		})
	}
}

// TestTriggerNamesAccountAndIncident asserts, apart from the goldens,
// what an on-call person needs of the escalation's trigger.
func TestTriggerNamesAccountAndIncident(t *testing.T) {
	f := &fakePD{status: 202, answer: `{"status":"success","message":"Event processed","dedup_key":"k"}`}
	s := newSink(t, f)
	n := escalation()
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	got := f.last(t)
	p := got["payload"].(map[string]any)
	if p["summary"] != "Acme Retail EU: Quality of +1 650-555-1234 is RED" {
		t.Errorf("summary %q", p["summary"])
	}
	d := p["custom_details"].(map[string]any)
	inc, _ := d["incident"].(map[string]any)
	want := map[string]any{
		"body":    n.Body,
		"rule":    "quality",
		"account": "Acme Retail EU — +1 650-555-1234 (support line)",
		"waba_id": "104996122399160",
		"team":    "growth",
		"change":  "Escalated: severity warning → error; worse: phone_number_quality_update/DOWNGRADE RED",
		"runbook": n.Runbook,
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("custom_details.%s = %v, want %v", k, d[k], v)
		}
	}
	if inc["transition"] != "escalated" || inc["state"] != "open" || inc["count"] != 3.0 ||
		inc["id"] != sinkstest.IncidentID || inc["opened_at"] != "2026-11-23T14:02:03Z" {
		t.Errorf("custom_details.incident = %v", inc)
	}
	links, _ := got["links"].([]any)
	manager := "https://business.facebook.com/wa/manage/phone-numbers/?waba_id=104996122399160"
	if len(links) != 2 || links[0].(map[string]any)["href"] != manager || links[1].(map[string]any)["href"] != n.Runbook {
		t.Errorf("links %v", links)
	}
	if got["client_url"] != manager || got["client"] != "wabarouter" {
		t.Errorf("client %v, client_url %v", got["client"], got["client_url"])
	}
}

func TestSeverities(t *testing.T) {
	f := &fakePD{status: 202, answer: `{"status":"success","message":"Event processed","dedup_key":"k"}`}
	s := newSink(t, f)
	for _, sev := range []notification.Severity{notification.Info, notification.Warning, notification.Error, notification.Critical} {
		n := sinkstest.TemplatePaused()
		n.Severity = sev
		n.Title = strings.Repeat("t", 2000)
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
			t.Fatal(err)
		}
		got := f.last(t)
		p := got["payload"].(map[string]any)
		if p["severity"] != sev.String() {
			t.Errorf("severity %v: got %v", sev, p["severity"])
		}
		if p["component"] != "order_update" || p["class"] != "PAUSED" || p["group"] != "message_template_status_update" {
			t.Errorf("payload %v", p)
		}
		if n := len([]rune(p["summary"].(string))); n != 1024 {
			t.Errorf("summary length %d", n)
		}
	}
}

func TestResolveJSON(t *testing.T) {
	f := &fakePD{status: 202, answer: `{"status":"success","message":"Event processed","dedup_key":"alerts/104996122399160/OBA_APPROVED"}`}
	s := newSink(t, f)
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.AccountAlert()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != "alerts/104996122399160/OBA_APPROVED" {
		t.Errorf("ref %q", r.Ref)
	}
	want := mustJSON(t, `{"routing_key":"`+routingKey+`","event_action":"resolve","dedup_key":"alerts/104996122399160/OBA_APPROVED"}`)
	if got := f.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("received %v", got)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header map[string]string
		answer string
		retry  bool
		after  time.Duration
		text   string
	}{
		{"invalid", 400, nil, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`, false, 0,
			"invalid event: Event object is invalid (Length of 'routing_key' is incorrect (should be 32 characters))"},
		{"rate", 429, map[string]string{"Retry-After": "30"}, `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`, true, 30 * time.Second, "429"},
		{"server", 500, nil, `oops`, true, 0, "500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakePD{status: c.status, header: c.header, answer: c.answer}
			s := newSink(t, f)
			_, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Restriction()})
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
			sinkstest.AssertNoSecret(t, routingKey, err.Error())
		})
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	s, err := New(Config{RoutingKey: routingKey, EventsURL: u}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if retry, _ := sinks.IsRetryable(err); err == nil || !retry {
		t.Fatalf("want retryable, got %v", err)
	}
	sinkstest.AssertNoSecret(t, routingKey, err.Error())
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("want error for empty routing key")
	}
}
