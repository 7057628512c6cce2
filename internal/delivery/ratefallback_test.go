package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/webhook"
	"github.com/wabarouter/wabarouter/internal/store"
)

// arrival is one notification a recordingPeer took, and when.
type arrival struct {
	n  notification.Notification
	at time.Time
}

// recordingPeer is a webhook receiver that keeps, in order, the
// notifications it answered 200; status, when set, answers instead
// (0 for 200) and the refused ones are only counted.
type recordingPeer struct {
	mu      sync.Mutex
	got     []arrival
	refused int
	status  func() int
}

func newRecordingPeer(t *testing.T, status func() int) (*recordingPeer, *webhook.Sink) {
	t.Helper()
	p := &recordingPeer{status: status}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	sink, err := webhook.New(webhook.Config{URL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p, sink
}

func (p *recordingPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n notification.Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if p.status != nil {
		if code := p.status(); code != 0 {
			p.mu.Lock()
			p.refused++
			p.mu.Unlock()
			http.Error(w, "down", code)
			return
		}
	}
	p.mu.Lock()
	p.got = append(p.got, arrival{n, time.Now()})
	p.mu.Unlock()
}

func (p *recordingPeer) arrivals() []arrival {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]arrival(nil), p.got...)
}

func (p *recordingPeer) refusals() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// enqueueIncident queues one notification per seq of one incident for
// sink, as the router queues an incident's transitions: the opening,
// then repeats.
func enqueueIncident(t *testing.T, st store.Store, sink, incident string, seqs ...int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	wid, err := st.AppendWebhook(ctx, []byte(`{}`), now)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Process(ctx, wid, func(tx store.Tx) error {
		for _, seq := range seqs {
			id := fmt.Sprintf("%s-%d", incident, seq)
			n := notification.Notification{ID: id, Sink: sink, Rule: "r", Title: "title " + id, Severity: notification.Error,
				CreatedAt: now, Incident: &notification.Incident{ID: incident, Seq: seq, Transition: notification.Updated}}
			if seq == 1 {
				n.Incident.Transition = notification.Opened
			}
			payload, err := json.Marshal(n)
			if err != nil {
				return fmt.Errorf("encoding %s: %w", id, err)
			}
			if err := tx.Enqueue(ctx, store.Outbound{Sink: sink, NotificationID: id, Payload: payload, State: store.Pending,
				NextAttempt: now, CreatedAt: now, AcceptedAt: now, IncidentID: incident, Seq: seq}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRateLimitPacesOneSinkOnly: a sink held to 20 sends a second gets a
// burst of 11 no faster than that, every one of them once and none
// dropped, while a sink without a rate delivers its own burst at once.
func TestRateLimitPacesOneSinkOnly(t *testing.T) {
	st := openStore(t)
	slow, slowSink := newRecordingPeer(t, nil)
	fast, fastSink := newRecordingPeer(t, nil)
	ids := make([]string, 11)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%02d", i)
	}
	enqueue(t, st, "limited", ids...)
	enqueue(t, st, "free", ids...)
	limited := fastPolicy
	limited.Workers, limited.Rate, limited.Burst = 4, rate.Limit(20), 1
	run(t, NewWorker("limited", "test-owner", slowSink, st, limited, discard, nil))
	run(t, NewWorker("free", "test-owner", fastSink, st, fastPolicy, discard, nil))

	waitFor(t, "both sinks to take every notification", func() bool {
		return len(slow.arrivals()) == len(ids) && len(fast.arrivals()) == len(ids)
	})
	got := slow.arrivals()
	seen := map[string]bool{}
	for _, a := range got {
		if seen[a.n.ID] {
			t.Errorf("%s reached the limited sink twice", a.n.ID)
		}
		seen[a.n.ID] = true
	}
	// Burst 1 at 20/s: the 11 sends take at least 10 intervals of 50ms.
	if span := got[len(got)-1].at.Sub(got[0].at); span < 10*50*time.Millisecond-10*time.Millisecond {
		t.Errorf("the limited sink took 11 sends in %s, want no faster than 20/s (about 500ms)", span)
	}
	if last := fast.arrivals()[len(ids)-1].at; !last.Before(got[len(got)-1].at) {
		t.Errorf("the sink without a rate finished at %s, after the limited one (%s): the limit held it up", last, got[len(got)-1].at)
	}
	if dead := deadRows(t, st); len(dead) != 0 {
		t.Errorf("dead rows %v, want none: a burst waits, it is never dropped", nids(dead))
	}
}

func nids(rows []store.Outbound) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.NotificationID
	}
	return out
}

// TestFallbackOnDeadLetter: a sink whose every send is refused for good
// hands each notification to its fallback, once, marked as a fallback,
// and the incident's transitions reach the fallback in order.
func TestFallbackOnDeadLetter(t *testing.T) {
	st := openStore(t)
	_, brokenSink := newRecordingPeer(t, func() int { return http.StatusBadRequest })
	backup, backupSink := newRecordingPeer(t, nil)
	enqueueIncident(t, st, "broken", "inc", 1, 2, 3)
	p := fastPolicy
	p.FallbackTo = []string{"backup"}
	m := metrics.Discard()
	run(t, NewWorker("broken", "test-owner", brokenSink, st, p, discard, m))
	backupPolicy := fastPolicy
	backupPolicy.Workers = 4
	run(t, NewWorker("backup", "test-owner", backupSink, st, backupPolicy, discard, m))

	waitFor(t, "the backup to take all three and the outbox to drain", func() bool {
		return len(backup.arrivals()) == 3 && pending(t, st, "backup") == 0 && len(deadRows(t, st)) == 3
	})
	for i, a := range backup.arrivals() {
		orig := fmt.Sprintf("inc-%d", i+1)
		if fb := a.n.FallbackFor; fb == nil || fb.Sink != "broken" || fb.Notification != orig || !fb.DeadLettered || !strings.Contains(fb.Reason, "HTTP 400") {
			t.Errorf("arrival %d fallback_for = %+v, want broken's HTTP 400 on %s, dead-lettered", i, fb, orig)
		}
		if a.n.ID != FallbackID(orig, "backup") || a.n.Sink != "backup" {
			t.Errorf("arrival %d is %s for %s, want %s for backup", i, a.n.ID, a.n.Sink, FallbackID(orig, "backup"))
		}
		if a.n.Incident == nil || a.n.Incident.Seq != i+1 {
			t.Errorf("arrival %d is incident %+v, want seq %d: transitions in order", i, a.n.Incident, i+1)
		}
	}
	if got := testutil.ToFloat64(m.Notifications.WithLabelValues("backup", metrics.Fallback)); got != 3 {
		t.Errorf("fallback count of backup = %v, want 3", got)
	}
}

// TestFallbackAfterKeepsRetrying: a sink that keeps failing past
// FallbackAfter hands each notification over once, however often it
// fails after that, and still delivers them itself once it recovers.
func TestFallbackAfterKeepsRetrying(t *testing.T) {
	st := openStore(t)
	var down atomic.Bool
	down.Store(true)
	flaky, flakySink := newRecordingPeer(t, func() int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	backup, backupSink := newRecordingPeer(t, nil)
	enqueue(t, st, "flaky", "a", "b")
	p := fastPolicy
	p.MaxAttempts, p.FallbackTo, p.FallbackAfter = 1000, []string{"backup"}, 100*time.Millisecond
	m := metrics.Discard()
	run(t, NewWorker("flaky", "test-owner", flakySink, st, p, discard, m))
	run(t, NewWorker("backup", "test-owner", backupSink, st, fastPolicy, discard, m))

	waitFor(t, "the backup to take both", func() bool { return len(backup.arrivals()) == 2 })
	// Go on failing well past the hand-over before recovering.
	handedAt := flaky.refusals()
	waitFor(t, "more failures after the hand-over", func() bool { return flaky.refusals() >= handedAt+6 })
	down.Store(false)
	waitFor(t, "the recovered sink to deliver both itself", func() bool {
		return len(flaky.arrivals()) == 2 && pending(t, st, "flaky") == 0 && pending(t, st, "backup") == 0
	})
	count := map[string]int{}
	for _, a := range backup.arrivals() {
		count[a.n.FallbackFor.Notification]++
		if a.n.FallbackFor.DeadLettered || a.n.FallbackFor.Sink != "flaky" || !strings.Contains(a.n.FallbackFor.Reason, "HTTP 503") {
			t.Errorf("fallback_for = %+v, want flaky, still retrying, its HTTP 503", a.n.FallbackFor)
		}
	}
	if count["a"] != 1 || count["b"] != 1 {
		t.Errorf("backup got %v, want a and b once each", count)
	}
	if got := testutil.ToFloat64(m.Notifications.WithLabelValues("backup", metrics.Fallback)); got != 2 {
		t.Errorf("fallback count of backup = %v, want 2", got)
	}
	if dead := deadRows(t, st); len(dead) != 0 {
		t.Errorf("dead rows %v, want none", nids(dead))
	}
}

func TestFallbackIDIsStablePerSink(t *testing.T) {
	// Derived, not random: a crash that records the hand-over again
	// must name the same row. The value is pinned so it cannot change
	// between releases, which would hand a queued notification over twice.
	if got, want := FallbackID("n1", "a"), "d87e2a22f8238a5d7962d39b"; got != want {
		t.Errorf("FallbackID(n1, a) = %s, want %s", got, want)
	}
	if FallbackID("n1", "a") == FallbackID("n1", "b") || FallbackID("n1", "a") == FallbackID("n2", "a") {
		t.Error("FallbackID is the same for different notifications or sinks")
	}
}

// TestFallbackSkipsWhatItsSinkSkips: a repeat is not handed to a
// fallback sink whose type takes no repeats; its opening is.
func TestFallbackSkipsWhatItsSinkSkips(t *testing.T) {
	st := openStore(t)
	_, brokenSink := newRecordingPeer(t, func() int { return http.StatusBadRequest })
	all, allSink := newRecordingPeer(t, nil)
	noRepeats, noRepeatsSink := newRecordingPeer(t, nil)
	enqueueIncident(t, st, "broken", "inc", 1, 2)
	p := fastPolicy
	p.FallbackTo = []string{"all", "no-repeats"}
	p.FallbackSkips = map[string][]notification.Transition{"no-repeats": {notification.Updated}}
	run(t, NewWorker("broken", "test-owner", brokenSink, st, p, discard, nil))
	run(t, NewWorker("all", "test-owner", allSink, st, fastPolicy, discard, nil))
	run(t, NewWorker("no-repeats", "test-owner", noRepeatsSink, st, fastPolicy, discard, nil))
	waitFor(t, "both dead and the fallbacks drained", func() bool {
		return len(deadRows(t, st)) == 2 && len(all.arrivals()) == 2 && pending(t, st, "no-repeats") == 0 && len(noRepeats.arrivals()) >= 1
	})
	got := noRepeats.arrivals()
	if len(got) != 1 || got[0].n.Incident.Transition != notification.Opened {
		t.Errorf("the sink that takes no repeats got %d notifications (first %+v), want the opening alone", len(got), got[0].n.Incident)
	}
}
