package lifecycle

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// TestFlowsAlertCourse: Meta documents ACTIVATED and not the state a flow
// alert recovers with (WABA_WEBHOOKS.md §5.12, "do not hard-code"), so an
// alert is raised while its alert_state is ACTIVATED or missing, as the
// default severities read it, and over with any other state, DEACTIVATED
// or one Meta names otherwise. FLOW_STATUS_CHANGE keeps its own row.
func TestFlowsAlertCourse(t *testing.T) {
	const alert, status = "alert", "status"
	rowOf := func(c Course) string {
		switch {
		case c.Row == "":
			return ""
		case strings.Contains(c.Row, "FLOW_STATUS_CHANGE"):
			return status
		}
		return alert
	}
	tests := []struct {
		name     string
		ev       event.Event
		recovery bool
		rank     int
		row      string
	}{
		{"raised", event.Event{Field: "flows", Event: "ENDPOINT_ERROR_RATE", AlertState: "ACTIVATED"}, false, 1, alert},
		{"raised, no alert_state sent", event.Event{Field: "flows", Event: "ENDPOINT_LATENCY"}, false, 1, alert},
		{"over: DEACTIVATED", event.Event{Field: "flows", Event: "CLIENT_ERROR_RATE", AlertState: "DEACTIVATED"}, true, 0, alert},
		{"over: a state Meta does not document", event.Event{Field: "flows", Event: "ENDPOINT_AVAILABILITY", AlertState: "RESOLVED"}, true, 0, alert},
		{"an alert event this router does not know, with a state", event.Event{Field: "flows", Event: "ENDPOINT_NEW_ALERT", AlertState: "ACTIVATED"}, false, 1, alert},
		{"a status change is no alert", event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "BLOCKED"}, false, 2, status},
		{"a version expiry warning has no course", event.Event{Field: "flows", Event: "FLOW_VERSION_EXPIRY_WARNING"}, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Of(tt.ev)
			if got.Recovery != tt.recovery || got.Rank != tt.rank || rowOf(got) != tt.row {
				t.Errorf("Of(%s/%s alert_state %q) = %+v; want recovery %v, rank %d, row %q",
					tt.ev.Field, tt.ev.Event, tt.ev.AlertState, got, tt.recovery, tt.rank, tt.row)
			}
		})
	}
}

// TestEveryRowTakesWhatItSays: no row is hidden behind an earlier one, so
// each row of the documented table can decide some event.
func TestEveryRowTakesWhatItSays(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rows() {
		name := r.Field + " " + r.Events
		if seen[name] {
			t.Errorf("two rows are named %q; the decision log could not tell them apart", name)
		}
		seen[name] = true
		if r.Field == "" || r.Events == "" || r.Meaning == "" {
			t.Errorf("row %q lacks its field, events or meaning", name)
		}
	}
}
