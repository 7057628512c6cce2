package sinkstest

import (
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// IncidentID is the incident of the Lifecycle notifications.
const IncidentID = "inc-quality-16505551234-1"

// Lifecycle is one incident's transitions as the router makes them for
// one sink, in order: a number's quality goes YELLOW (opened, warning),
// YELLOW again (updated), RED (escalated to error) and GREEN (resolved,
// keeping the incident's severity).
func Lifecycle() []notification.Notification {
	opened := Time
	quality := func(id string, at time.Time, sev notification.Severity, prev, next string, tr notification.Transition, seq, count int) notification.Notification {
		n := notification.Notification{
			ID: id, Sink: "test", Rule: "quality", Severity: sev, Action: notification.Trigger,
			Title:    "Quality of +1 650-555-1234 is " + next,
			Body:     "Quality went from " + prev + " to " + next + ".",
			DedupKey: "quality/16505551234", CreatedAt: at,
			Event: event.Event{Object: event.ObjectWABA, WabaID: "104996122399160", Time: at,
				Field: "phone_number_quality_update", Event: "FLAGGED", PhoneNumber: "16505551234",
				PreviousQualityScore: prev, NewQualityScore: next, Value: map[string]any{"event": "FLAGGED"}},
			Incident: &notification.Incident{ID: IncidentID, Key: "quality/16505551234", Episode: 1, Transition: tr,
				State: notification.Open, Seq: seq, Count: count, OpenedAt: opened, LastSeen: at},
		}
		return n
	}
	open := quality("n-open", opened, notification.Warning, "GREEN", "YELLOW", notification.Opened, 1, 1)
	update := quality("n-update", opened.Add(time.Minute), notification.Warning, "GREEN", "YELLOW", notification.Updated, 2, 2)
	escalate := quality("n-escalate", opened.Add(3*time.Minute), notification.Error, "YELLOW", "RED", notification.Escalated, 3, 3)
	escalate.Event.Event = "DOWNGRADE"
	escalate.Incident.Changes = []string{"severity warning → error", "worse: phone_number_quality_update/DOWNGRADE RED"}
	resolved := opened.Add(10 * time.Minute)
	resolve := quality("n-resolve", resolved, notification.Error, "RED", "GREEN", notification.Resolved, 4, 3)
	resolve.Action = notification.Resolve
	resolve.Title = escalate.Title
	resolve.Body = "Resolved: ended by phone_number_quality_update/UPGRADE GREEN."
	resolve.Event.Event = "UPGRADE"
	resolve.Incident.State = notification.ResolvedState
	resolve.Incident.LastSeen = escalate.Incident.LastSeen
	resolve.Incident.ResolvedAt = resolved
	resolve.Incident.Reason = "ended by phone_number_quality_update/UPGRADE GREEN"
	return []notification.Notification{open, update, escalate, resolve}
}
