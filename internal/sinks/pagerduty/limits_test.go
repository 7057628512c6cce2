package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestRoutingKeyNotInEchoedErrors: an Events endpoint that echoes the
// request, routing_key included, in its error leaves the key out of the
// error, which the router logs, the store keeps as last_error and
// `deadletter list` and `notify-test` print.
func TestRoutingKeyNotInEchoedErrors(t *testing.T) {
	shapes := map[string]func(req []byte) string{
		"raw request": func(req []byte) string { return string(req) },
		"events API error": func(req []byte) string {
			b, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid",
				"errors": []string{"bad routing_key in " + string(req)}})
			return string(b)
		},
		"escaped slashes": func(req []byte) string {
			return `{"received":` + strings.ReplaceAll(string(req), "/", `\/`) + `}`
		},
	}
	for _, status := range []int{400, 500} {
		for name, shape := range shapes {
			t.Run(fmt.Sprintf("%d %s", status, name), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					req, _ := io.ReadAll(r.Body)
					if !strings.Contains(string(req), routingKey) {
						t.Error("the request did not carry the key; the test would prove nothing")
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = io.WriteString(w, shape(req))
				}))
				defer srv.Close()
				s, err := New(Config{RoutingKey: routingKey, EventsURL: srv.URL}, srv.Client())
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range []notification.Notification{sinkstest.Restriction(), sinkstest.AccountAlert()} {
					_, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
					if err == nil {
						t.Fatal("want an error")
					}
					if retry, _ := sinks.IsRetryable(err); retry != (status >= 500) {
						t.Errorf("retryable %v for %d", retry, status)
					}
					sinkstest.AssertNoSecret(t, routingKey, err.Error())
					sinkstest.AssertNoSecret(t, routingKey[:8], err.Error())
				}
			})
		}
	}
}

// recordPD answers 202 and keeps every request body.
type recordPD struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (f *recordPD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	var ev struct {
		DedupKey string `json:"dedup_key"`
	}
	_ = json.Unmarshal(b, &ev)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)
}

// TestEventFitsPagerDutyLimits: a 1.2 MB description and a 600,000
// character title make an event PagerDuty takes: under 512 KB, a summary
// of at most 1024 characters, custom_details cut and saying so.
func TestEventFitsPagerDutyLimits(t *testing.T) {
	f := &recordPD{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := New(Config{RoutingKey: routingKey, EventsURL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	desc := strings.Repeat("description ", 100_000)
	n := sinkstest.AccountAlert()
	n.Action = notification.Trigger
	n.Title = "\u202e" + strings.Repeat("T", 600_000)
	n.Body = desc
	n.Event.AlertDescription = desc
	n.Event.Value = map[string]any{"alert_info": map[string]any{"alert_description": desc}}
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	if len(f.bodies) != 1 {
		t.Fatalf("%d requests", len(f.bodies))
	}
	body := f.bodies[0]
	if len(body) > MaxEventBytes {
		t.Errorf("event is %d bytes, PagerDuty takes %d", len(body), MaxEventBytes)
	}
	var ev struct {
		Payload struct {
			Summary       string         `json:"summary"`
			CustomDetails map[string]any `json:"custom_details"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	sum := ev.Payload.Summary
	if utf8.RuneCountInString(sum) > 1024 || !strings.HasPrefix(sum, "WABA 104996122399160: TTT") {
		t.Errorf("summary of %d runes: %.40q", utf8.RuneCountInString(sum), sum)
	}
	d := ev.Payload.CustomDetails
	e, _ := d["event"].(map[string]any)
	if d["waba_id"] != "104996122399160" || d["rule"] != "alerts" || e["alert_type"] != "OBA_APPROVED" {
		t.Errorf("custom_details lost the event's identity: %.300v", d)
	}
	if v, _ := e["value"].(string); !strings.Contains(v, "512 KB") {
		t.Errorf("value not replaced by a note: %.100v", e["value"])
	}
	for _, k := range []string{"body", "description"} {
		if v, _ := d[k].(string); !strings.HasPrefix(v, "description description") {
			t.Errorf("custom_details.%s lost its beginning: %.60q", k, v)
		}
	}
	if tr, _ := d[sinks.TruncatedKey].(string); !strings.Contains(tr, "PagerDuty") {
		t.Errorf("the cut is not marked: %v", d[sinks.TruncatedKey])
	}
}

// TestLongDedupKey: PagerDuty keeps 255 characters of a dedup_key; a
// longer key is sent shortened the same way for trigger and resolve, and
// two long keys sharing their beginning stay apart.
func TestLongDedupKey(t *testing.T) {
	f := &recordPD{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := New(Config{RoutingKey: routingKey, EventsURL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 300)
	trigger, resolve, other := sinkstest.Restriction(), sinkstest.AccountAlert(), sinkstest.Restriction()
	trigger.DedupKey, resolve.DedupKey, other.DedupKey = long+"/a", long+"/a", long+"/b"
	var refs []string
	for _, n := range []notification.Notification{trigger, resolve, other} {
		r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r.Ref)
	}
	var keys []string
	for _, b := range f.bodies {
		var ev struct {
			DedupKey string `json:"dedup_key"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(ev.DedupKey); n > 255 {
			t.Errorf("dedup_key of %d characters", n)
		}
		keys = append(keys, ev.DedupKey)
	}
	if keys[0] != keys[1] || keys[0] == keys[2] || refs[0] != keys[0] {
		t.Errorf("keys %q", keys)
	}
	if DedupKey("short/key") != "short/key" {
		t.Error("a short key must be sent as is")
	}
}

// TestDescriptionKeptWhole: an event too large for PagerDuty because of
// its raw value and the many strings of its event keeps Meta's 100 KB
// description and the body whole and cuts the rest, saying so.
func TestDescriptionKeptWhole(t *testing.T) {
	f := &recordPD{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := New(Config{RoutingKey: routingKey, EventsURL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	desc := strings.Repeat("Meta explains. ", 7_000) // 105 KB
	n := sinkstest.AccountAlert()
	n.Action = notification.Trigger
	n.Event.AlertDescription = desc
	n.Event.Value = map[string]any{"blob": strings.Repeat("v", 300_000)}
	n.Event.Types = []string{strings.Repeat("t", 250_000), strings.Repeat("u", 250_000)}
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	body := f.bodies[0]
	if len(body) > MaxEventBytes {
		t.Fatalf("event is %d bytes", len(body))
	}
	var ev struct {
		Payload struct {
			CustomDetails map[string]any `json:"custom_details"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	d := ev.Payload.CustomDetails
	if d["description"] != strings.TrimSpace(desc) || d["body"] != n.Body {
		t.Errorf("description of %d bytes, body %.40q: not whole", len(fmt.Sprint(d["description"])), d["body"])
	}
	if d[sinks.TruncatedKey] == nil || d["account"] != "WABA 104996122399160" {
		t.Errorf("the rest is not cut and marked, or lost the account: truncated=%v account=%v", d[sinks.TruncatedKey], d["account"])
	}
}
