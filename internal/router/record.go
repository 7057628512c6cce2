package router

import (
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// Record is a decision as the decision log keeps it and `why` shows it:
// what one event was, what each rule made of it, what became of its
// incidents, and each notification made or not made, and why.
type Record struct {
	WebhookID  int64     `json:"webhook_id"`
	Index      int       `json:"index"`
	ReceivedAt time.Time `json:"received_at"`
	WabaID     string    `json:"waba_id"`
	Field      string    `json:"field"`
	Event      string    `json:"event"`
	// Timer names the timer that made the decision, for one no event made.
	Timer       string `json:"timer,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Redelivery  bool   `json:"redelivery,omitempty"`
	// Rules are the rules that matched or failed; every other rule ran
	// and did not match.
	Rules         []RuleRecord         `json:"rules"`
	Course        string               `json:"course,omitempty"`
	Incidents     []IncidentTransition `json:"incidents"`
	KeptOpen      []KeptOpen           `json:"kept_open,omitempty"`
	Notifications []NotificationRecord `json:"notifications"`
}

// RuleRecord is what one rule made of the event.
type RuleRecord struct {
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	Error   string `json:"error,omitempty"`
}

// NotificationRecord is one notification made, or not made and why.
type NotificationRecord struct {
	ID         string                  `json:"id"`
	Sink       string                  `json:"sink"`
	Rule       string                  `json:"rule"`
	IncidentID string                  `json:"incident_id,omitempty"`
	Transition notification.Transition `json:"transition,omitempty"`
	Severity   string                  `json:"severity"`
	Title      string                  `json:"title"`
	Outcome    Outcome                 `json:"outcome"`
	Reason     string                  `json:"reason,omitempty"`
	// Silence names the silence that hid the notification.
	Silence string `json:"silence,omitempty"`
	// HeldUntil is when a queued notification a schedule holds goes out.
	HeldUntil time.Time `json:"held_until,omitzero"`
}

// Record is d as the decision log keeps it.
func (d Decision) Record() Record {
	rec := Record{WebhookID: d.WebhookID, Index: d.Index, ReceivedAt: d.ReceivedAt, WabaID: d.Event.WabaID, Field: d.Event.Field,
		Event: d.Event.Event, Timer: d.Timer, Fingerprint: d.Fingerprint, Redelivery: d.Redelivery, Course: d.Course,
		Rules: []RuleRecord{}, Incidents: d.Incidents, KeptOpen: d.KeptOpen, Notifications: []NotificationRecord{}}
	if rec.Incidents == nil {
		rec.Incidents = []IncidentTransition{}
	}
	for _, rule := range d.Matched {
		rec.Rules = append(rec.Rules, RuleRecord{Rule: rule, Matched: true})
	}
	for _, f := range d.RuleErrors {
		msg := ""
		if f.Err != nil {
			msg = f.Err.Error()
		}
		rec.Rules = append(rec.Rules, RuleRecord{Rule: f.Rule, Error: msg})
	}
	for _, n := range d.Notifications {
		nr := NotificationRecord{ID: n.Notification.ID, Sink: n.Notification.Sink, Rule: n.Notification.Rule,
			Severity: n.Notification.Severity.String(), Title: n.Notification.Title, Outcome: n.Outcome, Reason: n.Reason,
			Silence: n.Silence, HeldUntil: n.HeldUntil}
		if inc := n.Notification.Incident; inc != nil {
			nr.IncidentID, nr.Transition = inc.ID, inc.Transition
		}
		rec.Notifications = append(rec.Notifications, nr)
	}
	return rec
}
