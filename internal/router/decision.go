package router

import (
	"context"
	"log/slog"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// Outcome is what became of one notification a rule made for a sink.
type Outcome string

// The outcomes: queued for delivery, held back by dedup, not made for a
// sink that would not want it, or hidden by a silence.
const (
	Queued     Outcome = "queued"
	Suppressed Outcome = "suppressed"
	Skipped    Outcome = "skipped"
	Silenced   Outcome = "silenced"
)

// Decision is what routing made of one event. The log lines, the metrics
// and the dry run of `route` are all read off it, so what route shows is
// what serve does.
type Decision struct {
	WebhookID int64
	// Index is the event's place among its webhook's, from 0.
	Index int
	// Timer names the timer that made the decision, when no event did.
	Timer       string
	ReceivedAt  time.Time
	Event       event.Event
	Fingerprint string
	// Redelivery is set when the change was already routed within the
	// redelivery window; nothing else is then decided.
	Redelivery bool
	// RuleErrors are the rules that failed on this event; the others ran.
	RuleErrors []RuleFailure
	// Matched names the rules whose condition held, in order.
	Matched []string
	// Course names the lifecycle table's row that applied, if any.
	Course string
	// Incidents are the transitions the event made.
	Incidents []IncidentTransition
	// KeptOpen are the incidents the event would have resolved had it
	// not been told late.
	KeptOpen      []KeptOpen
	Notifications []NotificationDecision
}

// RuleFailure is one rule failing on one event.
type RuleFailure struct {
	Rule string
	Err  error
}

// NotificationDecision is one notification a matching rule made for one
// sink, and what became of it.
type NotificationDecision struct {
	Notification notification.Notification
	Outcome      Outcome
	// Reason says why a notification was suppressed, skipped or
	// silenced, or why a queued one is held.
	Reason string
	// Silence names the silence that hid it.
	Silence string
	// HeldUntil is when a notification a schedule holds goes out, on the
	// wall clock of that schedule; zero when it goes at once.
	HeldUntil time.Time
}

// Result is what routing made of one webhook. Err is set when routing it
// failed and was rolled back; it is then retried later, or parked when
// Parked is set. Decisions are only kept when Err is nil.
type Result struct {
	WebhookID int64
	Decisions []Decision
	Err       error
	Parked    bool
}

// record counts a committed webhook's decisions.
func (res Result) record(m *metrics.Metrics) {
	for _, d := range res.Decisions {
		if d.Redelivery {
			m.Redeliveries.Inc()
			continue
		}
		for _, it := range d.Incidents {
			m.IncidentTransitions.WithLabelValues(string(it.Transition)).Inc()
		}
		if d.Timer != "" {
			continue
		}
		m.Events.WithLabelValues(d.Event.Field, d.Event.Event).Inc()
		for _, f := range d.RuleErrors {
			if f.Rule != "" {
				m.RuleErrors.WithLabelValues(f.Rule).Inc()
			}
		}
		for _, rule := range d.Matched {
			m.RuleMatches.WithLabelValues(rule).Inc()
		}
		for _, n := range d.Notifications {
			if n.Outcome == Grouped {
				continue // made later, in the group's notification
			}
			m.Notifications.WithLabelValues(n.Notification.Sink, metrics.Created).Inc()
			switch n.Outcome {
			case Suppressed:
				m.Notifications.WithLabelValues(n.Notification.Sink, metrics.Suppressed).Inc()
			case Skipped:
				m.Notifications.WithLabelValues(n.Notification.Sink, metrics.Skipped).Inc()
			case Silenced:
				m.Notifications.WithLabelValues(n.Notification.Sink, metrics.Silenced).Inc()
			}
		}
	}
}

// log writes a committed webhook's decisions, one line per decision that
// matters, each with the event's WABA, field and event, and the rule.
func (res Result) log(ctx context.Context, log *slog.Logger) {
	for _, d := range res.Decisions {
		ev := d.Event
		base := []any{"webhook", res.WebhookID, "waba_id", ev.WabaID, "field", ev.Field, "event", ev.Event}
		if d.Redelivery {
			log.InfoContext(ctx, "redelivered change ignored", append(base, "fingerprint", short(d.Fingerprint))...)
			continue
		}
		for _, f := range d.RuleErrors {
			log.ErrorContext(ctx, "rule failed on event", append(base, "rule", f.Rule, "err", f.Err)...)
		}
		for _, it := range d.Incidents {
			attrs := append(base, "rule", it.Rule, "incident", it.ID, "key", it.Key, "episode", it.Episode, "seq", it.Seq)
			if it.Reason != "" {
				attrs = append(attrs, "reason", it.Reason)
			}
			if d.Timer != "" {
				attrs = append(attrs, "timer", d.Timer)
			}
			log.InfoContext(ctx, "incident "+string(it.Transition), attrs...)
		}
		if len(d.Matched) == 0 && d.Timer == "" {
			log.DebugContext(ctx, "no rule matched", base...)
		}
		for _, n := range d.Notifications {
			attrs := append(base, "rule", n.Notification.Rule, "sink", n.Notification.Sink,
				"id", n.Notification.ID, "severity", n.Notification.Severity, "action", n.Notification.Action)
			switch n.Outcome {
			case Queued:
				if !n.HeldUntil.IsZero() {
					log.InfoContext(ctx, "notification held", append(attrs, "until", n.HeldUntil, "reason", n.Reason)...)
					continue
				}
				log.InfoContext(ctx, "notification queued", attrs...)
			case Suppressed:
				log.InfoContext(ctx, "notification suppressed", append(attrs, "dedup_key", n.Notification.DedupKey, "reason", n.Reason)...)
			case Skipped:
				log.InfoContext(ctx, "notification not made for this sink", append(attrs, "reason", n.Reason)...)
			case Silenced:
				log.InfoContext(ctx, "notification silenced", append(attrs, "silence", n.Silence, "reason", n.Reason)...)
			case Grouped:
				log.InfoContext(ctx, "notification grouped", append(attrs, "until", n.HeldUntil, "reason", n.Reason)...)
			}
		}
	}
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}
