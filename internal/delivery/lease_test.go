package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/webhook"
	"github.com/wabarouter/wabarouter/internal/store"
)

// countingPeer is a webhook receiver that counts deliveries per
// notification id and answers with answer (200 when it returns 0).
type countingPeer struct {
	mu     sync.Mutex
	got    map[string]int
	answer func(n int, w http.ResponseWriter) int
	calls  int
}

func newCountingPeer(t *testing.T, answer func(n int, w http.ResponseWriter) int) (*countingPeer, *webhook.Sink) {
	t.Helper()
	p := &countingPeer{got: map[string]int{}, answer: answer}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	sink, err := webhook.New(webhook.Config{URL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p, sink
}

func (p *countingPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n notification.Notification
	_ = json.NewDecoder(r.Body).Decode(&n)
	p.mu.Lock()
	p.calls++
	call := p.calls
	p.mu.Unlock()
	status := 0
	if p.answer != nil {
		status = p.answer(call, w)
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	p.mu.Lock()
	p.got[n.ID]++
	p.mu.Unlock()
}

func (p *countingPeer) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.got {
		out[k] = v
	}
	return out
}

// TestSlowReceiverGetsEachOnce: a receiver slower than the lease, and two
// workers of different owners on one store with more senders than rows,
// so one of them is always free to take a row whose lease ran out. Every
// notification must arrive exactly once: nothing is leased before a
// sender is free, and a send renews its lease while it runs.
func TestSlowReceiverGetsEachOnce(t *testing.T) {
	st := openStore(t)
	// Renewed every third of it: long enough that a renewal delayed by a
	// loaded machine (the race detector, a parallel test suite) still
	// comes in time, which 150 ms was not.
	const lease = 600 * time.Millisecond
	peer, sink := newCountingPeer(t, func(int, http.ResponseWriter) int {
		time.Sleep(2 * lease) // each send outlives its first lease
		return 0
	})
	ids := queueFour(t, st)
	p := oneSender(lease)
	a := NewWorker("hook", "replica-a", sink, st, p, discard, nil)
	p.Workers = 4
	b := NewWorker("hook", "replica-b", sink, st, p, discard, nil)
	run(t, a)
	run(t, b)
	waitFor(t, "all four delivered and recorded", func() bool {
		return pending(t, st, "hook") == 0 && a.InFlight() == 0 && b.InFlight() == 0
	})
	wantEachOnce(t, peer, ids)
}

// TestRetryAfterIsCapped: a 429 asking for a day (or a century) must not
// hold a notification back longer than the sink's MaxBackoff.
func TestRetryAfterIsCapped(t *testing.T) {
	for _, after := range []string{"86400", "3153600000"} {
		t.Run(after, func(t *testing.T) {
			st := openStore(t)
			peer, sink := newCountingPeer(t, func(call int, w http.ResponseWriter) int {
				if call == 1 {
					w.Header().Set("Retry-After", after)
					return http.StatusTooManyRequests
				}
				return 0
			})
			enqueue(t, st, "hook", "n1")
			w := NewWorker("hook", "test-owner", sink, st, fastPolicy, discard, nil)
			run(t, w)
			waitFor(t, "the rate-limited notification to be sent", func() bool {
				return pending(t, st, "hook") == 0 && w.InFlight() == 0
			})
			if got := peer.counts()["n1"]; got != 1 {
				t.Fatalf("n1 delivered %d times, want once", got)
			}
		})
	}
}

// TestAgeLimitAppliesWhenScheduling: a retry whose wait would end past the
// age limit is made at the limit, and then dead-lettered, rather than
// parked in pending for as long as the service asked.
func TestAgeLimitAppliesWhenScheduling(t *testing.T) {
	st := openStore(t)
	_, sink := newCountingPeer(t, func(_ int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "3600")
		return http.StatusServiceUnavailable
	})
	enqueue(t, st, "hook", "n1")
	p := fastPolicy
	p.MaxAge = 300 * time.Millisecond
	p.MaxBackoff = time.Hour
	w := NewWorker("hook", "test-owner", sink, st, p, discard, nil)
	run(t, w)
	waitFor(t, "the row to reach the dead letter at its age limit", func() bool {
		return len(deadRows(t, st)) == 1 && w.InFlight() == 0
	})
	if dead := deadRows(t, st); !strings.Contains(dead[0].LastError, "503") {
		t.Errorf("dead row's last error %q, want the 503", dead[0].LastError)
	}
}

// recordingHandler keeps every log record's level and message.
type recordingHandler struct {
	mu    sync.Mutex
	lines []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, r.Level.String()+" "+r.Message)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestOutageLogsFirstFailureSummaryAndRecovery: an outage of many failed
// attempts writes one line when it starts, a summary per LogEvery, and one
// when it ends, while every attempt is still counted.
func TestOutageLogsFirstFailureSummaryAndRecovery(t *testing.T) {
	const failures = 40
	for _, tc := range []struct {
		name        string
		every       time.Duration
		wantSummary bool
	}{
		{"no summary within the interval", time.Hour, false},
		{"summaries once the interval passes", time.Nanosecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			_, sink := newCountingPeer(t, func(call int, _ http.ResponseWriter) int {
				if call <= failures {
					return http.StatusBadGateway
				}
				return 0
			})
			ids := make([]string, 8)
			for i := range ids {
				ids[i] = fmt.Sprintf("n%d", i)
			}
			enqueue(t, st, "hook", ids...)
			p := fastPolicy
			p.MaxAttempts = 1000
			p.BaseBackoff, p.MaxBackoff = time.Millisecond, 2*time.Millisecond
			p.LogEvery = tc.every
			logs := &recordingHandler{}
			m := metrics.Discard()
			w := NewWorker("hook", "test-owner", sink, st, p, slog.New(logs), m)
			run(t, w)
			waitFor(t, "every row sent after the outage", func() bool {
				return pending(t, st, "hook") == 0 && w.InFlight() == 0
			})
			if got := testutil.ToFloat64(m.Notifications.WithLabelValues("hook", metrics.Retried)); got != failures {
				t.Errorf("retried = %v, want every one of the %d failed attempts", got, failures)
			}
			if n := logs.count("WARN sink failing"); n != 1 {
				t.Errorf("%d 'sink failing' lines, want 1", n)
			}
			if n := logs.count("INFO sink recovered"); n != 1 {
				t.Errorf("%d 'sink recovered' lines, want 1", n)
			}
			summaries := logs.count("WARN sink still failing")
			if tc.wantSummary && summaries == 0 {
				t.Error("no summary line although the interval passed")
			}
			if !tc.wantSummary && summaries != 0 {
				t.Errorf("%d summary lines within the interval, want 0", summaries)
			}
			if warns := logs.count("WARN"); warns > 1+summaries {
				t.Errorf("%d warning lines for %d failed attempts; want the first and the summaries only", warns, failures)
			}
		})
	}
}

var _ store.Store = (*ackRecorder)(nil)

// flakyAcks is a store whose first acks fail as a dropped database
// connection does: nothing is recorded, and the error says nothing of
// the lease.
type flakyAcks struct {
	store.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyAcks) Ack(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("ack %d: %w", id, errConnectionReset)
	}
	return f.Store.Ack(ctx, id, lease, o)
}

var errConnectionReset = fmt.Errorf("FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")

// TestAckFailureIsRecordedNotResent: the send happened and recording it
// failed for a while (the replica's database connection was cut). The
// worker records it when the store answers again, keeping the lease
// meanwhile, so the other replica does not send it a second time once
// the lease would have run out.
func TestAckFailureIsRecordedNotResent(t *testing.T) {
	base := openStore(t)
	st := &flakyAcks{Store: base, fails: 6}
	const lease = 300 * time.Millisecond
	peer, sink := newCountingPeer(t, nil)
	ids := []string{"n1", "n2", "n3"}
	enqueue(t, base, "hook", ids...)
	p := fastPolicy
	p.LeaseFor = lease
	a := NewWorker("hook", "replica-a", sink, st, p, discard, nil)
	run(t, a)
	// The other replica starts once the first has sent and failed to
	// record, so the rows are the first's and their fate is its record.
	waitFor(t, "a failed ack", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.fails < 6
	})
	b := NewWorker("hook", "replica-b", sink, base, p, discard, nil)
	run(t, b)
	waitFor(t, "all three delivered and recorded", func() bool {
		return pending(t, base, "hook") == 0 && a.InFlight() == 0 && b.InFlight() == 0
	})
	wantEachOnce(t, peer, ids)
}

// stalledRenewals is a store whose renewals never answer, as a database
// too loaded to take them within a lease.
type stalledRenewals struct{ store.Store }

func (stalledRenewals) RenewAll(ctx context.Context, _ []store.HeldLease, _ time.Time) ([]int64, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStalledRenewalsDoNotDoubleAPage: replica a holds four rows, one
// being sent and three waiting for its one sender, and its renewals stop
// answering. Once the leases run out replica b sends all four. When a's
// sender is free again it must not send the rows it still holds: each
// notification arrives once.
func TestStalledRenewalsDoNotDoubleAPage(t *testing.T) {
	st := openStore(t)
	const lease = 300 * time.Millisecond
	release := make(chan struct{})
	peer, sink := newCountingPeer(t, func(call int, w http.ResponseWriter) int {
		if call == 1 {
			<-release // a's first send, held until b has sent everything
			return http.StatusServiceUnavailable
		}
		return 0
	})
	ids := queueFour(t, st)
	p := oneSender(lease)
	a := NewWorker("hook", "replica-a", sink, stalledRenewals{st}, p, discard, nil)
	run(t, a)
	waitFor(t, "replica a to hold all four and be sending one", func() bool {
		peer.mu.Lock()
		defer peer.mu.Unlock()
		return a.InFlight() == len(ids) && peer.calls == 1
	})
	b := NewWorker("hook", "replica-b", sink, st, p, discard, nil)
	run(t, b)
	waitFor(t, "replica b to send all four once a's leases ran out", func() bool {
		return len(peer.counts()) == len(ids)
	})
	close(release)
	waitFor(t, "replica a to let go of what it held", func() bool { return a.InFlight() == 0 })
	waitFor(t, "every outcome recorded", func() bool { return pending(t, st, "hook") == 0 && b.InFlight() == 0 })
	wantEachOnce(t, peer, ids)
}

// queueFour queues four notifications for sink hook and returns their ids.
func queueFour(t *testing.T, st store.Store) []string {
	t.Helper()
	ids := []string{"n1", "n2", "n3", "n4"}
	enqueue(t, st, "hook", ids...)
	return ids
}

// oneSender is fastPolicy with one sender and leases of lease.
func oneSender(lease time.Duration) Policy {
	p := fastPolicy
	p.Workers = 1
	p.LeaseFor = lease
	return p
}

// wantEachOnce fails for every id the peer did not get exactly once.
func wantEachOnce(t *testing.T, peer *countingPeer, ids []string) {
	t.Helper()
	got := peer.counts()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("%s delivered %d times, want once (all: %v)", id, got[id], got)
		}
	}
}
