package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/slack"
	"github.com/wabarouter/wabarouter/internal/sinks/webhook"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// fastPolicy keeps retries in milliseconds so outages play out in a test.
var fastPolicy = Policy{Workers: 2, MaxAttempts: 20, MaxAge: time.Hour, BaseBackoff: 5 * time.Millisecond,
	MaxBackoff: 50 * time.Millisecond, SendTimeout: 5 * time.Second, Poll: 10 * time.Millisecond}

var discard = slog.New(slog.DiscardHandler)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// enqueue queues one notification per id for sink, as the router would.
func enqueue(t *testing.T, st store.Store, sink string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	wid, err := st.AppendWebhook(ctx, []byte(`{}`), now)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Process(ctx, wid, func(tx store.Tx) error {
		for _, id := range ids {
			n := notification.Notification{ID: id, Sink: sink, Rule: "r", Title: "title " + id, Severity: notification.Critical, CreatedAt: now}
			payload, err := json.Marshal(n)
			if err != nil {
				return fmt.Errorf("encoding %s: %w", id, err)
			}
			if err := tx.Enqueue(ctx, store.Outbound{Sink: sink, NotificationID: id, Payload: payload,
				State: store.Pending, NextAttempt: now, CreatedAt: now, AcceptedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run starts w and stops it (waiting for it) when the test ends.
func run(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds or 8s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pending(t *testing.T, st store.Store, sink string) int {
	t.Helper()
	stats, err := st.Stats(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return stats[sink].Pending
}

func deadRows(t *testing.T, st store.Store) []store.Outbound {
	t.Helper()
	rows, err := st.ListDead(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// ackRecorder notes the receipts the worker acks with; the store keeps
// them but offers no read of sent rows.
type ackRecorder struct {
	store.Store
	mu       sync.Mutex
	receipts []string
}

func (a *ackRecorder) Ack(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	a.mu.Lock()
	a.receipts = append(a.receipts, o.Receipt)
	a.mu.Unlock()
	return a.Store.Ack(ctx, id, lease, o)
}

func (a *ackRecorder) acks() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.receipts...)
}

func TestWebhookDeliveredAndAcked(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	var got []notification.Notification
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	}))
	defer peer.Close()
	sink, err := webhook.New(webhook.Config{URL: peer.URL}, peer.Client())
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, st, "hook", "n1")
	rec := &ackRecorder{Store: st}
	run(t, NewWorker("hook", "test-owner", sink, rec, fastPolicy, discard, nil))
	waitFor(t, "the row to be acked", func() bool { return pending(t, st, "hook") == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].ID != "n1" {
		t.Fatalf("peer got %+v, want notification n1 once", got)
	}
	if acks := rec.acks(); len(acks) != 1 || acks[0] != "n1" {
		t.Fatalf("acked receipts %q, want [n1] (the webhook sink's Ref is the notification id)", acks)
	}
	if dead := deadRows(t, st); len(dead) != 0 {
		t.Fatalf("dead rows %+v", dead)
	}
}

// slackOutage answers 503 for the first failures requests, then 429 with
// Retry-After: 1 once, then 200; it records when each notification was
// asked for and how often it was accepted.
type slackOutage struct {
	failures int

	mu        sync.Mutex
	n         int
	asked     map[string][]time.Time
	accepted  map[string]int
	limitedID string
	firstOK   time.Time
}

func (s *slackOutage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var id string
	for i := range 3 {
		if strings.Contains(string(body), fmt.Sprintf("slack-%d", i)) {
			id = fmt.Sprintf("slack-%d", i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.asked[id] = append(s.asked[id], time.Now())
	switch {
	case s.n <= s.failures:
		// A slow failing Slack: the other sink must not wait on it.
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusServiceUnavailable)
	case s.n == s.failures+1:
		s.limitedID = id
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, "rate_limited")
	default:
		if s.firstOK.IsZero() {
			s.firstOK = time.Now()
		}
		s.accepted[id]++
		io.WriteString(w, "ok")
	}
}

func TestOutageDoesNotHoldUpOtherSinks(t *testing.T) {
	st := openStore(t)
	outage := &slackOutage{failures: 6, asked: map[string][]time.Time{}, accepted: map[string]int{}}
	slackPeer := httptest.NewServer(outage)
	defer slackPeer.Close()
	var pagerMu sync.Mutex
	pagerGot := map[string]int{}
	var pagerDone time.Time
	pagerPeer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification.Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		pagerMu.Lock()
		pagerGot[n.ID]++
		if len(pagerGot) == 3 && pagerDone.IsZero() {
			pagerDone = time.Now()
		}
		pagerMu.Unlock()
	}))
	defer pagerPeer.Close()

	slackSink, err := slack.New(slack.Config{WebhookURL: slackPeer.URL + "/services/T0/B0/secret"}, slackPeer.Client())
	if err != nil {
		t.Fatal(err)
	}
	pagerSink, err := webhook.New(webhook.Config{URL: pagerPeer.URL}, pagerPeer.Client())
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, st, "slack", "slack-0", "slack-1", "slack-2")
	enqueue(t, st, "pager", "pager-0", "pager-1", "pager-2")
	slackPolicy := fastPolicy
	slackPolicy.Workers = 1
	// Retry-After is honoured up to MaxBackoff; the 429 asks for 1s.
	slackPolicy.MaxBackoff = 1500 * time.Millisecond
	m := metrics.Discard()
	slackWorker := NewWorker("slack", "test-owner", slackSink, st, slackPolicy, discard, m)
	pagerWorker := NewWorker("pager", "test-owner", pagerSink, st, fastPolicy, discard, m)
	run(t, slackWorker)
	run(t, pagerWorker)

	// Nothing in flight: every outcome recorded, and counted.
	waitFor(t, "every row of both sinks to be sent", func() bool {
		return pending(t, st, "slack") == 0 && pending(t, st, "pager") == 0 &&
			slackWorker.InFlight() == 0 && pagerWorker.InFlight() == 0
	})
	if dead := deadRows(t, st); len(dead) != 0 {
		t.Fatalf("rows dead-lettered during a retryable outage: %+v", dead)
	}
	outage.mu.Lock()
	defer outage.mu.Unlock()
	pagerMu.Lock()
	defer pagerMu.Unlock()
	if pagerDone.IsZero() || !pagerDone.Before(outage.firstOK) {
		t.Errorf("pager finished at %v, Slack first accepted at %v: pager was held up by Slack", pagerDone, outage.firstOK)
	}
	for _, id := range []string{"pager-0", "pager-1", "pager-2"} {
		if pagerGot[id] != 1 {
			t.Errorf("pager got %s %d times, want once", id, pagerGot[id])
		}
	}
	for _, id := range []string{"slack-0", "slack-1", "slack-2"} {
		if outage.accepted[id] != 1 {
			t.Errorf("Slack accepted %s %d times, want once", id, outage.accepted[id])
		}
	}
	asks := 0
	for _, a := range outage.asked {
		asks += len(a)
	}
	counts := []struct {
		sink, outcome string
		want          int
	}{
		{"slack", metrics.Sent, 3}, {"pager", metrics.Sent, 3},
		{"slack", metrics.Retried, asks - 3}, {"pager", metrics.Retried, 0},
		{"slack", metrics.DeadLettered, 0},
	}
	for _, c := range counts {
		if got := testutil.ToFloat64(m.Notifications.WithLabelValues(c.sink, c.outcome)); got != float64(c.want) {
			t.Errorf("notifications{sink=%s,outcome=%s} = %v, want %d", c.sink, c.outcome, got, c.want)
		}
	}
	if got := testutil.CollectAndCount(m.DeliveryLatency); got != 2 {
		t.Errorf("latency histograms: %d series, want one per sink", got)
	}
	// The rate-limited notification's next request must respect
	// Retry-After: its last request was the 200, the one before the 429.
	asked := outage.asked[outage.limitedID]
	if len(asked) < 2 {
		t.Fatalf("rate-limited %q asked %d times", outage.limitedID, len(asked))
	}
	limitedAt := asked[len(asked)-2]
	if gap := asked[len(asked)-1].Sub(limitedAt); gap < 950*time.Millisecond {
		t.Errorf("request after the 429 came %v later, want >= 1s (Retry-After)", gap)
	}
}

func TestDeadLetter(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		policy   func(*Policy)
		wantReqs int
		wantErr  string
	}{
		{"permanent error at once", http.StatusBadRequest, func(*Policy) {}, 1, "HTTP 400"},
		{"retryable until MaxAttempts", http.StatusBadGateway, func(p *Policy) { p.MaxAttempts = 3 }, 3, "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			var mu sync.Mutex
			reqs := 0
			peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				reqs++
				mu.Unlock()
				http.Error(w, "nope", tt.status)
			}))
			defer peer.Close()
			sink, err := webhook.New(webhook.Config{URL: peer.URL}, peer.Client())
			if err != nil {
				t.Fatal(err)
			}
			p := fastPolicy
			tt.policy(&p)
			enqueue(t, st, "hook", "n1")
			m := metrics.Discard()
			w := NewWorker("hook", "test-owner", sink, st, p, discard, m)
			run(t, w)
			var dead []store.Outbound
			// Once the row is dead and nothing is in flight, no send can
			// follow: a dead row is never leased.
			waitFor(t, "the row to be dead-lettered", func() bool {
				dead = deadRows(t, st)
				return len(dead) == 1 && w.InFlight() == 0
			})
			mu.Lock()
			defer mu.Unlock()
			if reqs != tt.wantReqs {
				t.Errorf("peer asked %d times, want %d", reqs, tt.wantReqs)
			}
			if got := testutil.ToFloat64(m.Notifications.WithLabelValues("hook", metrics.DeadLettered)); got != 1 {
				t.Errorf("dead_lettered = %v, want 1", got)
			}
			if got := testutil.ToFloat64(m.Notifications.WithLabelValues("hook", metrics.Retried)); got != float64(tt.wantReqs-1) {
				t.Errorf("retried = %v, want %d", got, tt.wantReqs-1)
			}
			if !strings.Contains(dead[0].LastError, tt.wantErr) {
				t.Errorf("last error %q, want it to contain %q", dead[0].LastError, tt.wantErr)
			}
		})
	}
}

// TestBackoffHonoursRetryAfter checks the bound directly: a Retry-After
// longer than the backoff wins, and jitter stays within the cap.
func TestBackoffHonoursRetryAfter(t *testing.T) {
	w := NewWorker("x", "test-owner", nil, nil, fastPolicy, discard, nil)
	for attempts := range 30 {
		d := w.backoff(attempts, 0)
		if d <= 0 || d > fastPolicy.MaxBackoff {
			t.Fatalf("backoff(%d) = %v, want in (0, %v]", attempts, d, fastPolicy.MaxBackoff)
		}
		if got := w.backoff(attempts, 40*time.Millisecond); got < 40*time.Millisecond {
			t.Fatalf("backoff(%d, 40ms) = %v, want at least the Retry-After", attempts, got)
		}
		for _, huge := range []time.Duration{24 * time.Hour, 3153600000 * time.Second} {
			if got := w.backoff(attempts, huge); got != fastPolicy.MaxBackoff {
				t.Fatalf("backoff(%d, %v) = %v, want it capped at MaxBackoff %v", attempts, huge, got, fastPolicy.MaxBackoff)
			}
		}
	}
}

var _ sinks.Sink = (*webhook.Sink)(nil)

// shutdownDuringSend is a sink whose send succeeds just as the router
// begins to shut down.
type shutdownDuringSend struct {
	stop func()
	sent int
}

func (s *shutdownDuringSend) Send(context.Context, sinks.Delivery) (sinks.Receipt, error) {
	s.sent++
	s.stop()
	return sinks.Receipt{Ref: "ok"}, nil
}

func TestShutdownStillRecordsACompletedSend(t *testing.T) {
	st := openStore(t)
	enqueue(t, st, "hook", "n1")
	ctx, cancel := context.WithCancel(context.Background())
	sink := &shutdownDuringSend{stop: cancel}
	p := fastPolicy
	p.Workers = 1
	NewWorker("hook", "test-owner", sink, st, p, discard, nil).Run(ctx)
	if sink.sent != 1 {
		t.Fatalf("sink sent %d times, want 1", sink.sent)
	}
	// Pending would mean a restart sends it again: a duplicate.
	if n := pending(t, st, "hook"); n != 0 {
		t.Errorf("%d rows still pending after a send that succeeded during shutdown; want it recorded as sent", n)
	}
}

// recordingSink accepts every notification and notes its id.
type recordingSink struct {
	mu  sync.Mutex
	ids []string
}

func (s *recordingSink) Send(_ context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, d.Notification.ID)
	return sinks.Receipt{Ref: d.Notification.ID}, nil
}

func (s *recordingSink) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// An incident's second transition is leased as soon as the first is
// recorded, not at the worker's next poll: the lease that took the first
// could not take the second, which waits for the first to be sent.
func TestNextTransitionGoesOutOnceTheFirstIsRecorded(t *testing.T) {
	st := openStore(t)
	enqueueIncident(t, st, "hook", "inc-1", 1, 2)
	sink := &recordingSink{}
	p := fastPolicy
	p.Poll = time.Hour // a poll would not come within the test
	run(t, NewWorker("hook", "test-owner", sink, st, p, discard, nil))
	waitFor(t, "both transitions to be sent", func() bool { return len(sink.sent()) == 2 })
	if got := sink.sent(); got[0] != "inc-1-1" || got[1] != "inc-1-2" {
		t.Fatalf("sent %q, want the opening then the update", got)
	}
}
