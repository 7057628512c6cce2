package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/lifecycle"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// DefaultChangeWindow is Meta's retry horizon: a change redelivered within it
// makes no second notification.
const DefaultChangeWindow = 7 * 24 * time.Hour

// DefaultParkAfter is how many failed routing attempts park a webhook.
// Between them it waits 1, 2, 4 and 8 seconds, which outlasts a passing
// fault of the store while a webhook that can never be routed is set
// aside within a quarter of a minute.
const DefaultParkAfter = 5

// Config is what a Router is built from.
type Config struct {
	Rules *rules.Set
	Store store.Store
	Log   *slog.Logger
	// Queued is told which sinks got new rows, to wake their workers; nil
	// when nothing delivers (a dry run).
	Queued func(sinks []string)
	// Metrics may be nil when nothing serves them.
	Metrics *metrics.Metrics
	// Sinks are what routing needs to know of each sink; a sink not in it
	// takes everything.
	Sinks map[string]SinkPolicy
	// ParkAfter is DefaultParkAfter when zero.
	ParkAfter int
	// SilenceReminder, when it names sinks, warns them before a silence
	// ends while it still hides an open incident.
	SilenceReminder SilenceReminder
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// Router routes accepted webhooks into the outbox.
type Router struct {
	rules        atomic.Pointer[rules.Set]
	store        store.Store
	log          *slog.Logger
	changeWindow time.Duration
	now          func() time.Time
	queued       func(sinks []string)
	metrics      *metrics.Metrics
	sinks        map[string]SinkPolicy
	parkAfter    int

	silenceReminder SilenceReminder
	conditions      conditions
}

// New returns a router using c.Rules until SetRules replaces them.
func New(c Config) *Router {
	r := &Router{store: c.Store, log: c.Log, changeWindow: DefaultChangeWindow, now: c.Now, queued: c.Queued,
		metrics: c.Metrics, sinks: c.Sinks, parkAfter: c.ParkAfter, silenceReminder: c.SilenceReminder}
	if r.metrics == nil {
		r.metrics = metrics.Discard()
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.parkAfter <= 0 {
		r.parkAfter = DefaultParkAfter
	}
	r.rules.Store(c.Rules)
	return r
}

// SetRules swaps the rules for the next webhook; a webhook being routed
// finishes under the rules it started with.
func (r *Router) SetRules(set *rules.Set) { r.rules.Store(set) }

// Rules returns the rules in use.
func (r *Router) Rules() *rules.Set { return r.rules.Load() }

// Route parses one accepted webhook and queues its notifications.
func (r *Router) Route(ctx context.Context, w store.Webhook) (Result, error) {
	res, err := r.RouteBatch(ctx, []store.Webhook{w})
	if err != nil {
		return Result{WebhookID: w.ID, Err: err}, err
	}
	return res[0], res[0].Err
}

// yielder lets whatever else is ready run once routing has held the
// processor for yieldEvery. A batch is milliseconds of work with no I/O
// between webhooks on SQLite, and Go would let it keep a processor for up
// to 10 ms while webhook requests waited for one: on two cores their 200s
// queued behind routing, and intake ran at a third of what the disk
// allows. Routing still gets every processor nothing else wants, so what
// this trades is a burst routed a little later for Meta answered sooner.
// Yielding after every webhook was too often: a yield puts routing behind
// every goroutine that is ready, and under load that wait was longer than
// the webhook's own work, inside the store's one write transaction.
type yielder struct{ since time.Time }

// yieldEvery bounds how long routing keeps a processor from a webhook
// request: a small part of a 200's time, a few webhooks' work.
const yieldEvery = 250 * time.Microsecond

func (y *yielder) maybeYield() {
	if now := time.Now(); now.Sub(y.since) >= yieldEvery {
		runtime.Gosched()
		y.since = time.Now()
	}
}

// RouteBatch routes accepted webhooks in one store transaction, in order,
// so a backlog costs one commit per batch. A webhook that fails is rolled
// back alone and recorded as failed: it is retried after a wait that grows
// with each attempt, and parked after ParkAfter attempts, so it never
// holds up those behind it. There is one Result per webhook, in order; err
// is the transaction itself failing, and then nothing was routed.
func (r *Router) RouteBatch(ctx context.Context, ws []store.Webhook) ([]Result, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	set := r.rules.Load()
	now := r.now()
	sils, err := r.activeSilences(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("routing %d webhooks from %d: %w", len(ws), ws[0].ID, err)
	}
	ids := make([]int64, len(ws))
	plans := make(map[int64]plan, len(ws))
	y := yielder{since: time.Now()}
	for i, w := range ws {
		ids[i] = w.ID
		plans[w.ID] = r.plan(ctx, set, sils, w)
		y.maybeYield()
	}
	results := make(map[int64]*Result, len(ws))
	errs, err := r.store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		y.maybeYield()
		// Made anew each run: a retried batch runs fn again, and only what
		// the commit kept may be reported.
		res := &Result{WebhookID: id}
		results[id] = res
		p := plans[id]
		if p.err != nil {
			return p.err
		}
		for i, pe := range p.events {
			d, err := r.routeEvent(ctx, tx, id, i, pe, p.received, now)
			if err != nil {
				return err
			}
			res.Decisions = append(res.Decisions, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("routing %d webhooks from %d: %w", len(ws), ws[0].ID, err)
	}
	out := make([]Result, len(ws))
	var sinks []string
	for i, w := range ws {
		res := results[w.ID]
		switch {
		case errors.Is(errs[i], store.ErrNotFound):
			// Gone or parked meanwhile (deadletter drop): nothing to do.
			out[i] = Result{WebhookID: w.ID}
			continue
		case errs[i] != nil && ctx.Err() != nil:
			// Shutting down: the webhook failed because routing was
			// cancelled, not because of itself. It stays unrouted, with no
			// attempt counted against it, for the next start.
			out[i] = Result{WebhookID: w.ID, Err: fmt.Errorf("routing webhook %d: %w", w.ID, ctx.Err())}
			continue
		case errs[i] != nil:
			out[i] = r.fail(ctx, w, errs[i], now)
			continue
		case res == nil: // already routed: fn did not run
			out[i] = Result{WebhookID: w.ID}
			continue
		}
		sinks = append(sinks, r.account(ctx, *res)...)
		out[i] = *res
	}
	if len(sinks) > 0 && r.queued != nil {
		r.queued(sinks)
	}
	return out, nil
}

// account counts and logs what a committed result decided, and returns
// the sinks it queued for.
func (r *Router) account(ctx context.Context, res Result) []string {
	res.record(r.metrics)
	res.log(ctx, r.log)
	var sinks []string
	for _, d := range res.Decisions {
		for _, n := range d.Notifications {
			if n.Outcome == Queued {
				sinks = append(sinks, n.Notification.Sink)
			}
		}
	}
	return sinks
}

// finish accounts for a committed result and wakes its sinks.
func (r *Router) finish(ctx context.Context, res Result) {
	if sinks := r.account(ctx, res); len(sinks) > 0 && r.queued != nil {
		r.queued(sinks)
	}
}

// fail records a failed routing attempt: a later retry, or parking.
func (r *Router) fail(ctx context.Context, w store.Webhook, cause error, now time.Time) Result {
	res := Result{WebhookID: w.ID, Err: fmt.Errorf("routing webhook %d: %w", w.ID, cause)}
	r.metrics.RoutingFailures.Inc()
	wait := time.Second << min(w.Attempts, 6)
	parked, err := r.store.FailWebhook(ctx, w.ID, cause.Error(), now, wait, r.parkAfter)
	if err != nil {
		r.log.ErrorContext(ctx, "routing failed, and recording the failure failed too; will retry",
			"webhook", w.ID, "err", cause, "record_err", err)
		return res
	}
	res.Parked = parked
	if parked {
		r.metrics.WebhooksParked.Inc()
		r.log.ErrorContext(ctx, "webhook parked: its routing kept failing; see wabarouter deadletter list",
			"webhook", w.ID, "attempts", w.Attempts+1, "err", cause)
		return res
	}
	r.log.WarnContext(ctx, "routing failed; will retry", "webhook", w.ID, "attempt", w.Attempts+1,
		"retry_in", wait.String(), "err", cause)
	return res
}

// plan is a webhook with everything about it that does not depend on the
// store worked out before the transaction: parsing, rules and texts cost
// CPU, and the transaction holds the store's only writer.
type plan struct {
	received time.Time
	events   []plannedEvent
	// err fails the webhook: something about it can never be routed as
	// it is (it is retried and then parked).
	err error
}

type plannedEvent struct {
	set     *rules.Set
	ev      event.Event
	fp      string
	matches []rules.Match
	errs    []error
	silence *store.Silence
}

func (r *Router) plan(ctx context.Context, set *rules.Set, sils []activeSilence, w store.Webhook) plan {
	p := plan{received: w.ReceivedAt}
	evs, err := event.Parse(w.Body)
	if err != nil {
		// The webhook was validated at intake, so this is a change the
		// parser could not read; its siblings are still routed.
		r.log.WarnContext(ctx, "webhook has unreadable changes", "webhook", w.ID, "err", err)
	}
	p.events = make([]plannedEvent, len(evs))
	for i, ev := range evs {
		fp, err := event.Fingerprint(ev)
		if err != nil {
			p.err = fmt.Errorf("event %d (%s/%s): %w", i+1, ev.Field, ev.Event, err)
			return p
		}
		// After the fingerprint, which is of what Meta sent: a renamed
		// account must not make a redelivery look new.
		ev.Account = set.Accounts.Lookup(ev.WabaID, ev.PhoneNumber)
		matches, errs := set.Evaluate(ev)
		p.events[i] = plannedEvent{set: set, ev: ev, fp: fp, matches: matches, errs: errs, silence: silenceOf(sils, ev)}
	}
	return p
}

// routeEvent runs one event through the stages: redelivery, rules, the
// incident (recoveries first, then each matching rule's transition), the
// sinks, the outbox; and records the decision beside what it decided.
func (r *Router) routeEvent(ctx context.Context, tx store.Tx, webhookID int64, index int, p plannedEvent, accepted, now time.Time) (Decision, error) {
	d := Decision{WebhookID: webhookID, Index: index, ReceivedAt: accepted, Event: p.ev, Fingerprint: p.fp}
	fresh, err := tx.MarkChange(ctx, p.fp, now, r.changeWindow)
	if err != nil {
		return d, err
	}
	if !fresh {
		d.Redelivery = true
		return d, r.record(ctx, tx, d, now)
	}
	for _, e := range p.errs {
		var re *rules.RuleError
		if errors.As(e, &re) {
			d.RuleErrors = append(d.RuleErrors, RuleFailure{Rule: re.Rule, Err: re.Err})
			continue
		}
		d.RuleErrors = append(d.RuleErrors, RuleFailure{Err: e})
	}
	for _, m := range p.matches {
		d.Matched = append(d.Matched, m.Rule.Name)
	}
	course := lifecycle.Of(p.ev)
	d.Course = course.Row
	ec := &eventCtx{set: p.set, ev: p.ev, fp: p.fp, accepted: accepted, now: now, d: &d, touched: map[string]bool{}, silence: p.silence}
	if err := r.recoveries(ctx, tx, ec, course, p.matches); err != nil {
		return d, err
	}
	if err := r.groupRecoveries(ctx, tx, ec, course, p.matches); err != nil {
		return d, err
	}
	for _, m := range p.matches {
		if m.Action == notification.Resolve {
			continue // done among the recoveries
		}
		if m.Action == notification.Change {
			// Good news is told as it is, recovery or not; it opens nothing.
			if err := r.announce(ctx, tx, ec, m); err != nil {
				return d, err
			}
			continue
		}
		recovery, err := recovers(m.Rule, course, p.ev)
		if err != nil {
			d.RuleErrors = append(d.RuleErrors, RuleFailure{Rule: m.Rule.Name, Err: err})
			continue
		}
		if recovery {
			continue // a recovery ends incidents; it never opens one
		}
		if m.Rule.Group != nil {
			if err := r.group(ctx, tx, ec, m, course); err != nil {
				return d, err
			}
			continue
		}
		if m.Rule.Threshold != nil {
			if err := r.counted(ctx, tx, ec, m, course); err != nil {
				return d, err
			}
			continue
		}
		if err := r.trigger(ctx, tx, ec, m, course); err != nil {
			return d, err
		}
	}
	return d, r.record(ctx, tx, d, now)
}

// record appends the decision to the store's decision log, in the same
// transaction as what it decided.
func (r *Router) record(ctx context.Context, tx store.Tx, d Decision, now time.Time) error {
	rec := d.Record()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding the decision on event %d of webhook %d: %w", d.Index, d.WebhookID, err)
	}
	ids := make([]string, 0, len(d.Incidents))
	for _, it := range d.Incidents {
		if !slices.Contains(ids, it.ID) {
			ids = append(ids, it.ID)
		}
	}
	return tx.AppendDecision(ctx, store.Decision{WebhookID: d.WebhookID, Index: d.Index, At: now, WabaID: d.Event.WabaID,
		Field: d.Event.Field, Event: d.Event.Event, IncidentIDs: ids, Record: b})
}

// notificationID is derived, not random, so that routing the same webhook
// again after a crash makes the same ids and the outbox keeps one row each.
func notificationID(fingerprint, rule, sink string) string {
	sum := sha256.Sum256([]byte(fingerprint + "\x00" + rule + "\x00" + sink))
	return hex.EncodeToString(sum[:12])
}
