package pagerduty

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// templateApproved is good news outside any incident: a template of an
// account the directory names was approved.
func templateApproved() notification.Notification {
	n := sinkstest.TemplatePaused()
	n.ID, n.Rule, n.Severity, n.Action = "n-approved-1", "templates-approved", notification.Info, notification.Change
	n.Title = "Template order_update (en_US) approved"
	n.Body = "The template can be sent again."
	n.DedupKey, n.Suppressed, n.SuppressedSince = "", 0, time.Time{}
	n.Runbook = "https://runbooks.example.com/whatsapp/templates"
	n.Event.Event, n.Event.Reason = "APPROVED", ""
	n.Event.Value = map[string]any{"event": "APPROVED", "message_template_name": "order_update"}
	n.Event.OtherInfo = event.OtherInfo{Title: "FIRST_APPROVAL", Description: "Approved after review."}
	n.Event.Account = event.Account{Name: "Acme Retail EU", Team: "growth"}
	return n
}

func changeSink(t *testing.T, p *pdPeer) *Sink {
	t.Helper()
	s, err := New(Config{RoutingKey: routingKey, EventsURL: p.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestChangeJSON: good news outside any incident reaches
// /v2/change/enqueue, not /v2/enqueue, in PagerDuty's documented shape
// (the peer holds it to testdata/schema/change_event.schema.json): the
// summary naming the account, an ISO 8601 timestamp, the WABA as source,
// the custom_details of a trigger, and links to WhatsApp Manager and the
// runbook; no dedup_key, action or severity.
func TestChangeJSON(t *testing.T) {
	p := newPeer(t)
	s := changeSink(t, p)
	n := templateApproved()
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != "" || r.Thread != "" || r.Detail != "success: Change event processed" {
		t.Errorf("receipt %+v", r)
	}
	if got := p.at(alertPath); len(got) != 0 {
		t.Errorf("a change went to %s: %s", alertPath, got[0])
	}
	bodies := p.at(changePath)
	if len(bodies) != 1 {
		t.Fatalf("%d change events", len(bodies))
	}
	checkGolden(t, "change_template_approved", bodies[0])

	var ev struct {
		RoutingKey string         `json:"routing_key"`
		Payload    map[string]any `json:"payload"`
		Links      []struct {
			Href string `json:"href"`
			Text string `json:"text"`
		} `json:"links"`
	}
	if err := json.Unmarshal(bodies[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RoutingKey != routingKey || ev.Payload["summary"] != "Acme Retail EU: Template order_update (en_US) approved" ||
		ev.Payload["timestamp"] != "2026-11-23T14:02:03Z" || ev.Payload["source"] != "whatsapp-business-account/104996122399160" {
		t.Errorf("payload %v", ev.Payload)
	}
	d, _ := ev.Payload["custom_details"].(map[string]any)
	if d["body"] != n.Body || d["description"] != "First approval: Approved after review." || d["rule"] != n.Rule ||
		d["account"] != "Acme Retail EU" || d["waba_id"] != "104996122399160" || d["incident"] != nil {
		t.Errorf("custom_details %v", d)
	}
	manager := sinks.ManagerURL(n)
	if len(ev.Links) != 2 || ev.Links[0].Href != manager || ev.Links[1].Href != n.Runbook || ev.Links[1].Text == "" {
		t.Errorf("links %+v, want %s and %s", ev.Links, manager, n.Runbook)
	}
}

// TestChangeErrors: PagerDuty's 429 and 5xx on a change event are worth
// retrying (after its Retry-After), a 400 is not and says why; neither
// error carries the routing key, even when PagerDuty echoes it.
func TestChangeErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		answer string
		retry  bool
		after  time.Duration
		text   string
	}{
		{"throttled", 429, http.Header{"Retry-After": {"20"}}, `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`, true, 20 * time.Second, "429"},
		{"server error", 500, nil, `oops`, true, 0, "500"},
		{"unavailable", 503, nil, `{"status":"unavailable","message":"try later"}`, true, 0, "503"},
		{"invalid", 400, nil, `{"status":"invalid event","message":"Event object is invalid","errors":["bad routing_key ` + routingKey + `"]}`, false, 0,
			"invalid event: Event object is invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPeer(t)
			p.answer = func(string) (int, http.Header, string) { return c.status, c.header, c.answer }
			s := changeSink(t, p)
			_, err := s.Send(context.Background(), sinks.Delivery{Notification: templateApproved()})
			if err == nil {
				t.Fatal("want an error")
			}
			if retry, after := sinks.IsRetryable(err); retry != c.retry || after != c.after {
				t.Errorf("retryable (%v, %v) from %v", retry, after, err)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			sinkstest.AssertNoSecret(t, routingKey, err.Error())
			if len(p.at(changePath)) != 1 || len(p.at(alertPath)) != 0 {
				t.Errorf("requests %v", p.all())
			}
		})
	}
}

// TestChangeAnswerNotUnderstood: a 202 whose body is not JSON still
// records the change, so it is not sent (and recorded) again.
func TestChangeAnswerNotUnderstood(t *testing.T) {
	p := newPeer(t)
	p.answer = func(string) (int, http.Header, string) { return http.StatusAccepted, nil, "<html>ok</html>" }
	s := changeSink(t, p)
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: templateApproved()})
	if err != nil || !strings.Contains(r.Detail, "202") {
		t.Errorf("receipt %+v, error %v", r, err)
	}
}

// TestSchemasRefuse: the schemas the peer holds events to refuse what
// PagerDuty documents as wrong, so a test passing through the peer
// proves the sink sent a documented event.
func TestSchemasRefuse(t *testing.T) {
	alert, change := compileSchema(t, "alert_event.schema.json"), compileSchema(t, "change_event.schema.json")
	key := `"routing_key":"` + routingKey + `"`
	long := strings.Repeat("s", 1025)
	cases := []struct {
		name   string
		change bool
		body   string
		ok     bool
	}{
		{"a documented trigger", false, `{` + key + `,"event_action":"trigger","dedup_key":"k","client":"wabarouter","client_url":"https://business.facebook.com/wa/manage/home/?waba_id=1","links":[{"href":"https://x.example/","text":"x"}],"payload":{"summary":"s","source":"s","severity":"info","timestamp":"2026-11-23T14:02:03Z","custom_details":{"a":1}}}`, true},
		{"a documented resolve", false, `{` + key + `,"event_action":"resolve","dedup_key":"k"}`, true},
		{"a trigger without payload", false, `{` + key + `,"event_action":"trigger"}`, false},
		{"a resolve without dedup_key", false, `{` + key + `,"event_action":"resolve"}`, false},
		{"an unknown severity", false, `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"s","severity":"fatal"}}`, false},
		{"a trigger summary over 1024", false, `{` + key + `,"event_action":"trigger","payload":{"summary":"` + long + `","source":"s","severity":"info"}}`, false},
		{"a documented change", true, `{` + key + `,"payload":{"summary":"s","source":"s","timestamp":"2026-11-23T14:02:03Z","custom_details":{"a":1}},"links":[{"href":"https://x.example/","text":"x"}]}`, true},
		{"a change of summary alone", true, `{` + key + `,"payload":{"summary":"s"}}`, true},
		{"a change without summary", true, `{` + key + `,"payload":{"source":"s"}}`, false},
		{"a change summary over 1024", true, `{` + key + `,"payload":{"summary":"` + long + `"}}`, false},
		{"a change with a dedup_key", true, `{` + key + `,"dedup_key":"k","payload":{"summary":"s"}}`, false},
		{"a change with a severity", true, `{` + key + `,"payload":{"summary":"s","severity":"info"}}`, false},
		{"a change with an event_action", true, `{` + key + `,"event_action":"trigger","payload":{"summary":"s"}}`, false},
		{"a change timestamp not ISO 8601", true, `{` + key + `,"payload":{"summary":"s","timestamp":"23/11/2026"}}`, false},
		{"a change link without href", true, `{` + key + `,"payload":{"summary":"s"},"links":[{"text":"x"}]}`, false},
		{"a change without routing_key", true, `{"payload":{"summary":"s"}}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := alert
			if c.change {
				s = change
			}
			err := schemaCheck(s, []byte(c.body))
			if (err == nil) != c.ok {
				t.Errorf("valid %v, want %v: %v", err == nil, c.ok, err)
			}
		})
	}
}
