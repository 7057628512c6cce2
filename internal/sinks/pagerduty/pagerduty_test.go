package pagerduty

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestTriggerJSON(t *testing.T) {
	f := &fakePD{status: 202, answer: `{"status":"success","message":"Event processed","dedup_key":"restrictions/104996122399160/RESTRICTED_BIZ_INITIATED_MESSAGING"}`}
	s := newSink(t, f)
	n := sinkstest.Restriction()
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != n.DedupKey || r.Detail != "success: Event processed" {
		t.Errorf("receipt %+v", r)
	}
	want := mustJSON(t, `{
	  "routing_key": "`+routingKey+`",
	  "event_action": "trigger",
	  "dedup_key": "restrictions/104996122399160/RESTRICTED_BIZ_INITIATED_MESSAGING",
	  "client": "wabarouter",
	  "links": [{"href": "https://business.facebook.com/wa/manage/home/?waba_id=104996122399160", "text": "Open in WhatsApp Manager"}],
	  "payload": {
	    "summary": "WABA 104996122399160 restricted: RESTRICTED_BIZ_INITIATED_MESSAGING",
	    "source": "whatsapp-business-account/104996122399160",
	    "severity": "critical",
	    "timestamp": "2026-11-23T14:02:03Z",
	    "component": "16505551234",
	    "group": "account_update",
	    "class": "ACCOUNT_RESTRICTION",
	    "custom_details": {
	      "object": "whatsapp_business_account",
	      "waba_id": "104996122399160",
	      "time": "2026-11-23T14:02:03Z",
	      "field": "account_update",
	      "event": "ACCOUNT_RESTRICTION",
	      "phone_number": "16505551234",
	      "restrictions": [{"type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": "2026-11-30T14:02:03Z"}],
	      "value": {"event": "ACCOUNT_RESTRICTION"}
	    }
	  }
	}`)
	if got := f.last(t); !reflect.DeepEqual(got, want) {
		gb, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("received:\n%s", gb)
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
