package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// addCount adds one match of rule under key at bucket, expiring an hour
// later, and returns the sum since since.
func addCount(ctx context.Context, t *testing.T, tx store.Tx, rule, key string, bucket, since time.Time) int {
	t.Helper()
	n, err := tx.AddCount(ctx, store.Count{Rule: rule, Key: key, Bucket: bucket, Expires: bucket.Add(time.Hour)}, since)
	if err != nil {
		t.Fatalf("AddCount(%s, %s, +%s): %v", rule, key, bucket.Sub(t0), err)
	}
	return n
}

func countSince(t *testing.T, s store.Store, rule, key string, since time.Time) int {
	t.Helper()
	var n int
	if err := s.Update(t.Context(), func(tx store.Tx) error {
		var err error
		n, err = tx.CountSince(t.Context(), rule, key, since)
		return err
	}); err != nil {
		t.Fatalf("CountSince(%s, %s, +%s): %v", rule, key, since.Sub(t0), err)
	}
	return n
}

// testCounts: a match is added to its bucket and the sum of the window is
// returned at once, counting the matches of the same transaction; rules
// and keys count apart; the window leaves out the buckets before since;
// a rolled-back transaction counts nothing; GC removes the buckets past
// their expiry and keeps the others.
func testCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	minute := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, want := range []int{1, 2, 3} {
			if got := addCount(ctx, t, tx, "failed", "pn=1", minute(0), minute(0)); got != want {
				t.Errorf("match %d in one bucket: sum %d, want %d", i+1, got, want)
			}
		}
		if got := addCount(ctx, t, tx, "failed", "pn=1", minute(1), minute(0)); got != 4 {
			t.Errorf("a second bucket: sum %d, want 4", got)
		}
		if got := addCount(ctx, t, tx, "failed", "pn=2", minute(1), minute(0)); got != 1 {
			t.Errorf("another key: sum %d, want 1", got)
		}
		if got := addCount(ctx, t, tx, "other", "pn=1", minute(1), minute(0)); got != 1 {
			t.Errorf("another rule: sum %d, want 1", got)
		}
		return nil
	})
	for _, tc := range []struct {
		rule, key string
		since     time.Time
		want      int
	}{
		{"failed", "pn=1", minute(0), 4},
		{"failed", "pn=1", minute(1), 1},
		{"failed", "pn=1", minute(0).Add(time.Second), 1},
		{"failed", "pn=1", minute(2), 0},
		{"failed", "pn=3", minute(0), 0},
		{"failed", "pn=1", time.Time{}, 4},
	} {
		if got := countSince(t, s, tc.rule, tc.key, tc.since); got != tc.want {
			t.Errorf("CountSince(%s, %s, +%s) = %d, want %d", tc.rule, tc.key, tc.since.Sub(t0), got, tc.want)
		}
	}
	boom := context.Canceled
	if err := s.Update(ctx, func(tx store.Tx) error {
		addCount(ctx, t, tx, "failed", "pn=1", minute(1), minute(0))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update returning an error: %v", err)
	}
	if got := countSince(t, s, "failed", "pn=1", minute(0)); got != 4 {
		t.Errorf("after a rolled-back match: %d, want 4", got)
	}
	// A later expiry given to a bucket is kept: the bucket lives as long
	// as the longest window that reaches it.
	if err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AddCount(ctx, store.Count{Rule: "failed", Key: "pn=2", Bucket: minute(1), Expires: minute(1).Add(3 * time.Hour)}, minute(0))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// At +60m30s the buckets of minute 0 have expired, those of minute 1
	// not; at +2h only the one given 3 hours is left.
	if err := s.GC(ctx, minute(60).Add(30*time.Second), time.Hour, 1000*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := countSince(t, s, "failed", "pn=1", time.Time{}); got != 1 {
		t.Errorf("after GC at +60m30s: failed/pn=1 sums %d, want 1 (minute 0 gone, minute 1 kept)", got)
	}
	if err := s.GC(ctx, minute(120), time.Hour, 1000*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule, key string
		want      int
	}{{"failed", "pn=1", 0}, {"other", "pn=1", 0}, {"failed", "pn=2", 2}} {
		if got := countSince(t, s, tc.rule, tc.key, time.Time{}); got != tc.want {
			t.Errorf("after GC at +2h: %s/%s sums %d, want %d", tc.rule, tc.key, got, tc.want)
		}
	}
}

// testCountsSurviveReopen: counts written through one handle are there
// when the store is closed and opened again, and a match counted through
// the new handle adds to them: a restart, or a replica beside another,
// goes on counting where the other left off.
func testCountsSurviveReopen(t *testing.T, a store.Store, reopen func(t *testing.T) store.Store) {
	ctx := t.Context()
	if err := a.Update(ctx, func(tx store.Tx) error {
		for range 7 {
			addCount(ctx, t, tx, "failed", "pn=1", t0, t0)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b := reopen(t)
	t.Cleanup(func() { b.Close() })
	if got := countSince(t, b, "failed", "pn=1", t0); got != 7 {
		t.Fatalf("after reopening: %d, want 7", got)
	}
	var got int
	if err := b.Update(ctx, func(tx store.Tx) error {
		got = addCount(ctx, t, tx, "failed", "pn=1", t0.Add(time.Minute), t0)
		return nil
	}); err != nil || got != 8 {
		t.Fatalf("a match after reopening: sum %d, %v; want 8", got, err)
	}
}
