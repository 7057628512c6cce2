package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	MaxBackoff  time.Duration // backoff never exceeds this (a Retry-After may)
	SendTimeout time.Duration // one send attempt
	Poll        time.Duration // how often an idle worker looks for due rows
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
}

// recordTimeout bounds how long recording one outcome may delay shutdown.
const recordTimeout = 10 * time.Second

// Worker delivers one sink's outbox.
type Worker struct {
	name   string
	sink   sinks.Sink
	store  store.Store
	policy Policy
	log    *slog.Logger
	now    func() time.Time
	wake   chan struct{}

	sent, skipped, retried, dead prometheus.Counter
	latency                      prometheus.Observer
}

// NewWorker returns a worker for the sink registered under name; m may be
// nil when nothing serves the metrics.
func NewWorker(name string, s sinks.Sink, st store.Store, p Policy, log *slog.Logger, m *metrics.Metrics) *Worker {
	if p.Workers < 1 {
		p.Workers = 1
	}
	if m == nil {
		m = metrics.Discard()
	}
	m.InitSink(name)
	return &Worker{name: name, sink: s, store: st, policy: p, log: log.With("sink", name),
		now: time.Now, wake: make(chan struct{}, 1),
		sent:    m.Notifications.WithLabelValues(name, metrics.Sent),
		skipped: m.Notifications.WithLabelValues(name, metrics.Skipped),
		retried: m.Notifications.WithLabelValues(name, metrics.Retried),
		dead:    m.Notifications.WithLabelValues(name, metrics.DeadLettered),
		latency: m.DeliveryLatency.WithLabelValues(name)}
}

// Wake tells the worker new rows are queued, so it does not wait for its poll.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Rows leased but not finished when it ends stay
// leased; the next run releases them at start (or the lease runs out).
func (w *Worker) Run(ctx context.Context) {
	rows := make(chan store.Outbound)
	done := make(chan struct{})
	for range w.policy.Workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for row := range rows {
				w.deliver(ctx, row)
			}
		}()
	}
	w.lease(ctx, rows)
	close(rows)
	for range w.policy.Workers {
		<-done
	}
}

func (w *Worker) lease(ctx context.Context, rows chan<- store.Outbound) {
	leaseFor := w.policy.SendTimeout + 30*time.Second
	for ctx.Err() == nil {
		batch, err := w.store.Lease(ctx, w.name, w.now(), w.policy.Workers*4, leaseFor)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "leasing outbox rows failed", "err", err)
		}
		for _, row := range batch {
			select {
			case rows <- row:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-time.After(w.policy.Poll):
		}
	}
}

func (w *Worker) deliver(ctx context.Context, row store.Outbound) {
	var n notification.Notification
	if err := json.Unmarshal(row.Payload, &n); err != nil {
		w.finish(ctx, row, n, sinks.Permanent(fmt.Errorf("decoding queued notification %s: %w", row.NotificationID, err)), sinks.Receipt{})
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.policy.SendTimeout)
	receipt, err := w.sink.Send(sendCtx, n)
	cancel()
	if ctx.Err() != nil && err != nil {
		return // shutting down: the row stays leased and the next start sends it
	}
	w.finish(ctx, row, n, err, receipt)
}

// finish records the outcome of one attempt; a counter moves only once
// the store has the outcome, so a row sent again after a failed ack is
// not counted twice.
func (w *Worker) finish(ctx context.Context, row store.Outbound, n notification.Notification, sendErr error, receipt sinks.Receipt) {
	// The outcome of a send that happened must be recorded even when
	// shutdown has begun: an ack lost to a cancelled context would send the
	// notification again after the restart.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	log := w.log.With("notification", row.NotificationID, "attempt", row.Attempts+1,
		"waba_id", n.Event.WabaID, "field", n.Event.Field, "event", n.Event.Event, "rule", n.Rule)
	now := w.now()
	var err error
	switch retry, after := sinks.IsRetryable(sendErr); {
	case sendErr == nil:
		if err = w.store.Ack(ctx, row.ID, receipt.Ref, now); err == nil {
			if receipt.Detail == sinks.SkippedDetail {
				w.skipped.Inc()
				log.DebugContext(ctx, "notification below the sink's min_severity; not sent")
				return
			}
			w.sent.Inc()
			w.latency.Observe(now.Sub(row.AcceptedAt).Seconds())
			log.InfoContext(ctx, "notification sent", "receipt", receipt.Ref)
		}
	case !retry, row.Attempts+1 >= w.policy.MaxAttempts, now.Sub(row.CreatedAt) > w.policy.MaxAge:
		if err = w.store.DeadLetter(ctx, row.ID, sendErr.Error()); err == nil {
			w.dead.Inc()
		}
		log.ErrorContext(ctx, "notification dead-lettered", "err", sendErr, "retryable", retry)
	default:
		next := now.Add(w.backoff(row.Attempts, after))
		if err = w.store.Retry(ctx, row.ID, next, sendErr.Error()); err == nil {
			w.retried.Inc()
		}
		log.WarnContext(ctx, "notification send failed; will retry", "err", sendErr, "next", next)
	}
	if err != nil {
		log.ErrorContext(ctx, "recording delivery outcome failed", "err", err)
	}
}

// backoff is exponential with full jitter, so many rows failing together do
// not retry together; a Retry-After from the service wins when it is longer.
func (w *Worker) backoff(attempts int, retryAfter time.Duration) time.Duration {
	d := w.policy.BaseBackoff << min(attempts, 20)
	if d <= 0 || d > w.policy.MaxBackoff {
		d = w.policy.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}
