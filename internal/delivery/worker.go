package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Policy bounds how a sink's notifications are retried.
type Policy struct {
	Workers     int           // concurrent sends for this sink
	MaxAttempts int           // then dead-letter
	MaxAge      time.Duration // since the notification was queued; then dead-letter
	BaseBackoff time.Duration // first retry after about this long
	// MaxBackoff caps every wait between attempts, a service's
	// Retry-After included: a 429 asking for a day must not hold a page
	// back for a day when the service recovers in seconds.
	MaxBackoff  time.Duration
	SendTimeout time.Duration // one send attempt
	// LeaseFor is how long a lease lasts unless renewed; zero means
	// DefaultLease. The worker renews every row it holds every third of
	// that, so only a replica that died (or lost its store for that long)
	// leaves rows to others, and they come back within it.
	LeaseFor time.Duration
	Poll     time.Duration // how often an idle worker looks for due rows
	// LogEvery is how often a sink that keeps failing is summarised in
	// the log; the first failure and the recovery are logged at once, and
	// every attempt is in the store and the metrics.
	LogEvery time.Duration
	// Rate bounds the sends per second to the sink, retries included;
	// zero is no bound. Burst is how many may go at once after a quiet
	// spell; below 1 it is 1.
	Rate  rate.Limit
	Burst int
	// FallbackTo are the sinks a notification is handed to once it is
	// dead-lettered here or, when FallbackAfter is set, once it has been
	// failing for that long since it was queued; it is still retried here
	// then. Each fallback sink gets it once.
	FallbackTo    []string
	FallbackAfter time.Duration
	// FallbackSkips are, per fallback sink, the transitions its type
	// takes no notification for (sinks.Capabilities): a repeat is not
	// handed to a sink that would not have been sent it.
	FallbackSkips map[string][]notification.Transition
}

// DefaultPolicy retries for a day, which outlasts any realistic outage of
// Slack or PagerDuty while bounding how stale a page can get.
var DefaultPolicy = Policy{
	Workers:     2,
	MaxAttempts: 50,
	MaxAge:      24 * time.Hour,
	BaseBackoff: time.Second,
	MaxBackoff:  5 * time.Minute,
	SendTimeout: 30 * time.Second,
	Poll:        250 * time.Millisecond,
	LogEvery:    time.Minute,
}

// DefaultLease is how long a row a dead replica leased waits before
// another sends it: a few renewals' worth, short enough that a page held
// by a process that died is late by seconds, not minutes.
const DefaultLease = 15 * time.Second

// recordTimeout bounds how long recording one outcome is tried for: long
// enough to ride out a dropped database connection or a Postgres restart,
// during which the lease is still renewed, and short enough not to hold
// up shutdown for long.
const recordTimeout = 15 * time.Second

// Worker delivers one sink's outbox.
type Worker struct {
	name   string
	owner  string
	sink   sinks.Sink
	store  store.Store
	policy Policy
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}
	health health
	// inFlight counts rows leased and not yet recorded.
	inFlight atomic.Int64
	// limiter paces the sends when the policy sets a rate; nil otherwise.
	// It is this sink's own, so a sink held to its rate delays no other.
	limiter *rate.Limiter

	sent, retried, dead prometheus.Counter
	// handedOver counts, per fallback sink, the notifications handed to it.
	handedOver    map[string]prometheus.Counter
	latency       prometheus.Observer
	inFlightGauge prometheus.Gauge
}

// NewWorker returns a worker for the sink registered under name, leasing
// as owner (the replica's name); m may be nil when nothing serves the
// metrics.
func NewWorker(name, owner string, s sinks.Sink, st store.Store, p Policy, log *slog.Logger, m *metrics.Metrics) *Worker {
	if p.Workers < 1 {
		p.Workers = 1
	}
	if p.LogEvery <= 0 {
		p.LogEvery = DefaultPolicy.LogEvery
	}
	if m == nil {
		m = metrics.Discard()
	}
	m.InitSink(name)
	w := &Worker{name: name, owner: owner, sink: s, store: st, policy: p, log: log.With("sink", name),
		now: time.Now, wake: make(chan struct{}, 1),
		sent:          m.Notifications.WithLabelValues(name, metrics.Sent),
		retried:       m.Notifications.WithLabelValues(name, metrics.Retried),
		dead:          m.Notifications.WithLabelValues(name, metrics.DeadLettered),
		latency:       m.DeliveryLatency.WithLabelValues(name),
		inFlightGauge: m.InFlight.WithLabelValues(name)}
	w.health.every = p.LogEvery
	if p.Rate > 0 && p.Rate != rate.Inf {
		w.limiter = rate.NewLimiter(p.Rate, max(p.Burst, 1))
	}
	w.handedOver = make(map[string]prometheus.Counter, len(p.FallbackTo))
	for _, to := range p.FallbackTo {
		w.handedOver[to] = m.Notifications.WithLabelValues(to, metrics.Fallback)
	}
	return w
}

// Wake tells the worker new rows are queued, so it does not wait for its poll.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// InFlight is the number of rows leased and not yet recorded: those
// being sent and those waiting for a sender.
func (w *Worker) InFlight() int { return int(w.inFlight.Load()) }

// leaseFor is how long one lease lasts; every row the worker holds is
// renewed every third of that, so only a worker that stopped renewing (it
// died) loses its rows.
func (w *Worker) leaseFor() time.Duration {
	if w.policy.LeaseFor > 0 {
		return w.policy.LeaseFor
	}
	return DefaultLease
}

// heldRow is a leased row between its lease and its recorded outcome.
type heldRow struct {
	row store.Outbound
	// lost is set when a renewal found the lease gone: the row's new
	// holder sends it, so this worker must not.
	lost atomic.Bool
	// until is when the lease runs out by the store's last word (the
	// lease or the last renewal that succeeded), in Unix nanoseconds.
	// Each is counted from before its request, so the store's lease never
	// ends sooner.
	until atomic.Int64
}

// mayStart says whether a send may begin on hr's lease: while at least a
// third of it is left, which renewals every third keep it above unless
// two in a row have failed or come late. Past that the lease may run out
// before the send's request is out, and another worker, finding it run
// out, sends the row too: a page doubled.
func (w *Worker) mayStart(hr *heldRow) bool {
	return !hr.lost.Load() && w.now().Add(w.leaseFor()/3).UnixNano() < hr.until.Load()
}

// holdPerSender bounds the rows a worker holds per sender: the one being
// sent and those waiting for it. Waiting rows are what spares a sender a
// lease round between two sends; they cost nothing if the process dies,
// since they were not sent and the next run releases them.
const holdPerSender = 4

// Run delivers until ctx ends. It holds up to holdPerSender rows per
// sender, so a sender never waits for a lease round, and it renews every
// held row's lease until its outcome is recorded, so no row is leased
// again while this worker still means to send it. While rows wait, it
// leases a batch only once as many rows as it has senders were finished,
// which keeps lease writes off the store's single writer. Rows held when ctx
// ends stay leased; the next run of the same owner releases them at start
// (or their lease runs out).
func (w *Worker) Run(ctx context.Context) {
	capacity := holdPerSender * w.policy.Workers
	slots := make(chan struct{}, capacity)
	for range capacity {
		slots <- struct{}{}
	}
	queue := make(chan *heldRow, capacity)
	var held sync.Map // row id → *heldRow
	var wg sync.WaitGroup
	for range w.policy.Workers {
		wg.Go(func() {
			for hr := range queue {
				if !hr.lost.Load() && ctx.Err() == nil {
					w.deliver(ctx, hr)
				}
				held.Delete(hr.row.ID)
				w.inFlight.Add(-1)
				w.inFlightGauge.Dec()
				slots <- struct{}{}
				if hr.row.IncidentID != "" {
					// The incident's next transition may be waiting for
					// this one, and it is leasable only now: a lease round
					// that came up short waits for a wake-up or a poll.
					w.Wake()
				}
			}
		})
	}
	renewCtx, stopRenewing := context.WithCancel(ctx)
	wg.Go(func() { w.renew(renewCtx, &held) })
	defer func() {
		close(queue)
		stopRenewing()
		wg.Wait()
	}()
	for {
		// While rows wait for senders, wait for half the senders to free
		// up before leasing again; with none waiting, lease at once.
		need := 1
		if len(queue) > 0 {
			need = w.policy.Workers
		}
		n := 0
		for n < need {
			select {
			case <-slots:
				n++
			case <-ctx.Done():
				return
			}
		}
		n += takeAll(slots, capacity-n)
		leasedAt := w.now()
		batch, err := w.store.Lease(ctx, w.name, w.owner, leasedAt, n, w.leaseFor())
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "leasing outbox rows failed", "err", err)
		}
		for range n - len(batch) {
			slots <- struct{}{}
		}
		for _, row := range batch {
			hr := &heldRow{row: row}
			hr.until.Store(leasedAt.Add(w.leaseFor()).UnixNano())
			held.Store(row.ID, hr)
			w.inFlight.Add(1)
			w.inFlightGauge.Inc()
			queue <- hr // never blocks: a row has a slot, and the queue a place per slot
		}
		if len(batch) == n {
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(w.policy.Poll):
		}
	}
}

// takeAll takes up to max tokens that are free now, without waiting.
func takeAll(free chan struct{}, max int) int {
	n := 0
	for n < max {
		select {
		case <-free:
			n++
		default:
			return n
		}
	}
	return n
}

// renew keeps the lease of every held row alive until ctx ends.
func (w *Worker) renew(ctx context.Context, held *sync.Map) {
	tick := time.NewTicker(w.leaseFor() / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		until := w.now().Add(w.leaseFor())
		var rows []*heldRow
		var leases []store.HeldLease
		held.Range(func(_, v any) bool {
			hr := v.(*heldRow)
			rows = append(rows, hr)
			leases = append(leases, store.HeldLease{ID: hr.row.ID, Lease: hr.row.Lease})
			return true
		})
		if len(rows) == 0 {
			continue
		}
		lost, err := w.store.RenewAll(ctx, leases, until)
		if err != nil {
			if ctx.Err() == nil {
				w.log.WarnContext(ctx, "renewing leases failed; will try again", "rows", len(rows), "err", err)
			}
			continue
		}
		for _, hr := range rows {
			if slices.Contains(lost, hr.row.ID) {
				// Finished meanwhile, or lost: either way this lease is
				// over, and a send not yet begun must not begin.
				hr.lost.Store(true)
				continue
			}
			hr.until.Store(until.UnixNano())
		}
	}
}

func (w *Worker) deliver(ctx context.Context, hr *heldRow) {
	row := hr.row
	var n notification.Notification
	if err := json.Unmarshal(row.Payload, &n); err != nil {
		w.finish(ctx, hr, n, sinks.Permanent(fmt.Errorf("decoding queued notification %s: %w", row.NotificationID, err)), sinks.Receipt{}, w.now())
		return
	}
	if w.limiter != nil {
		// The wait comes before the send's own time-out, so a queue held
		// to the rate does not eat into the time each send is given.
		if err := w.limiter.Wait(ctx); err != nil {
			return // shutting down: the row stays leased and the next start sends it
		}
	}
	if !w.mayStart(hr) {
		// Lost, or close to running out while the row waited for a sender
		// with its renewals failing: whoever leases it once it has run
		// out sends it, this worker included.
		if !hr.lost.Load() {
			w.log.WarnContext(ctx, "not sending: the lease may run out before the send, and its renewals have failed; the row goes out when it is leased again",
				"notification", row.NotificationID, "lease_until", time.Unix(0, hr.until.Load()))
		}
		return
	}
	started := w.now()
	sendCtx, cancel := context.WithTimeout(ctx, w.policy.SendTimeout)
	receipt, err := w.sink.Send(sendCtx, sinks.Delivery{Notification: n, Thread: row.Thread, Resent: row.Resent})
	cancel()
	if ctx.Err() != nil && err != nil {
		return // shutting down: the row stays leased and the next start sends it
	}
	w.finish(ctx, hr, n, err, receipt, started)
}

// finish records the outcome of one attempt; a counter moves only once
// the store has the outcome, so a row sent again after a failed ack is
// not counted twice.
func (w *Worker) finish(ctx context.Context, hr *heldRow, n notification.Notification, sendErr error, receipt sinks.Receipt, started time.Time) {
	row := hr.row
	// The outcome of a send that happened must be recorded even when
	// shutdown has begun: an ack lost to a cancelled context would send the
	// notification again after the restart.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	log := w.log.With("notification", row.NotificationID, "attempt", row.Attempts+1,
		"waba_id", n.Event.WabaID, "field", n.Event.Field, "event", n.Event.Event, "rule", n.Rule)
	now := w.now()
	var err error
	deadline := row.CreatedAt.Add(w.policy.MaxAge)
	switch retry, after := sinks.IsRetryable(sendErr); {
	case sendErr == nil:
		ack := func(ctx context.Context) error {
			return w.store.Ack(ctx, row.ID, row.Lease, store.Outcome{At: now, Receipt: receipt.Ref, Thread: receipt.Thread})
		}
		if err = w.record(ctx, hr, log, ack); err == nil {
			w.sent.Inc()
			w.latency.Observe(now.Sub(row.AcceptedAt).Seconds())
			log.InfoContext(ctx, "notification sent", "receipt", receipt.Ref, "detail", receipt.Detail)
			w.health.succeeded(ctx, w.log, now)
		}
	case !retry, row.Attempts+1 >= w.policy.MaxAttempts, !now.Before(deadline):
		o := store.Outcome{At: now, Err: sendErr.Error(), ErrClass: errClass(retry), RetryAfter: after}
		var handedTo []string
		dead := func(ctx context.Context) (err error) {
			handedTo, err = w.fail(ctx, row, n, true, time.Time{}, o)
			return err
		}
		if err = w.record(ctx, hr, log, dead); err == nil {
			w.dead.Inc()
		}
		log.ErrorContext(ctx, "notification dead-lettered", "err", sendErr, "retryable", retry, "handed_to", handedTo)
	default:
		// The age limit applies to the schedule too: a wait that would
		// end past it becomes one last attempt at the limit.
		next := now.Add(w.backoff(row.Attempts, after))
		if next.After(deadline) {
			next = deadline
		}
		o := store.Outcome{At: now, Err: sendErr.Error(), ErrClass: errClass(retry), RetryAfter: after}
		var handedTo []string
		again := func(ctx context.Context) (err error) {
			handedTo, err = w.fail(ctx, row, n, false, next, o)
			return err
		}
		if err = w.record(ctx, hr, log, again); err == nil {
			w.retried.Inc()
			w.health.failed(ctx, w.log, now, started, sendErr)
		}
		if len(handedTo) > 0 {
			log.WarnContext(ctx, "notification handed to the fallback sinks; still retried here", "err", sendErr,
				"handed_to", handedTo, "failing_for", now.Sub(row.CreatedAt).Round(time.Second).String())
		}
		log.DebugContext(ctx, "notification send failed; will retry", "err", sendErr, "next", next)
	}
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		log.WarnContext(ctx, "outcome not recorded: the lease was lost and the row's new holder records it", "err", err)
	case err != nil:
		log.ErrorContext(ctx, "recording delivery outcome failed", "err", err)
	}
}

// record makes one outcome's write, and makes it again after a failure
// that may pass (a dropped database connection, Postgres restarting),
// until it is recorded, the lease is lost or ctx ends. Meanwhile the row
// is still held, so its lease is still renewed: the send that happened is
// recorded by the replica that made it, rather than made again by another
// once the lease runs out. The writes are fenced by the lease, so one
// that committed although its answer was lost is refused the second time
// (ErrLeaseLost), never applied twice.
func (w *Worker) record(ctx context.Context, hr *heldRow, log *slog.Logger, write func(context.Context) error) error {
	wait := 20 * time.Millisecond
	for tries := 1; ; tries++ {
		err := write(ctx)
		if err == nil || errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed) || hr.lost.Load() {
			return err
		}
		if tries == 1 {
			log.WarnContext(ctx, "recording a delivery outcome failed; trying again while the lease is kept", "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (tried %d times)", err, tries)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// fail records a failed attempt, dead or to be retried at next, and
// hands the notification to the fallback sinks when it is due for that:
// on a dead letter, or once it has failed for FallbackAfter since it was
// queued. The store adds a hand-over only once per notification and
// sink, so handing over at every failure past the limit is safe; the
// sinks named are those newly handed to.
func (w *Worker) fail(ctx context.Context, row store.Outbound, n notification.Notification, dead bool, next time.Time,
	o store.Outcome) ([]string, error) {
	due := dead || (w.policy.FallbackAfter > 0 && !o.At.Before(row.CreatedAt.Add(w.policy.FallbackAfter)))
	if len(w.policy.FallbackTo) == 0 || !due || n.ID == "" {
		// n.ID is empty only when the payload could not be read: there
		// is nothing to hand over then.
		if dead {
			return nil, w.store.DeadLetter(ctx, row.ID, row.Lease, o)
		}
		return nil, w.store.Retry(ctx, row.ID, row.Lease, next, o)
	}
	rows, err := handOverRows(row, n, w.name, w.fallbacksTaking(n), o, dead)
	if err != nil {
		return nil, err
	}
	added, err := w.store.FailOver(ctx, row.ID, row.Lease, dead, next, o, rows)
	if err != nil {
		return nil, err
	}
	to := make([]string, 0, len(added))
	for _, a := range added {
		w.handedOver[a.Sink].Inc()
		to = append(to, a.Sink)
	}
	return to, nil
}

// fallbacksTaking are the fallback sinks that take n's transition.
func (w *Worker) fallbacksTaking(n notification.Notification) []string {
	if n.Incident == nil {
		return w.policy.FallbackTo
	}
	var to []string
	for _, sink := range w.policy.FallbackTo {
		if !slices.Contains(w.policy.FallbackSkips[sink], n.Incident.Transition) {
			to = append(to, sink)
		}
	}
	return to
}

// maxReason bounds the failed sink's error a handed-over notification
// carries: enough to say what went wrong, short enough for a Slack field.
const maxReason = 500

// handOverRows makes, for each fallback sink, the outbox row that hands
// it the notification n that the sink from could not deliver. Each row's
// notification id is derived from n's and the fallback sink's, so the
// hand-over recorded again (another failure, a crash before the outcome
// was recorded) is the same row. The row keeps the incident and its
// place in it, so the fallback sink hears of the incident's transitions
// in order, as the failed sink would have; it is queued now, so its age
// limit and its own fallback's count from the hand-over.
func handOverRows(row store.Outbound, n notification.Notification, from string, to []string, o store.Outcome, dead bool) ([]store.Outbound, error) {
	reason := o.Err
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "") + "…"
	}
	out := make([]store.Outbound, 0, len(to))
	for _, sink := range to {
		fn := n
		fn.ID = FallbackID(n.ID, sink)
		fn.Sink = sink
		fn.FallbackFor = &notification.Fallback{Sink: from, Reason: reason, Notification: n.ID, DeadLettered: dead}
		payload, err := json.Marshal(fn)
		if err != nil {
			return nil, fmt.Errorf("handing notification %s over to sink %s: %w", n.ID, sink, err)
		}
		out = append(out, store.Outbound{Sink: sink, NotificationID: fn.ID, Payload: payload, State: store.Pending,
			NextAttempt: o.At, CreatedAt: o.At, AcceptedAt: row.AcceptedAt, IncidentID: row.IncidentID, Seq: row.Seq})
	}
	return out, nil
}

// FallbackID is the id of notification id once handed over to sink: the
// same however often it is handed over, different for each sink.
func FallbackID(id, sink string) string {
	sum := sha256.Sum256([]byte(id + "\x00fallback\x00" + sink))
	return hex.EncodeToString(sum[:12])
}

// errClass names an error's class in the delivery log.
func errClass(retryable bool) string {
	if retryable {
		return "retryable"
	}
	return "permanent"
}

// backoff is exponential with full jitter, so many rows failing together do
// not retry together; a Retry-After from the service wins when it is longer,
// up to MaxBackoff.
func (w *Worker) backoff(attempts int, retryAfter time.Duration) time.Duration {
	d := w.policy.BaseBackoff << min(attempts, 20)
	if d <= 0 || d > w.policy.MaxBackoff {
		d = w.policy.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, min(retryAfter, w.policy.MaxBackoff))
}
