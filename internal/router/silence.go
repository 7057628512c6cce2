package router

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// The timers of a silence are kept beside the incidents' own, under the
// silence's id with this prefix: its end releases what it hid, and its
// reminder warns that it is about to end while it still hides something.
const (
	silenceTimerPrefix = "silence:"
	timerSilenceEnd    = "silence-end"
	timerSilenceRemind = "silence-remind"
)

// SilenceTimer is the timer the silence id's end is kept under; ending a
// silence early sets it to now, so the router releases what it hid then.
func SilenceTimer(id string, due time.Time) store.Timer {
	return store.Timer{IncidentID: silenceTimerPrefix + id, Kind: timerSilenceEnd, Due: due}
}

// SilenceReminder says who hears that a silence is about to end while it
// still hides an open incident, and how long before.
type SilenceReminder struct {
	Sinks  []string
	Before time.Duration
}

// activeSilence is a silence in force with its condition compiled.
type activeSilence struct {
	silence store.Silence
	cond    *rules.Condition
}

// conditions caches compiled silence conditions by silence id and text:
// a silence is compiled once, not once per batch.
type conditions struct{ m sync.Map }

func (c *conditions) compile(s store.Silence) (*rules.Condition, error) {
	key := s.ID + "\x00" + s.When
	if v, ok := c.m.Load(key); ok {
		return v.(*rules.Condition), nil
	}
	cond, diags := rules.CompileCondition("silence "+s.ID, s.When)
	if cond == nil {
		msgs := make([]string, 0, len(diags))
		for _, d := range diags {
			msgs = append(msgs, d.Error())
		}
		return nil, fmt.Errorf("silence %s: its condition no longer compiles: %s", s.ID, strings.Join(msgs, "; "))
	}
	c.m.Store(key, cond)
	return cond, nil
}

// activeSilences reads the silences in force at now: once a batch, so a
// silence added beside a running router takes effect with the next one.
// A silence whose condition no longer compiles (after an upgrade renamed
// a field) is logged and hides nothing.
func (r *Router) activeSilences(ctx context.Context, now time.Time) ([]activeSilence, error) {
	list, err := r.store.Silences(ctx, store.SilenceFilter{ActiveAt: now})
	if err != nil {
		return nil, fmt.Errorf("reading the silences in force: %w", err)
	}
	out := make([]activeSilence, 0, len(list))
	for _, s := range list {
		cond, err := r.conditions.compile(s)
		if err != nil {
			r.log.ErrorContext(ctx, "silence ignored", "silence", s.ID, "err", err)
			continue
		}
		out = append(out, activeSilence{silence: s, cond: cond})
	}
	// The oldest first, so an event two silences match is always told to
	// be hidden by the same one.
	slices.SortFunc(out, func(a, b activeSilence) int { return a.silence.StartsAt.Compare(b.silence.StartsAt) })
	return out, nil
}

// silenceOf is the first silence that hides ev, nil if none does.
func silenceOf(sils []activeSilence, ev event.Event) *store.Silence {
	for i := range sils {
		if ok, err := sils[i].cond.Matches(ev); err == nil && ok {
			return &sils[i].silence
		}
	}
	return nil
}

// silenced says why a silence hides n.
func silenced(s *store.Silence) string {
	return fmt.Sprintf("silenced by %s until %s (%s: %s)", s.ID, s.Ends().UTC().Format("2006-01-02 15:04 UTC"), s.Author, s.Comment)
}

// hide records on the incident that a silence hid its notifications and
// sets the silence's timers: its end releases the incident, its reminder
// warns before it.
func (r *Router) hide(ctx context.Context, tx store.Tx, det *detail, s *store.Silence) error {
	if !slices.Contains(det.Silences, s.ID) {
		det.Silences = append(det.Silences, s.ID)
	}
	if err := tx.SetTimer(ctx, SilenceTimer(s.ID, s.Ends())); err != nil {
		return err
	}
	if len(r.silenceReminder.Sinks) > 0 && r.silenceReminder.Before > 0 {
		due := s.Ends().Add(-r.silenceReminder.Before)
		return tx.SetTimer(ctx, store.Timer{IncidentID: silenceTimerPrefix + s.ID, Kind: timerSilenceRemind, Due: due})
	}
	return nil
}

// fireSilence runs a silence's timer: at its end, every open incident it
// hid is told to the sinks that did not hear of it (unless another
// silence now hides it); before its end, the reminder sinks hear what it
// still hides.
func (r *Router) fireSilence(ctx context.Context, t store.Timer) (Result, error) {
	id := strings.TrimPrefix(t.IncidentID, silenceTimerPrefix)
	now := r.now()
	sil, found, err := r.store.Silence(ctx, id)
	if err != nil {
		return Result{Err: err}, fmt.Errorf("firing the %s timer of silence %s: %w", t.Kind, id, err)
	}
	open, err := r.store.Incidents(ctx, store.IncidentFilter{State: stateOpen})
	if err != nil {
		return Result{Err: err}, fmt.Errorf("firing the %s timer of silence %s: listing open incidents: %w", t.Kind, id, err)
	}
	var hidden []string
	for _, inc := range open {
		if slices.Contains(decodeDetail(inc.Detail).Silences, id) {
			hidden = append(hidden, inc.ID)
		}
	}
	active, err := r.activeSilences(ctx, now)
	if err != nil {
		return Result{Err: err}, err
	}
	set := r.rules.Load()
	var res Result
	err = r.store.Update(ctx, func(tx store.Tx) error {
		res = Result{}
		d := Decision{Timer: t.Kind + " of silence " + id, ReceivedAt: now}
		ec := &eventCtx{set: set, fp: "timer\x00" + t.IncidentID + "\x00" + t.Kind + "\x00" + t.Due.UTC().Format(time.RFC3339Nano),
			accepted: now, now: now, d: &d, touched: map[string]bool{}}
		switch {
		case !found:
			return tx.DeleteTimer(ctx, t)
		case t.Kind == timerSilenceEnd && sil.ActiveAt(now):
			// Extended since the timer was set.
			return tx.SetTimer(ctx, SilenceTimer(id, sil.Ends()))
		case t.Kind == timerSilenceEnd:
			for _, incID := range hidden {
				if err := r.unsilence(ctx, tx, ec, incID, sil, active); err != nil {
					return err
				}
			}
		case t.Kind == timerSilenceRemind:
			if !sil.ActiveAt(now) || len(hidden) == 0 {
				return tx.DeleteTimer(ctx, t)
			}
			if err := r.remindOfSilence(ctx, tx, ec, sil, hidden); err != nil {
				return err
			}
		}
		if err := tx.DeleteTimer(ctx, t); err != nil {
			return err
		}
		if len(d.Incidents) == 0 && len(d.Notifications) == 0 {
			return nil
		}
		res = Result{Decisions: []Decision{d}}
		return r.record(ctx, tx, d, now)
	})
	if err != nil {
		return Result{Err: err}, fmt.Errorf("firing the %s timer of silence %s: %w", t.Kind, id, err)
	}
	r.finish(ctx, res)
	return res, nil
}

// unsilence tells the sinks that never heard of an incident the silence
// hid that it is open, as an opening: for them it is one.
func (r *Router) unsilence(ctx context.Context, tx store.Tx, ec *eventCtx, incID string, sil store.Silence, active []activeSilence) error {
	inc, found, err := tx.IncidentByID(ctx, incID)
	if err != nil || !found || inc.State != stateOpen {
		return err
	}
	det := decodeDetail(inc.Detail)
	det.Silences = slices.DeleteFunc(det.Silences, func(s string) bool { return s == sil.ID })
	if other := silenceOf(active, det.Event); other != nil {
		// Another silence hides it now: it waits for that one.
		if err := r.hide(ctx, tx, &det, other); err != nil {
			return err
		}
		inc.Detail = det.encode()
		return tx.SaveIncident(ctx, inc)
	}
	rule := ec.set.Rule(inc.Rule)
	var missing []string
	if rule != nil {
		for _, s := range rule.To {
			if !slices.Contains(inc.Sinks, s) {
				missing = append(missing, s)
			}
		}
	}
	if len(missing) == 0 {
		inc.Detail = det.encode()
		return tx.SaveIncident(ctx, inc)
	}
	inc.Seq++
	inc.UpdatedAt = ec.now
	det.Notified = ec.now
	inc.Detail = det.encode()
	reason := fmt.Sprintf("silence %s ended", sil.ID)
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: notification.Opened, Reason: reason})
	info := incidentInfo(inc, notification.Opened, []string{fmt.Sprintf("held by silence %s from %s", sil.ID,
		sil.StartsAt.UTC().Format("2006-01-02 15:04 UTC"))}, "")
	body := fmt.Sprintf("Silence %s (%s: %s) hid this incident until %s. It is still open, %s so far.",
		sil.ID, sil.Author, sil.Comment, sil.Ends().UTC().Format("2006-01-02 15:04 UTC"), eventsSoFar(inc.Events))
	var ns []notification.Notification
	for _, sink := range missing {
		ns = append(ns, notification.Notification{
			ID: notificationID(ec.fp, "unsilence\x00"+inc.ID, sink), Sink: sink, Rule: inc.Rule, RuleDescription: rule.Description,
			Severity: notification.Severity(inc.Severity), Action: notification.Trigger, Title: inc.Title, Body: body,
			DedupKey: episodeKey(inc.Key, inc.Episode), Runbook: rules.DefaultRunbook(det.Event), Incident: &info,
			CreatedAt: ec.now, Event: det.Event,
		})
	}
	withGroup(ec.set, inc, det, ns)
	if err := r.send(ctx, tx, ec, &inc, ns); err != nil {
		return err
	}
	return tx.SaveIncident(ctx, inc)
}

// remindOfSilence tells the reminder sinks that sil is about to end while
// it still hides open incidents: news outside any incident.
func (r *Router) remindOfSilence(ctx context.Context, tx store.Tx, ec *eventCtx, sil store.Silence, hidden []string) error {
	var titles []string
	for _, id := range hidden {
		if inc, found, err := tx.IncidentByID(ctx, id); err == nil && found {
			titles = append(titles, "- "+inc.Title)
		}
	}
	title := fmt.Sprintf("Silence %s ends at %s and still hides %d open incident(s)", sil.ID,
		sil.Ends().UTC().Format("2006-01-02 15:04 UTC"), len(hidden))
	body := fmt.Sprintf("%s silenced %q: %s. When it ends, the incidents below are sent to their sinks. Extend it, or let it end:\n%s",
		sil.Author, sil.When, sil.Comment, strings.Join(titles, "\n"))
	for _, sink := range r.silenceReminder.Sinks {
		n := notification.Notification{ID: notificationID(ec.fp, "silence-remind\x00"+sil.ID, sink), Sink: sink,
			Rule: "silence " + sil.ID, Severity: notification.Warning, Action: notification.Change, Title: title, Body: body,
			CreatedAt: ec.now}
		if err := enqueue(ctx, tx, ec, n, "", 0, hold{}); err != nil {
			return err
		}
	}
	return nil
}

func eventsSoFar(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}
