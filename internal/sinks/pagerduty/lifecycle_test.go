package pagerduty

import (
	"encoding/json"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest/play"
)

// TestLifecycle: an incident's opening triggers under its episode's
// dedup_key, the escalation triggers again under the same key with the
// new severity and summary, and the resolve closes that key, as a
// PagerDuty Events API peer receives them. A second episode of the same
// problem is a key of its own.
func TestLifecycle(t *testing.T) {
	f := e2etest.ServePagerDuty(t, routingKey, nil)
	s, err := New(Config{RoutingKey: routingKey, EventsURL: f.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := sinkstest.Lifecycle()
	// Routing gives a pager no updated transitions.
	episode := []notification.Notification{all[0], all[2], all[3]}
	second := all[0]
	second.ID, second.DedupKey = "n-open-2", "quality/16505551234#2"
	inc := *second.Incident
	inc.ID, inc.Episode = "inc-quality-16505551234-2", 2
	second.Incident = &inc
	receipts := play.Through(t, s, append(episode, second))

	key := "quality/16505551234"
	f.Want(1, "the opening's trigger", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && e.Event.DedupKey == key && e.Severity() == "warning" && e.Summary() == "Quality of +1 650-555-1234 is YELLOW"
	})
	f.Want(1, "the escalation's trigger under the same key", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && e.Event.DedupKey == key && e.Severity() == "error" && e.Summary() == "Quality of +1 650-555-1234 is RED"
	})
	f.Want(1, "the resolve of that key", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "resolve" && e.Event.DedupKey == key
	})
	f.Want(1, "the second episode's trigger under a key of its own", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && e.Event.DedupKey == key+"#2"
	})
	f.Check(t)
	got := f.Received()
	if len(got) == 4 && (got[1].Event.Action != "trigger" || got[2].Event.Action != "resolve") {
		t.Errorf("out of order: %v", got)
	}
	for i, r := range receipts {
		if r.Ref != DedupKey([]notification.Notification{all[0], all[2], all[3], second}[i].DedupKey) || r.Thread != "" {
			t.Errorf("receipt %d: %+v", i, r)
		}
	}
	// The escalation says what changed in its custom details.
	var details struct {
		Incident notification.Incident `json:"incident"`
	}
	raw, _ := json.Marshal(got[1].Event.Payload.Details)
	if err := json.Unmarshal(raw, &details); err != nil || details.Incident.Transition != notification.Escalated ||
		details.Incident.Count != 3 || len(details.Incident.Changes) != 2 || details.Incident.ID != sinkstest.IncidentID {
		t.Errorf("escalation's custom_details.incident = %+v (%v)", details.Incident, err)
	}
}
