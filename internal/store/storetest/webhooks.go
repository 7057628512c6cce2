package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

func pendingAt(t *testing.T, s store.Store, now time.Time) []int64 {
	t.Helper()
	ws, err := s.PendingWebhooks(t.Context(), now, 100)
	if err != nil {
		t.Fatalf("PendingWebhooks: %v", err)
	}
	ids := make([]int64, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids
}

func wantIDs(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// testParkWebhook: a failed webhook waits for its retry without holding
// up the others, is parked after parkAfter attempts, and can be listed,
// replayed and dropped.
func testParkWebhook(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := appendN(t, s, 3)
	fail := func(id int64, at time.Time, msg string) bool {
		t.Helper()
		parked, err := s.FailWebhook(ctx, id, msg, at, 10*time.Second, 3)
		if err != nil {
			t.Fatalf("FailWebhook %d: %v", id, err)
		}
		return parked
	}
	if fail(ids[0], t0, "first") {
		t.Fatal("parked after one attempt of three")
	}
	wantIDs(t, "pending while the failed one waits", pendingAt(t, s, t0), ids[1], ids[2])
	wantIDs(t, "pending once its retry is due", pendingAt(t, s, t0.Add(10*time.Second)), ids[0], ids[1], ids[2])
	if fail(ids[0], t0.Add(10*time.Second), "second") {
		t.Fatal("parked after two attempts of three")
	}
	if !fail(ids[0], t0.Add(20*time.Second), "third") {
		t.Fatal("not parked after three attempts of three")
	}
	wantIDs(t, "pending long after parking", pendingAt(t, s, t0.Add(time.Hour)), ids[1], ids[2])
	parked, err := s.ListParked(ctx, 10)
	if err != nil || len(parked) != 1 {
		t.Fatalf("ListParked = %+v, %v; want one", parked, err)
	}
	if p := parked[0]; p.ID != ids[0] || p.Attempts != 3 || p.LastError != "third" || !p.ParkedAt.Equal(t0.Add(20*time.Second)) || string(p.Body) != `{"n":0}` {
		t.Errorf("parked webhook = %+v", p)
	}
	st, err := s.WebhookStats(ctx)
	if err != nil || st.Unrouted != 2 || st.Parked != 1 || !st.OldestUnrouted.Equal(t0.Add(time.Second)) {
		t.Errorf("WebhookStats = %+v, %v; want 2 unrouted from t0+1s, 1 parked", st, err)
	}
	// A parked webhook is not routed by a stray Process either.
	ran := false
	if err := s.Process(ctx, ids[0], func(store.Tx) error { ran = true; return nil }); err != nil || ran {
		t.Errorf("Process of a parked webhook: err %v, fn ran %v; want a no-op", err, ran)
	}
	if _, err := s.FailWebhook(ctx, ids[0], "again", t0, time.Second, 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FailWebhook of a parked webhook = %v, want ErrNotFound", err)
	}
	if err := s.ReplayWebhook(ctx, ids[1]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReplayWebhook of one not parked = %v, want ErrNotFound", err)
	}
	if err := s.ReplayWebhook(ctx, ids[0]); err != nil {
		t.Fatalf("ReplayWebhook: %v", err)
	}
	ws, err := s.PendingWebhooks(ctx, t0, 1)
	if err != nil || len(ws) != 1 || ws[0].ID != ids[0] || ws[0].Attempts != 0 || ws[0].LastError != "" {
		t.Fatalf("replayed webhook = %+v, %v; want first in line with attempts reset", ws, err)
	}
	for range 3 {
		fail(ids[0], t0, "parked again")
	}
	if err := s.DropWebhook(ctx, ids[1]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DropWebhook of one not parked = %v, want ErrNotFound", err)
	}
	if err := s.DropWebhook(ctx, ids[0]); err != nil {
		t.Fatalf("DropWebhook: %v", err)
	}
	if parked, err := s.ListParked(ctx, 10); err != nil || len(parked) != 0 {
		t.Fatalf("ListParked after drop = %+v, %v", parked, err)
	}
	process(t, s, ids[1], func(_ context.Context, _ store.Tx) error { return nil })
	if _, err := s.FailWebhook(ctx, ids[1], "late", t0, time.Second, 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FailWebhook of a processed webhook = %v, want ErrNotFound", err)
	}
}
