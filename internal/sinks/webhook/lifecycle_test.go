package webhook

import (
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest/play"
)

// TestLifecycle: every transition of an incident reaches the receiver, in
// order, each naming the incident, its state and its place in the
// episode (seq).
func TestLifecycle(t *testing.T) {
	r := e2etest.ServeWebhookReceiver(t, "s1gn", e2etest.WebhookReceiverOptions{})
	s, err := New(Config{URL: r.URL(), Secret: "s1gn"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	play.Through(t, s, sinkstest.Lifecycle())
	want := []struct {
		transition, state string
	}{{"opened", "open"}, {"updated", "open"}, {"escalated", "open"}, {"resolved", "resolved"}}
	got := r.Received()
	if len(got) != len(want) {
		t.Fatalf("%d deliveries:\n%s", len(got), r.Report())
	}
	for i, w := range want {
		inc := got[i].Notification.Incident
		if inc == nil || inc.ID != sinkstest.IncidentID || inc.Key != "quality/16505551234" || inc.Episode != 1 ||
			inc.Transition != w.transition || inc.State != w.state || inc.Seq != i+1 {
			t.Errorf("delivery %d: incident %+v, want %s, %s, seq %d of %s", i+1, inc, w.transition, w.state, i+1, sinkstest.IncidentID)
		}
	}
}
