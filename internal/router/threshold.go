package router

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/wabarouter/wabarouter/internal/lifecycle"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// timerThreshold checks, a window after a threshold rule's incident
// opened, whether its matches have fallen below the threshold.
const timerThreshold = "threshold-check"

// windowStart is the first bucket a window ending at at sums: the first
// that starts at or after at-within, so that every match the window
// counts is at most within old (a window counts between nine tenths of
// within and all of it, never more).
func windowStart(th *rules.Threshold, at time.Time) time.Time {
	from := at.Add(-th.Within)
	start := from.Truncate(th.Bucket())
	if start.Before(from) {
		start = start.Add(th.Bucket())
	}
	return start
}

// counted is the threshold stage of a match of a rule with a threshold:
// the match is counted under its key, at the time the webhook was
// accepted (so that a backlog routed late counts as it came in, and a
// webhook routed again after a crash counts once: the count is in the
// routing transaction). Below the threshold it makes no notification,
// on record; at the match that crosses it, the rule's incident opens
// through the incident stage, with a timer to check a window later
// whether the rate fell back; while the incident is open, every match
// updates it.
func (r *Router) counted(ctx context.Context, tx store.Tx, ec *eventCtx, m rules.Match, course lifecycle.Course) error {
	th := m.Rule.Threshold
	bucket := th.Bucket()
	at := ec.accepted
	start := at.Truncate(bucket)
	n, err := tx.AddCount(ctx, store.Count{Rule: m.Rule.Name, Key: m.DedupKey, Bucket: start,
		Expires: start.Add(bucket + th.Within)}, windowStart(th, at))
	if err != nil {
		return err
	}
	inc, found, err := tx.Incident(ctx, m.Rule.Name, m.DedupKey)
	if err != nil {
		return err
	}
	open := found && inc.State == stateOpen
	if !open && n < th.Count {
		reason := fmt.Sprintf("threshold: %d of %d within %s for %s", n, th.Count, rules.ShortDuration(th.Within),
			th.Counted(m.Rule.Name, m.DedupKey))
		for _, nt := range m.Notifications(ec.now) {
			nt.ID = notificationID(ec.fp, m.Rule.Name, nt.Sink)
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: nt, Outcome: Skipped, Reason: reason})
		}
		return nil
	}
	if err := r.trigger(ctx, tx, ec, m, course); err != nil {
		return err
	}
	if open {
		return nil
	}
	episode := 1
	if found {
		episode = inc.Episode + 1
	}
	return tx.SetTimer(ctx, store.Timer{IncidentID: incidentID(m.Rule.Name, m.DedupKey, episode), Kind: timerThreshold,
		Due: ec.now.Add(th.Within)})
}

// checkThreshold runs a threshold rule's check of its open incident: when
// fewer than its count of matches fall within the window that ends now,
// the rate fell back below the threshold and the incident resolves;
// otherwise the check comes again a bucket later. open says the incident
// stays open, with nothing to record.
func (r *Router) checkThreshold(ctx context.Context, tx store.Tx, ec *eventCtx, inc store.Incident, t store.Timer) (open bool, err error) {
	rule := ec.set.Rule(inc.Rule)
	if rule == nil || rule.Threshold == nil {
		// The rule is gone or counts no more: its incident is left to
		// whatever else ends it, as a rule's reminders are.
		return true, tx.DeleteTimer(ctx, t)
	}
	th := rule.Threshold
	since := windowStart(th, ec.now)
	n, err := tx.CountSince(ctx, rule.Name, inc.Key, since)
	if err != nil {
		return true, err
	}
	if n >= th.Count {
		return true, tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerThreshold, Due: ec.now.Add(th.Bucket())})
	}
	reason := fmt.Sprintf("fewer than %d within %s: %s since %s", th.Count, rules.ShortDuration(th.Within),
		matches(n), since.UTC().Format("2006-01-02 15:04:05 UTC"))
	return false, r.resolve(ctx, tx, ec, inc, reason, nil)
}

func matches(n int) string {
	if n == 1 {
		return "1 match"
	}
	return strconv.Itoa(n) + " matches"
}
