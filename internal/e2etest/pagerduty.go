package e2etest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

// PagerDuty's Events API v2 limits, as its documentation gives them.
const (
	pagerDutyMaxEvent    = 512 << 10
	pagerDutyMaxSummary  = 1024
	pagerDutyMaxDedupKey = 255
)

// PagerDutyEvent is one event a PagerDutyFake accepted.
type PagerDutyEvent struct {
	// At is when the request arrived.
	At time.Time
	// Header is the request's header.
	Header http.Header
	// Body is the request's body as sent.
	Body []byte
	// Event is Body decoded with the PagerDuty client library's own type.
	Event pd.V2Event
}

// Summary is the trigger's payload summary ("" for other actions).
func (e PagerDutyEvent) Summary() string {
	if e.Event.Payload == nil {
		return ""
	}
	return e.Event.Payload.Summary
}

// Severity is the trigger's payload severity ("" for other actions).
func (e PagerDutyEvent) Severity() string {
	if e.Event.Payload == nil {
		return ""
	}
	return e.Event.Payload.Severity
}

// String describes the event in reports.
func (e PagerDutyEvent) String() string {
	return fmt.Sprintf("%s dedup_key=%q severity=%s summary=%q", e.Event.Action, e.Event.DedupKey, e.Severity(), e.Summary())
}

// PagerDutyFake is PagerDuty's Events API v2 endpoint (POST /v2/enqueue,
// and POST /v2/change/enqueue for change events, recorded with the action
// "change"):
// it validates each event as PagerDuty documents it (routing key, action,
// dedup_key length, a trigger's summary, source and severity, 512 KB per
// event), answers 202 with the dedup_key, and records it. An invalid event
// is answered 400 "invalid event" and recorded as refused, which fails
// Check.
type PagerDutyFake struct {
	*Collector[PagerDutyEvent]
	routingKey string
	respond    Responder[PagerDutyEvent]
	url        string
	attempts   atomic.Int64
}

// ServePagerDuty serves a fake that accepts events for routingKey until t
// ends; respond may be nil. Its URL goes in the sink's events_url.
func ServePagerDuty(t TB, routingKey string, respond Responder[PagerDutyEvent]) *PagerDutyFake {
	f := &PagerDutyFake{Collector: NewCollector("pagerduty", PagerDutyEvent.String), routingKey: routingKey, respond: respond}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/enqueue", f.enqueue)
	mux.HandleFunc("POST /v2/change/enqueue", f.change)
	f.url = serve(t, mux).URL
	return f
}

// URL is the fake's base URL; the Events API lives under /v2/enqueue, its
// change events under /v2/change/enqueue.
func (f *PagerDutyFake) URL() string { return f.url }

// Attempts counts the valid events received, whatever they were answered,
// retries included.
func (f *PagerDutyFake) Attempts() int64 { return f.attempts.Load() }

func (f *PagerDutyFake) enqueue(w http.ResponseWriter, r *http.Request) {
	ev := PagerDutyEvent{At: time.Now(), Header: r.Header}
	body, err := io.ReadAll(io.LimitReader(r.Body, pagerDutyMaxEvent+1))
	if err != nil {
		f.invalid(w, nil, "reading the body: "+err.Error())
		return
	}
	ev.Body = body
	if len(body) > pagerDutyMaxEvent {
		f.invalid(w, body, fmt.Sprintf("event is larger than %d bytes", pagerDutyMaxEvent))
		return
	}
	if err := json.Unmarshal(body, &ev.Event); err != nil {
		f.invalid(w, body, "not a JSON event: "+err.Error())
		return
	}
	if problems := f.validate(ev.Event); len(problems) > 0 {
		f.invalid(w, body, problems...)
		return
	}
	f.attempts.Add(1)
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), ev)
	}
	key := ev.Event.DedupKey
	if key == "" {
		key = fmt.Sprintf("fake-%d", time.Now().UnixNano())
	}
	if a.success() {
		f.Add(ev)
	}
	ok, _ := json.Marshal(pd.V2EventResponse{Status: "success", Message: "Event processed", DedupKey: key})
	a.write(w, http.StatusAccepted, "application/json", string(ok))
}

// change takes a change event: routing_key and a payload summary of at
// most 1024 characters are required, and PagerDuty answers 202.
func (f *PagerDutyFake) change(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, pagerDutyMaxEvent+1))
	if err != nil || len(body) > pagerDutyMaxEvent {
		f.invalid(w, body, "the change event could not be read or is larger than 512 KB")
		return
	}
	var ce pd.ChangeEvent
	if err := json.Unmarshal(body, &ce); err != nil {
		f.invalid(w, body, "not a JSON change event: "+err.Error())
		return
	}
	var problems []string
	if ce.RoutingKey != f.routingKey {
		problems = append(problems, "routing_key is not the service's integration key")
	}
	if s := ce.Payload.Summary; strings.TrimSpace(s) == "" || len(s) > pagerDutyMaxSummary {
		problems = append(problems, fmt.Sprintf("payload.summary must be 1 to %d characters", pagerDutyMaxSummary))
	}
	if ts := ce.Payload.Timestamp; ts != "" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			problems = append(problems, fmt.Sprintf("payload.timestamp %q is not ISO 8601", ts))
		}
	}
	if len(problems) > 0 {
		f.invalid(w, body, problems...)
		return
	}
	ev := PagerDutyEvent{At: time.Now(), Header: r.Header, Body: body, Event: pd.V2Event{RoutingKey: ce.RoutingKey, Action: "change",
		Payload: &pd.V2Payload{Summary: ce.Payload.Summary, Source: ce.Payload.Source, Timestamp: ce.Payload.Timestamp, Details: ce.Payload.CustomDetails}}}
	f.attempts.Add(1)
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), ev)
	}
	if a.success() {
		f.Add(ev)
	}
	ok, _ := json.Marshal(pd.ChangeEventResponse{Status: "success", Message: "Change event processed"})
	a.write(w, http.StatusAccepted, "application/json", string(ok))
}

// validate lists what PagerDuty would refuse in ev.
func (f *PagerDutyFake) validate(ev pd.V2Event) []string {
	var problems []string
	if ev.RoutingKey != f.routingKey {
		problems = append(problems, "routing_key is not the service's integration key")
	}
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, ev.Action) {
		problems = append(problems, fmt.Sprintf("event_action %q is not trigger, acknowledge or resolve", ev.Action))
	}
	if len(ev.DedupKey) > pagerDutyMaxDedupKey {
		problems = append(problems, fmt.Sprintf("dedup_key is longer than %d characters", pagerDutyMaxDedupKey))
	}
	if ev.Action != "trigger" {
		if ev.DedupKey == "" {
			problems = append(problems, "dedup_key is required for "+ev.Action)
		}
		return problems
	}
	p := ev.Payload
	if p == nil {
		return append(problems, "payload is required for a trigger")
	}
	if strings.TrimSpace(p.Summary) == "" || len(p.Summary) > pagerDutyMaxSummary {
		problems = append(problems, fmt.Sprintf("payload.summary must be 1 to %d characters", pagerDutyMaxSummary))
	}
	if strings.TrimSpace(p.Source) == "" {
		problems = append(problems, "payload.source is required")
	}
	if !slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity) {
		problems = append(problems, fmt.Sprintf("payload.severity %q is not critical, error, warning or info", p.Severity))
	}
	if p.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
			problems = append(problems, fmt.Sprintf("payload.timestamp %q is not ISO 8601", p.Timestamp))
		}
	}
	return problems
}

// invalid answers as PagerDuty does an event it refuses.
func (f *PagerDutyFake) invalid(w http.ResponseWriter, body []byte, problems ...string) {
	f.Refuse(fmt.Sprintf("%s in %.200s", strings.Join(problems, "; "), body))
	b, _ := json.Marshal(pd.V2EventResponse{Status: "invalid event", Message: "Event object is invalid", Errors: problems})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}
