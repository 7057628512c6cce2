package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// DefaultChangeWindow is Meta's retry horizon: a change redelivered within it
// makes no second notification.
const DefaultChangeWindow = 7 * 24 * time.Hour

// Router routes accepted webhooks into the outbox.
type Router struct {
	rules        atomic.Pointer[rules.Set]
	store        store.Store
	log          *slog.Logger
	changeWindow time.Duration
	now          func() time.Time
	// queued is told which sinks got new rows, to wake their workers.
	queued  func(sinks []string)
	metrics *metrics.Metrics
}

// New returns a router using set until SetRules replaces it. m may be nil
// when nothing serves the metrics.
func New(set *rules.Set, st store.Store, log *slog.Logger, queued func([]string), m *metrics.Metrics) *Router {
	if m == nil {
		m = metrics.Discard()
	}
	r := &Router{store: st, log: log, changeWindow: DefaultChangeWindow, now: time.Now, queued: queued, metrics: m}
	r.rules.Store(set)
	return r
}

// tally is what routing one webhook did. It is counted only once the
// routing transaction commits, so a retried webhook is not counted twice.
type tally struct {
	events       map[[2]string]int // field, event
	redeliveries int
	matches      map[string]int // rule
	ruleErrors   map[string]int // rule
	created      map[string]int // sink
	suppressed   map[string]int // sink
	sinks        []string       // that got new rows
	notes        []logNote
}

// logNote is a log line about one event, held until the transaction that
// it describes has committed: a rolled-back attempt must not leave lines
// saying a notification was queued.
type logNote struct {
	level slog.Level
	msg   string
	attrs []any
}

// note keeps a line with the event's WABA, field and event, and the rule.
func (t *tally) note(level slog.Level, msg string, ev event.Event, rule string, attrs ...any) {
	base := []any{"waba_id", ev.WabaID, "field", ev.Field, "event", ev.Event}
	if rule != "" {
		base = append(base, "rule", rule)
	}
	t.notes = append(t.notes, logNote{level: level, msg: msg, attrs: append(base, attrs...)})
}

func (t *tally) log(ctx context.Context, log *slog.Logger) {
	for _, n := range t.notes {
		log.Log(ctx, n.level, n.msg, n.attrs...)
	}
}

func newTally() *tally {
	return &tally{events: map[[2]string]int{}, matches: map[string]int{}, ruleErrors: map[string]int{},
		created: map[string]int{}, suppressed: map[string]int{}}
}

func (t *tally) record(m *metrics.Metrics) {
	for k, n := range t.events {
		m.Events.WithLabelValues(k[0], k[1]).Add(float64(n))
	}
	m.Redeliveries.Add(float64(t.redeliveries))
	for rule, n := range t.matches {
		m.RuleMatches.WithLabelValues(rule).Add(float64(n))
	}
	for rule, n := range t.ruleErrors {
		m.RuleErrors.WithLabelValues(rule).Add(float64(n))
	}
	for sink, n := range t.created {
		m.Notifications.WithLabelValues(sink, metrics.Created).Add(float64(n))
	}
	for sink, n := range t.suppressed {
		m.Notifications.WithLabelValues(sink, metrics.Suppressed).Add(float64(n))
	}
}

// SetRules swaps the rules for the next webhook; a webhook being routed
// finishes under the rules it started with.
func (r *Router) SetRules(set *rules.Set) { r.rules.Store(set) }

// Rules returns the rules in use.
func (r *Router) Rules() *rules.Set { return r.rules.Load() }

// Route parses one accepted webhook and queues its notifications.
func (r *Router) Route(ctx context.Context, w store.Webhook) error {
	_, err := r.RouteBatch(ctx, []store.Webhook{w})
	return err
}

// RouteBatch routes accepted webhooks in one store transaction, in order,
// so a backlog costs one commit per batch. A webhook that fails is rolled
// back alone and stays pending for the next pass; the others are kept.
// done counts the webhooks now routed; the error names every one that
// failed.
func (r *Router) RouteBatch(ctx context.Context, ws []store.Webhook) (done int, err error) {
	if len(ws) == 0 {
		return 0, nil
	}
	set := r.rules.Load()
	now := r.now()
	ids := make([]int64, len(ws))
	plans := make(map[int64][]plannedEvent, len(ws))
	received := make(map[int64]time.Time, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
		plans[w.ID], received[w.ID] = r.plan(ctx, set, w, now), w.ReceivedAt
	}
	var sinks []string
	counts := make(map[int64]*tally, len(ws))
	errs, err := r.store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		// Set even on failure: a retried batch runs fn again, and only
		// what the commit kept may be counted.
		t := newTally()
		counts[id] = t
		for _, p := range plans[id] {
			if err := r.routeEvent(ctx, tx, p, received[id], now, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("routing %d webhooks from %d: %w", len(ws), ws[0].ID, err)
	}
	var failed []error
	for i, id := range ids {
		if errs[i] != nil {
			failed = append(failed, fmt.Errorf("routing webhook %d: %w", id, errs[i]))
			continue
		}
		if t := counts[id]; t != nil { // nil: the webhook was already routed
			t.record(r.metrics)
			t.log(ctx, r.log)
			sinks = append(sinks, t.sinks...)
		}
	}
	if len(sinks) > 0 && r.queued != nil {
		r.queued(sinks)
	}
	return len(ws) - len(failed), errors.Join(failed...)
}

// plannedEvent is an event with everything about it that does not depend
// on the store worked out before the transaction: parsing, rules and
// texts cost CPU, and the transaction holds the store's only writer.
type plannedEvent struct {
	ev      event.Event
	fp      string
	matches []rules.Match
	errs    []error
}

func (r *Router) plan(ctx context.Context, set *rules.Set, w store.Webhook, now time.Time) []plannedEvent {
	evs, err := event.Parse(w.Body)
	if err != nil {
		// The webhook was validated at intake, so this is a change the
		// parser could not read; its siblings are still routed.
		r.log.WarnContext(ctx, "webhook has unreadable changes", "webhook", w.ID, "err", err)
	}
	plans := make([]plannedEvent, len(evs))
	for i, ev := range evs {
		matches, errs := set.Evaluate(ev)
		plans[i] = plannedEvent{ev: ev, fp: Fingerprint(ev), matches: matches, errs: errs}
	}
	return plans
}

func (r *Router) routeEvent(ctx context.Context, tx store.Tx, p plannedEvent, accepted, now time.Time, counts *tally) error {
	fresh, err := tx.MarkChange(ctx, p.fp, now, r.changeWindow)
	if err != nil {
		return err
	}
	ev := p.ev
	if !fresh {
		counts.redeliveries++
		counts.note(slog.LevelInfo, "redelivered change ignored", ev, "", "fingerprint", p.fp[:16])
		return nil
	}
	counts.events[[2]string{ev.Field, ev.Event}]++
	for _, e := range p.errs {
		var re *rules.RuleError
		if errors.As(e, &re) {
			counts.ruleErrors[re.Rule]++
			counts.note(slog.LevelError, "rule failed on event", ev, re.Rule, "err", re.Err)
			continue
		}
		counts.note(slog.LevelError, "rule failed on event", ev, "", "err", e)
	}
	if len(p.matches) == 0 {
		counts.note(slog.LevelDebug, "no rule matched", ev, "")
	}
	for _, m := range p.matches {
		counts.matches[m.Rule.Name]++
		if err := r.queueMatch(ctx, tx, p.fp, m, accepted, now, counts); err != nil {
			return err
		}
	}
	return nil
}

func (r *Router) queueMatch(ctx context.Context, tx store.Tx, fp string, m rules.Match, accepted, now time.Time, counts *tally) error {
	var dedup store.DedupResult
	if m.DedupWindow > 0 {
		var err error
		dedup, err = tx.Dedup(ctx, m.Rule.Name+"\x00"+m.DedupKey, now, m.DedupWindow)
		if err != nil {
			return err
		}
		if dedup.Suppress {
			for _, sink := range m.Sinks {
				counts.created[sink]++
				counts.suppressed[sink]++
			}
			counts.note(slog.LevelInfo, "notification suppressed by dedup", m.Event, m.Rule.Name, "dedup_key", m.DedupKey)
			return nil
		}
	}
	for _, n := range m.Notifications(now) {
		n.ID = notificationID(fp, m.Rule.Name, n.Sink)
		n.Suppressed, n.SuppressedSince = dedup.Suppressed, dedup.Since
		payload, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encoding notification %s: %w", n.ID, err)
		}
		err = tx.Enqueue(ctx, store.Outbound{Sink: n.Sink, NotificationID: n.ID, Payload: payload,
			State: store.Pending, NextAttempt: now, CreatedAt: now, AcceptedAt: accepted})
		if err != nil {
			return err
		}
		counts.created[n.Sink]++
		counts.sinks = append(counts.sinks, n.Sink)
		counts.note(slog.LevelInfo, "notification queued", m.Event, m.Rule.Name, "sink", n.Sink, "id", n.ID, "severity", n.Severity)
	}
	return nil
}

// Fingerprint identifies a change across redeliveries: its WABA, field, time
// and canonical value, plus what tells apart the events one messages change
// yields. encoding/json sorts map keys, which makes the value canonical.
func Fingerprint(ev event.Event) string {
	key, _ := json.Marshal(struct {
		WabaID, Field, Event, MessageID, Status string
		Time                                    time.Time
		Value                                   map[string]any
	}{ev.WabaID, ev.Field, ev.Event, ev.MessageID, ev.Status, ev.Time, ev.Value})
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])
}

// notificationID is derived, not random, so that routing the same webhook
// again after a crash makes the same ids and the outbox keeps one row each.
func notificationID(fingerprint, rule, sink string) string {
	sum := sha256.Sum256([]byte(fingerprint + "\x00" + rule + "\x00" + sink))
	return hex.EncodeToString(sum[:12])
}
