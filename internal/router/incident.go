package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/lifecycle"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Incident states as the store keeps them.
const (
	stateOpen     = string(notification.Open)
	stateResolved = string(notification.ResolvedState)
)

// Timer kinds.
const (
	timerExpiry = "expiry"
	timerRemind = "remind"
)

// IncidentTransition is one transition an event (or a timer) made.
type IncidentTransition struct {
	ID         string                  `json:"id"`
	Rule       string                  `json:"rule"`
	Key        string                  `json:"key"`
	Episode    int                     `json:"episode"`
	Seq        int                     `json:"seq"`
	Transition notification.Transition `json:"transition"`
	Reason     string                  `json:"reason,omitempty"`
}

// detail is the router's own state of an incident, kept in
// store.Incident.Detail.
type detail struct {
	// Rank is the worst lifecycle rank seen in the episode.
	Rank int `json:"rank,omitempty"`
	// Ends is when the problem ends by itself (a restriction's expiry).
	Ends time.Time `json:"ends,omitzero"`
	// Notified is when the sinks were last told of it (for renotify).
	Notified time.Time `json:"notified,omitzero"`
	// Event is the latest event, without its raw value, for what timers
	// send.
	Event event.Event `json:"event"`
	// Silences are the silences that hid the incident's notifications and
	// have not ended yet: when one ends, the incident is told then.
	Silences []string `json:"silences,omitempty"`
	// Group is a grouping rule's incident's items (see group.go).
	Group *groupState `json:"group,omitempty"`
	// Latest is when, by Meta's clock (its entry's time), the newest
	// event of the episode that reported the problem happened; Ended is
	// when the event that resolved the episode did. Either is zero when
	// no event said: a timer resolved it, or the payloads had no time.
	// An event older than them was told late (see toldLate).
	Latest time.Time `json:"latest,omitzero"`
	Ended  time.Time `json:"ended,omitzero"`
}

// toldLate says whether an event that happened at happened before mark,
// both being known. Meta does not promise to deliver an account's events
// in order, and retries a delivery that failed for hours, so a DISABLE can
// arrive after the REINSTATE that ended it: it must not page again for a
// ban that is over, nor a late REINSTATE close a ban that came back.
func toldLate(at, mark time.Time) bool { return !at.IsZero() && !mark.IsZero() && at.Before(mark) }

// KeptOpen is an open incident an event would have resolved and did not:
// the event happened before the incident's latest report of the problem,
// so it was told late and the problem is still on.
type KeptOpen struct {
	ID      string `json:"id"`
	Rule    string `json:"rule"`
	Key     string `json:"key"`
	Episode int    `json:"episode"`
	Reason  string `json:"reason"`
}

// clock writes a time of Meta's clock for a reason in the decision log.
func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func decodeDetail(b []byte) detail {
	var d detail
	if len(b) > 0 {
		_ = json.Unmarshal(b, &d) // a detail that cannot be read starts over
	}
	return d
}

func (d detail) encode() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		return nil
	}
	return b
}

// trimmed is what a timer's notification needs of ev: what it is about
// and when, not the rest of what Meta said. It is kept with the incident
// and written at every event, so it is kept small.
func trimmed(ev event.Event) event.Event {
	return event.Event{Object: ev.Object, WabaID: ev.WabaID, Time: ev.Time, Field: ev.Field, Event: ev.Event,
		PhoneNumber: ev.PhoneNumber, PhoneNumberID: ev.PhoneNumberID, Types: ev.Types, Restrictions: ev.Restrictions,
		BanState: ev.BanState, BanDate: ev.BanDate, TemplateID: ev.TemplateID, TemplateName: ev.TemplateName,
		TemplateLanguage: ev.TemplateLanguage, FlowID: ev.FlowID, AlertType: ev.AlertType, EntityType: ev.EntityType,
		EntityID: ev.EntityID}
}

// incidentID names an episode: the same rule, key and episode give the
// same ID, so routing a webhook again after a crash finds the incident
// it made.
func incidentID(rule, key string, episode int) string {
	sum := sha256.Sum256([]byte(rule + "\x00" + key + "\x00" + strconv.Itoa(episode)))
	return "inc-" + hex.EncodeToString(sum[:8])
}

// episodeKey is the key sinks see (PagerDuty's dedup_key, the e-mail
// thread): the problem key, and after a resolve the episode too, so a new
// episode is a new PagerDuty incident.
func episodeKey(key string, episode int) string {
	if episode <= 1 {
		return key
	}
	return key + "#" + strconv.Itoa(episode)
}

// SinkPolicy is what routing needs to know of a sink.
type SinkPolicy struct {
	// MinSeverity decides whether the sink hears of an incident at all;
	// once it did, every transition of it reaches the sink.
	MinSeverity notification.Severity
	// Skips are the transitions the sink takes no notification for, such
	// as updates for a pager that must not page again on repeats.
	Skips []notification.Transition
}

func (p SinkPolicy) takes(t notification.Transition) bool { return !slices.Contains(p.Skips, t) }

// eventCtx is what the incident stage needs to know of the event it
// works for.
type eventCtx struct {
	set      *rules.Set
	ev       event.Event
	fp       string
	accepted time.Time
	now      time.Time
	d        *Decision
	// touched are the incidents this event made a transition of already,
	// so two rules or a rule and the schema do not both act on one.
	touched map[string]bool
	// silence hides the event's notifications; nil when none does.
	silence *store.Silence
}

// recoveries resolves what the event ends: by the schema (a REINSTATE
// ends a ban), by a rule's own resolve_when, or by a resolve rule.
func (r *Router) recoveries(ctx context.Context, tx store.Tx, ec *eventCtx, course lifecycle.Course, matches []rules.Match) error {
	if course.Recovery {
		key, err := event.ProblemKey(ec.ev)
		if err == nil {
			open, err := tx.OpenIncidents(ctx, key)
			if err != nil {
				return err
			}
			for _, inc := range open {
				rule := ec.set.Rule(inc.Rule)
				if rule != nil && (rule.ResolveNever || rule.ResolveWhen != "" || rule.DedupKey != "") {
					continue // such a rule says itself what ends its incidents
				}
				if err := r.resolve(ctx, tx, ec, inc, "ended by "+describe(ec.ev), nil); err != nil {
					return err
				}
			}
		}
	}
	for _, rule := range ec.set.Rules {
		if rule.Action == notification.Resolve || rule.ResolveNever || (rule.ResolveWhen == "" && (rule.DedupKey == "" || !course.Recovery)) {
			continue
		}
		recovers, err := recovers(rule, course, ec.ev)
		if err != nil {
			ec.d.RuleErrors = append(ec.d.RuleErrors, RuleFailure{Rule: rule.Name, Err: err})
			continue
		}
		if !recovers {
			continue
		}
		key, err := ec.set.IncidentKey(rule, ec.ev)
		if err != nil {
			// The rule's key need not make sense of an event its own
			// condition would not take; it then has no incident here.
			continue
		}
		inc, found, err := tx.Incident(ctx, rule.Name, key)
		if err != nil {
			return err
		}
		if found && inc.State == stateOpen && !ec.touched[inc.ID] {
			reason := "ended by " + describe(ec.ev)
			if rule.ResolveWhen != "" {
				reason = "resolve_when of rule " + strconv.Quote(rule.Name) + " held for " + describe(ec.ev)
			}
			if err := r.resolve(ctx, tx, ec, inc, reason, nil); err != nil {
				return err
			}
		}
	}
	for _, m := range matches {
		if m.Action != notification.Resolve {
			continue
		}
		open, err := tx.OpenIncidents(ctx, m.DedupKey)
		if err != nil {
			return err
		}
		for _, inc := range open {
			if ec.touched[inc.ID] {
				continue
			}
			if err := r.resolve(ctx, tx, ec, inc, "resolved by rule "+strconv.Quote(m.Rule.Name), m.Sinks); err != nil {
				return err
			}
		}
	}
	return nil
}

// recovers says whether ev ends rule's incidents: its resolve_when when it
// has one, else the schema.
func recovers(rule *rules.Rule, course lifecycle.Course, ev event.Event) (bool, error) {
	if rule.ResolveNever {
		return false, nil
	}
	if rule.ResolveWhen != "" {
		return rule.Recovers(ev)
	}
	return course.Recovery, nil
}

// describe names an event for a resolve's reason.
func describe(ev event.Event) string {
	s := ev.Field + "/" + ev.Event
	for _, state := range []string{ev.BanState, ev.NewQualityScore, ev.Decision, ev.AlertState, ev.AlertStatus, ev.NewStatus} {
		if state != "" && state != ev.Event {
			return s + " " + state
		}
	}
	return s
}

// trigger runs a matching rule's event through its incident: it opens an
// episode, updates it, escalates it or reminds of it, and makes the
// notifications for the rule's sinks.
func (r *Router) trigger(ctx context.Context, tx store.Tx, ec *eventCtx, m rules.Match, course lifecycle.Course) error {
	rule := m.Rule
	inc, found, err := tx.Incident(ctx, rule.Name, m.DedupKey)
	if err != nil {
		return err
	}
	if found && ec.touched[inc.ID] {
		return nil // resolved by this very event
	}
	det := decodeDetail(inc.Detail)
	if found && inc.State != stateOpen && toldLate(ec.ev.Time, det.Ended) {
		// The last episode ended with an event newer than this one: the
		// problem this one reports was over before it was told.
		reason := fmt.Sprintf("told late: it happened at %s, before the event that resolved incident %s (%s)",
			clock(ec.ev.Time), inc.ID, clock(det.Ended))
		for _, n := range incidentNotifications(ec, m, inc, nil) {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Suppressed, Reason: reason})
		}
		return nil
	}
	var tr notification.Transition
	var changes []string
	switch {
	case !found || inc.State != stateOpen:
		episode := 1
		if found {
			episode = inc.Episode + 1
		}
		inc = store.Incident{ID: incidentID(rule.Name, m.DedupKey, episode), Rule: rule.Name, Key: m.DedupKey, Episode: episode,
			WabaID: ec.ev.WabaID, State: stateOpen, Severity: int(m.Severity), Title: m.Title, Events: 1, Seq: 1,
			OpenedAt: ec.now, UpdatedAt: ec.now}
		det = detail{Rank: course.Rank}
		tr = notification.Opened
	default:
		inc.Events++
		inc.Seq++
		inc.UpdatedAt = ec.now
		was := notification.Severity(inc.Severity)
		switch {
		case m.Severity > was || course.Rank > det.Rank:
			tr = notification.Escalated
			if m.Severity > was {
				changes = append(changes, fmt.Sprintf("severity %s → %s", was, m.Severity))
				inc.Severity = int(m.Severity)
			}
			if course.Rank > det.Rank {
				changes = append(changes, "worse: "+describe(ec.ev))
				det.Rank = course.Rank
			}
			inc.Title = m.Title
		case rule.Renotify > 0 && ec.now.Sub(det.Notified) >= rule.Renotify:
			tr = notification.Reminded
		default:
			tr = notification.Updated
		}
	}
	det.Event = trimmed(ec.ev)
	if ec.ev.Time.After(det.Latest) {
		det.Latest = ec.ev.Time
	}
	if course.Ends.After(det.Ends) && !rule.ResolveNever {
		det.Ends = course.Ends
		if err := tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerExpiry, Due: det.Ends}); err != nil {
			return err
		}
	}
	if tr != notification.Updated {
		det.Notified = ec.now
		if rule.Renotify > 0 {
			if err := tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerRemind, Due: ec.now.Add(rule.Renotify)}); err != nil {
				return err
			}
		}
	}
	if ec.silence != nil {
		if err := r.hide(ctx, tx, &det, ec.silence); err != nil {
			return err
		}
	}
	inc.Detail = det.encode()
	ec.touched[inc.ID] = true
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: tr})
	info := incidentInfo(inc, tr, changes, "")
	ns := incidentNotifications(ec, m, inc, &info)
	// Saved once the sinks that hear of it are known, in one write.
	if err := r.send(ctx, tx, ec, &inc, ns); err != nil {
		return err
	}
	return tx.SaveIncident(ctx, inc)
}

// incidentNotifications are match m's notifications about inc's episode,
// with info for the transition they tell (nil when they tell none).
func incidentNotifications(ec *eventCtx, m rules.Match, inc store.Incident, info *notification.Incident) []notification.Notification {
	ns := m.Notifications(ec.now)
	for i := range ns {
		ns[i].ID = notificationID(ec.fp, m.Rule.Name, ns[i].Sink)
		ns[i].DedupKey = episodeKey(inc.Key, inc.Episode)
		ns[i].Incident = info
	}
	return ns
}

// announce queues a rule's good news (action: change) for its sinks, outside
// any incident: nothing opens, nothing will resolve, and a redelivery was
// already turned away before the rules ran.
func (r *Router) announce(ctx context.Context, tx store.Tx, ec *eventCtx, m rules.Match) error {
	for _, n := range m.Notifications(ec.now) {
		n.ID = notificationID(ec.fp, m.Rule.Name, n.Sink)
		if policy := r.sinks[n.Sink]; n.Severity < policy.MinSeverity {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Skipped,
				Reason: fmt.Sprintf("%s is below the sink's min_severity %s", n.Severity, policy.MinSeverity)})
			continue
		}
		if ec.silence != nil {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Silenced,
				Reason: silenced(ec.silence), Silence: ec.silence.ID})
			continue
		}
		h := r.scheduled(ec, n, false)
		if h.drop {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Skipped, Reason: h.reason})
			continue
		}
		if err := enqueue(ctx, tx, ec, n, "", 0, h); err != nil {
			return err
		}
	}
	return nil
}

// enqueue writes n to the outbox, placed in its incident's transitions
// (none for incidentID ""), due when h lets it go, and records that it
// was queued.
func enqueue(ctx context.Context, tx store.Tx, ec *eventCtx, n notification.Notification, incidentID string, seq int, h hold) error {
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding notification %s of rule %q: %w", n.ID, n.Rule, err)
	}
	due, accepted := ec.now, ec.accepted
	if !h.until.IsZero() {
		// A held row's life starts when it may go: its age limit and the
		// outbox's oldest-pending age count from then, and so does its
		// latency, which would otherwise report the hold as slowness.
		due, accepted = h.until, h.until
	}
	if err := tx.Enqueue(ctx, store.Outbound{Sink: n.Sink, NotificationID: n.ID, Payload: payload, State: store.Pending,
		NextAttempt: due, CreatedAt: due, AcceptedAt: accepted, IncidentID: incidentID, Seq: seq}); err != nil {
		return err
	}
	ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Queued,
		HeldUntil: h.until, Reason: h.reason})
	return nil
}

// resolve ends an incident and tells every sink that heard of it, and
// those of extra (a resolve rule's) that did.
func (r *Router) resolve(ctx context.Context, tx store.Tx, ec *eventCtx, inc store.Incident, reason string, extra []string) error {
	det := decodeDetail(inc.Detail)
	if toldLate(ec.ev.Time, det.Latest) {
		ec.touched[inc.ID] = true // one note, however many ways the event would have resolved it
		ec.d.KeptOpen = append(ec.d.KeptOpen, KeptOpen{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
			Reason: fmt.Sprintf("told late: %s happened at %s, before the incident's latest report of the problem (%s)",
				describe(ec.ev), clock(ec.ev.Time), clock(det.Latest))})
		return nil
	}
	inc.State, inc.ResolvedAt, inc.UpdatedAt, inc.Reason = stateResolved, ec.now, ec.now, reason
	inc.Seq++
	ev := det.Event
	if ec.ev.Field != "" {
		ev = ec.ev
		det.Ended = ec.ev.Time
		inc.Detail = det.encode()
	}
	if err := tx.SaveIncident(ctx, inc); err != nil {
		return err
	}
	if err := tx.ClearTimers(ctx, inc.ID); err != nil {
		return err
	}
	ec.touched[inc.ID] = true
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: notification.Resolved, Reason: reason})
	body := "Resolved: " + reason + "."
	if ec.ev.Field != "" {
		if _, b, err := ec.set.DefaultTexts(ec.ev); err == nil {
			body += " " + b
		}
	}
	info := incidentInfo(inc, notification.Resolved, nil, reason)
	sinks := inRuleOrder(ec.set.Rule(inc.Rule), union(inc.Sinks, extra))
	var ns []notification.Notification
	for _, sink := range sinks {
		ns = append(ns, notification.Notification{
			ID: notificationID(ec.fp, "resolve\x00"+inc.ID, sink), Sink: sink, Rule: inc.Rule,
			Severity: notification.Severity(inc.Severity), Action: notification.Resolve, Title: inc.Title, Body: body,
			DedupKey: episodeKey(inc.Key, inc.Episode), Incident: &info, CreatedAt: ec.now, Event: ev,
		})
	}
	withGroup(ec.set, inc, det, ns)
	return r.send(ctx, tx, ec, &inc, ns)
}

// inRuleOrder sorts sinks in the order rule names them, as its trigger
// went out; rule may be nil (gone from the rules since).
func inRuleOrder(rule *rules.Rule, sinks []string) []string {
	if rule != nil {
		slices.SortStableFunc(sinks, func(a, b string) int { return order(rule.To, a) - order(rule.To, b) })
	}
	return sinks
}

// order is s's place in list, or after every one of them.
func order(list []string, s string) int {
	if i := slices.Index(list, s); i >= 0 {
		return i
	}
	return len(list)
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func incidentInfo(inc store.Incident, tr notification.Transition, changes []string, reason string) notification.Incident {
	state := notification.Open
	if inc.State == stateResolved {
		state = notification.ResolvedState
	}
	return notification.Incident{ID: inc.ID, Key: inc.Key, Episode: inc.Episode, Transition: tr, State: state, Seq: inc.Seq,
		Count: inc.Events, OpenedAt: inc.OpenedAt, LastSeen: inc.UpdatedAt, ResolvedAt: inc.ResolvedAt, Changes: changes, Reason: reason}
}

// send queues a transition's notifications for the sinks that take them:
// a sink hears of an incident at or above its min_severity, and then of
// every transition of it it takes; a resolve goes only to the sinks that
// heard of the incident. A sink that hears of it first is added to
// inc.Sinks, for the caller to save.
func (r *Router) send(ctx context.Context, tx store.Tx, ec *eventCtx, inc *store.Incident, ns []notification.Notification) error {
	for _, n := range ns {
		policy := r.sinks[n.Sink]
		reason := ""
		known := slices.Contains(inc.Sinks, n.Sink)
		switch {
		case n.Action == notification.Resolve && !known:
			reason = "the sink never heard of this incident"
		case n.Action != notification.Resolve && !known && n.Severity < policy.MinSeverity:
			reason = fmt.Sprintf("%s is below the sink's min_severity %s", n.Severity, policy.MinSeverity)
		case !policy.takes(n.Incident.Transition):
			reason = fmt.Sprintf("the sink takes no %s transitions", n.Incident.Transition)
		}
		h := hold{}
		if reason == "" {
			h = r.scheduled(ec, n, known)
			if h.drop {
				reason = h.reason
			}
		}
		if reason != "" {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Skipped, Reason: reason})
			continue
		}
		// A resolve is never silenced: it closes what a sink was told of,
		// and a page left open is worse than a quiet close.
		if ec.silence != nil && n.Action != notification.Resolve {
			ec.d.Notifications = append(ec.d.Notifications, NotificationDecision{Notification: n, Outcome: Silenced,
				Reason: silenced(ec.silence), Silence: ec.silence.ID})
			continue
		}
		if err := enqueue(ctx, tx, ec, n, inc.ID, inc.Seq, h); err != nil {
			return err
		}
		if !known {
			inc.Sinks = append(inc.Sinks, n.Sink)
		}
	}
	return nil
}

// Fire runs a due timer in a transaction of its own: a restriction's
// expiry resolves its incident (unless a later event moved the expiry
// on); a reminder reminds the sinks that heard of the incident, while its
// rule still asks for reminders; a threshold's check resolves it once
// its rate fell back (checkThreshold).
func (r *Router) Fire(ctx context.Context, t store.Timer) (Result, error) {
	set := r.rules.Load()
	var res Result
	if strings.HasPrefix(t.IncidentID, silenceTimerPrefix) {
		return r.fireSilence(ctx, t)
	}
	err := r.store.Update(ctx, func(tx store.Tx) error {
		now := r.now()
		res = Result{}
		d := Decision{Timer: t.Kind + " of " + t.IncidentID, ReceivedAt: now}
		inc, found, err := tx.IncidentByID(ctx, t.IncidentID)
		if err != nil {
			return err
		}
		if !found || inc.State != stateOpen {
			return tx.DeleteTimer(ctx, t)
		}
		det := decodeDetail(inc.Detail)
		d.Event = det.Event
		ec := &eventCtx{set: set, fp: "timer\x00" + t.IncidentID + "\x00" + t.Kind + "\x00" + t.Due.UTC().Format(time.RFC3339Nano),
			accepted: now, now: now, d: &d, touched: map[string]bool{}}
		switch t.Kind {
		case timerExpiry:
			if rule := set.Rule(inc.Rule); rule != nil && rule.ResolveNever {
				return tx.DeleteTimer(ctx, t)
			}
			if det.Ends.After(now) {
				return tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerExpiry, Due: det.Ends})
			}
			err = r.resolve(ctx, tx, ec, inc, "the restriction expired at "+det.Ends.UTC().Format("2006-01-02 15:04 UTC"), nil)
		case timerRemind:
			rule := set.Rule(inc.Rule)
			switch {
			case rule == nil || rule.Renotify <= 0:
				return tx.DeleteTimer(ctx, t)
			case now.Before(det.Notified.Add(rule.Renotify)):
				return tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerRemind, Due: det.Notified.Add(rule.Renotify)})
			}
			err = r.remind(ctx, tx, ec, inc, det, rule)
		case timerGroupFlush:
			var sent bool
			if sent, err = r.flushGroup(ctx, tx, ec, inc, det, t); err == nil && !sent {
				return nil
			}
		case timerThreshold:
			var open bool
			if open, err = r.checkThreshold(ctx, tx, ec, inc, t); open {
				return err
			}
		default:
			return tx.DeleteTimer(ctx, t)
		}
		if err != nil {
			return err
		}
		res = Result{Decisions: []Decision{d}}
		return r.record(ctx, tx, d, now)
	})
	if err != nil {
		return Result{Err: err}, fmt.Errorf("firing the %s timer of incident %s: %w", t.Kind, t.IncidentID, err)
	}
	r.finish(ctx, res)
	return res, nil
}

// remind tells the sinks that heard of an open incident that it is still
// open.
func (r *Router) remind(ctx context.Context, tx store.Tx, ec *eventCtx, inc store.Incident, det detail, rule *rules.Rule) error {
	inc.Seq++
	inc.UpdatedAt = ec.now
	det.Notified = ec.now
	inc.Detail = det.encode()
	if err := tx.SaveIncident(ctx, inc); err != nil {
		return err
	}
	if err := tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerRemind, Due: ec.now.Add(rule.Renotify)}); err != nil {
		return err
	}
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: notification.Reminded})
	info := incidentInfo(inc, notification.Reminded, nil, "")
	body := fmt.Sprintf("Still open since %s, %d events so far. Rule %q reminds every %s.",
		inc.OpenedAt.UTC().Format("2006-01-02 15:04 UTC"), inc.Events, rule.Name, rule.Renotify)
	var ns []notification.Notification
	for _, sink := range inRuleOrder(rule, slices.Clone(inc.Sinks)) {
		ns = append(ns, notification.Notification{
			ID: notificationID(ec.fp, "remind\x00"+inc.ID, sink), Sink: sink, Rule: inc.Rule, RuleDescription: rule.Description,
			Severity: notification.Severity(inc.Severity), Action: notification.Trigger, Title: inc.Title, Body: body,
			DedupKey: episodeKey(inc.Key, inc.Episode), Incident: &info, CreatedAt: ec.now, Event: det.Event,
		})
	}
	withGroup(ec.set, inc, det, ns)
	return r.send(ctx, tx, ec, &inc, ns)
}
