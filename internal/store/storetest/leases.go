package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// outcomes are the calls a sender records a send's outcome with.
func outcomes(ctx context.Context, s store.Store, row store.Outbound) map[string]func() error {
	return map[string]func() error{
		"Ack":        func() error { return s.Ack(ctx, row.ID, row.Lease, store.Outcome{Receipt: "r", At: t0}) },
		"Retry":      func() error { return s.Retry(ctx, row.ID, row.Lease, t0, store.Outcome{Err: "e"}) },
		"DeadLetter": func() error { return s.DeadLetter(ctx, row.ID, row.Lease, store.Outcome{Err: "e"}) },
		"RenewAll": func() error {
			lost, err := s.RenewAll(ctx, []store.HeldLease{{ID: row.ID, Lease: row.Lease}}, t0.Add(time.Hour))
			if err == nil && len(lost) == 1 {
				return store.ErrLeaseLost
			}
			return err
		},
	}
}

// testLeaseFencing: once a lease ran out and the row was leased again,
// every outcome of the old lease is refused and changes nothing, whether
// the new holder is another owner or the same one.
func testLeaseFencing(t *testing.T, s store.Store) {
	ctx := t.Context()
	enqueue(t, s, outbound("slack", "a", t0))
	first := lease(t, s, "slack", t0, 1)[0]
	if first.Lease.Owner != owner || first.Lease.Token == 0 || !first.Lease.Until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("lease = %+v, want owner %s, a token and until t0+1m", first.Lease, owner)
	}
	second := leaseAs(t, s, "replica-b", "slack", t0.Add(61*time.Second), 1)
	wantNIDs(t, "lease after expiry", second, "a")
	for name, call := range outcomes(ctx, s, first) {
		if err := call(); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("%s under the lost lease = %v, want ErrLeaseLost", name, err)
		}
	}
	// The row was not touched: the new holder still records its outcome.
	if err := s.Ack(ctx, second[0].ID, second[0].Lease, store.Outcome{Receipt: "r2", At: t0}); err != nil {
		t.Fatalf("Ack by the holder: %v", err)
	}
	// A finished row refuses a second outcome of the same lease.
	if err := s.Retry(ctx, second[0].ID, second[0].Lease, t0, store.Outcome{Err: "late"}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Retry after Ack = %v, want ErrLeaseLost", err)
	}
	if st, _ := s.Stats(ctx, t0); st["slack"].Pending != 0 {
		t.Errorf("pending after ack = %d, want 0", st["slack"].Pending)
	}

	// The same owner leasing again gets a new token; the old one is dead.
	enqueue(t, s, outbound("slack", "b", t0))
	old := lease(t, s, "slack", t0, 1)[0]
	renewed := lease(t, s, "slack", t0.Add(2*time.Minute), 1)[0]
	if renewed.Lease.Token == old.Lease.Token {
		t.Fatalf("re-lease by the same owner kept token %d", old.Lease.Token)
	}
	if err := s.Ack(ctx, old.ID, old.Lease, store.Outcome{Receipt: "r", At: t0}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack under the same owner's older lease = %v, want ErrLeaseLost", err)
	}
}

// testLeaseRunOutButKept: a lease that ran out while nobody else took the
// row still records its outcome, so a slow send is not sent again.
func testLeaseRunOutButKept(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "a", t0))
	row := lease(t, s, "slack", t0, 1)[0]
	if err := s.Ack(t.Context(), row.ID, row.Lease, store.Outcome{Receipt: "r", At: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("Ack after the lease ran out, row not re-leased: %v", err)
	}
	wantNIDs(t, "after ack", lease(t, s, "slack", t0.Add(2*time.Hour), 10))
}

// testRenewAll: one call extends the leases still held and names the
// rows whose lease is over: finished, leased by another, or unknown.
func testRenewAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	if lost, err := s.RenewAll(ctx, nil, t0); err != nil || len(lost) != 0 {
		t.Fatalf("RenewAll of nothing = %v, %v; want nothing", lost, err)
	}
	enqueue(t, s, outbound("slack", "a", t0), outbound("slack", "b", t0))
	mine := lease(t, s, "slack", t0, 2)
	wantNIDs(t, "mine", mine, "a", "b")
	if err := s.Ack(ctx, mine[1].ID, mine[1].Lease, store.Outcome{Receipt: "r", At: t0}); err != nil {
		t.Fatalf("Ack b: %v", err)
	}
	enqueue(t, s, outbound("slack", "c", t0))
	theirs := leaseAs(t, s, "replica-b", "slack", t0, 1)
	wantNIDs(t, "theirs", theirs, "c")
	const unknown = 1 << 40
	held := []store.HeldLease{
		{ID: mine[0].ID, Lease: mine[0].Lease},
		{ID: mine[1].ID, Lease: mine[1].Lease},
		{ID: theirs[0].ID, Lease: store.Lease{Owner: owner, Token: theirs[0].Lease.Token}},
		{ID: unknown, Lease: mine[0].Lease},
	}
	lost, err := s.RenewAll(ctx, held, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatalf("RenewAll: %v", err)
	}
	slices.Sort(lost)
	if want := []int64{mine[1].ID, theirs[0].ID, unknown}; !slices.Equal(lost, want) {
		t.Errorf("RenewAll lost %v, want %v (b acked, c another's, one unknown)", lost, want)
	}
	// a is held past its first minute, c (not renewed) is not; once the
	// renewal ran out a is free too (and c, whose new minute is over).
	wantNIDs(t, "after the first minute", leaseAs(t, s, "replica-c", "slack", t0.Add(2*time.Minute), 10), "c")
	wantNIDs(t, "after the renewal ran out", leaseAs(t, s, "replica-c", "slack", t0.Add(5*time.Minute+time.Second), 10), "a", "c")
}

func testReleaseOwnLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	enqueue(t, s, outbound("slack", "a", t0), outbound("slack", "b", t0), outbound("pd", "c", t0))
	mine := lease(t, s, "slack", t0, 1)
	mine = append(mine, lease(t, s, "pd", t0, 1)...)
	theirs := leaseAs(t, s, "replica-b", "slack", t0, 1)
	wantNIDs(t, "theirs", theirs, "b")
	n, err := s.ReleaseLeases(ctx, owner)
	if err != nil || n != 2 {
		t.Fatalf("ReleaseLeases(%s) = %d, %v; want 2", owner, n, err)
	}
	// Mine are free at once; theirs is still held.
	wantNIDs(t, "slack after release", leaseAs(t, s, "replica-c", "slack", t0, 10), "a")
	wantNIDs(t, "pd after release", leaseAs(t, s, "replica-c", "pd", t0, 10), "c")
	if err := s.Ack(ctx, mine[0].ID, mine[0].Lease, store.Outcome{Receipt: "r", At: t0}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack under a released lease = %v, want ErrLeaseLost", err)
	}
	if err := s.Ack(ctx, theirs[0].ID, theirs[0].Lease, store.Outcome{Receipt: "r", At: t0}); err != nil {
		t.Errorf("Ack by the other owner after my release: %v", err)
	}
}

// testTwoHandlesNeverHoldOneRow leases from two handles on one store at
// once, as two replicas would, and checks every row went to exactly one
// of them and was acked once.
func testTwoHandlesNeverHoldOneRow(t *testing.T, a, b store.Store) {
	const rows = 120
	batch := make([]store.Outbound, rows)
	for i := range batch {
		batch[i] = outbound("slack", fmt.Sprintf("n%03d", i), t0)
	}
	enqueue(t, a, batch...)
	var mu sync.Mutex
	held := map[string]string{}
	var errs []error
	var wg sync.WaitGroup
	for i, h := range []store.Store{a, b, a, b} {
		who := fmt.Sprintf("replica-%d", i)
		wg.Go(func() {
			for {
				got, err := h.Lease(context.Background(), "slack", who, t0, 7, time.Hour)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(got) == 0 {
					return
				}
				for _, r := range got {
					mu.Lock()
					if prev, ok := held[r.NotificationID]; ok {
						errs = append(errs, fmt.Errorf("%s leased by %s and %s", r.NotificationID, prev, who))
					}
					held[r.NotificationID] = who
					mu.Unlock()
					if err := h.Ack(context.Background(), r.ID, r.Lease, store.Outcome{Receipt: who, At: t0}); err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("ack %s by %s: %w", r.NotificationID, who, err))
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(held) != rows {
		t.Fatalf("%d rows leased, want %d", len(held), rows)
	}
	if st, err := b.Stats(t.Context(), t0); err != nil || st["slack"].Pending != 0 {
		t.Fatalf("pending after both drained = %+v, %v", st, err)
	}
}

// testTwoHandlesFenceOutcomes: a handle whose lease was lost cannot record
// over the other handle's lease.
func testTwoHandlesFenceOutcomes(t *testing.T, a, b store.Store) {
	enqueue(t, a, outbound("slack", "x", t0))
	lost := leaseAs(t, a, "replica-a", "slack", t0, 1)[0]
	holder := leaseAs(t, b, "replica-b", "slack", t0.Add(2*time.Minute), 1)
	wantNIDs(t, "other handle after expiry", holder, "x")
	if err := a.Retry(t.Context(), lost.ID, lost.Lease, t0, store.Outcome{Err: "late"}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Retry through the first handle = %v, want ErrLeaseLost", err)
	}
	if err := b.Ack(t.Context(), holder[0].ID, holder[0].Lease, store.Outcome{Receipt: "ok", At: t0}); err != nil {
		t.Fatalf("Ack through the holding handle: %v", err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on a healthy store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}

// testResent: a row is marked resent once an attempt at it may have
// reached the sink: its lease was released or ran out with no outcome,
// or an attempt failed.
func testResent(t *testing.T, s store.Store) {
	ctx := t.Context()
	enqueue(t, s, outbound("slack", "released", t0), outbound("slack", "expired", t0), outbound("slack", "retried", t0))
	first := lease(t, s, "slack", t0, 10)
	for _, r := range first {
		if r.Resent {
			t.Errorf("%s resent on its first lease", r.NotificationID)
		}
	}
	byID := map[string]store.Outbound{}
	for _, r := range first {
		byID[r.NotificationID] = r
	}
	if err := s.Retry(ctx, byID["retried"].ID, byID["retried"].Lease, t0, store.Outcome{At: t0, Err: "timeout"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReleaseLeases(ctx, owner); err != nil {
		t.Fatal(err)
	}
	// "expired" was released too; lease it again, let it run out, and
	// lease it once more as another owner.
	again := lease(t, s, "slack", t0, 10)
	for _, r := range again {
		if !r.Resent {
			t.Errorf("%s not marked resent after %s", r.NotificationID, map[string]string{
				"released": "its lease was released", "expired": "its lease was released", "retried": "a failed attempt"}[r.NotificationID])
		}
	}
	enqueue(t, s, outbound("pd", "ran-out", t0))
	wantNIDs(t, "pd first", lease(t, s, "pd", t0, 1), "ran-out")
	later := leaseAs(t, s, "replica-b", "pd", t0.Add(2*time.Minute), 1)
	if len(later) != 1 || !later[0].Resent {
		t.Errorf("a row leased again after its lease ran out: %+v, want it marked resent", later)
	}
}
