package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// poisonSet fails the routing of every webhook in it, every time, as a
// webhook that can never be routed would.
type poisonSet struct {
	store.Store
	poison map[int64]bool
}

func (s *poisonSet) ProcessBatch(ctx context.Context, ids []int64, fn func(int64, store.Tx) error) ([]error, error) {
	return s.Store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		if err := fn(id, tx); err != nil {
			return err
		}
		if s.poison[id] {
			return errInjected
		}
		return nil
	})
}

// TestPoisonWebhooksAreParkedAndDoNotBlock: twenty webhooks that can never
// be routed, then a good one, routed the way the pipeline does (the oldest
// 16 due each pass). The good one is routed on the second pass without the
// clock moving, and each poison webhook is parked after ParkAfter attempts
// instead of being tried for ever.
func TestPoisonWebhooksAreParkedAndDoNotBlock(t *testing.T) {
	ps := &poisonSet{poison: map[int64]bool{}}
	f, db := newFixture(t, ps)
	ps.Store = db
	clock := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	f.r.now = func() time.Time { return clock }
	ctx := context.Background()
	for i := range 20 {
		id, err := db.AppendWebhook(ctx, change(int64(2000+i), "FLAGGED"), clock)
		if err != nil {
			t.Fatal(err)
		}
		ps.poison[id] = true
	}
	good, err := db.AppendWebhook(ctx, change(3000, "DOWNGRADE"), clock)
	if err != nil {
		t.Fatal(err)
	}
	pass := func() {
		t.Helper()
		ws, err := db.PendingWebhooks(ctx, clock, 16)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.r.RouteBatch(ctx, ws); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	pass()
	if got := f.queued(t, "slack"); len(got) != 1 || got[0].Event.Event != "DOWNGRADE" {
		t.Fatalf("after two passes slack has %v, want the good webhook %d's notification", rulesOf(got), good)
	}
	for range 2 * DefaultParkAfter {
		clock = clock.Add(time.Minute)
		pass()
	}
	parked, err := db.ListParked(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 20 {
		t.Fatalf("%d webhooks parked, want the 20 poison ones", len(parked))
	}
	for _, w := range parked {
		if !ps.poison[w.ID] || w.Attempts != DefaultParkAfter {
			t.Errorf("parked webhook %d after %d attempts; want only poison ones, after %d", w.ID, w.Attempts, DefaultParkAfter)
		}
	}
	if st, err := db.WebhookStats(ctx); err != nil || st.Unrouted != 0 || st.Parked != 20 {
		t.Errorf("WebhookStats = %+v, %v; want 0 unrouted, 20 parked", st, err)
	}
}

func storeWebhook(id int64, body []byte, r *Router) store.Webhook {
	return store.Webhook{ID: id, Body: body, ReceivedAt: r.now()}
}

// cancellingStore cancels routing while the batch runs, as SIGTERM does,
// so each webhook fails with the cancellation.
type cancellingStore struct {
	store.Store
	cancel context.CancelFunc
}

func (s *cancellingStore) ProcessBatch(ctx context.Context, ids []int64, fn func(int64, store.Tx) error) ([]error, error) {
	return s.Store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		s.cancel()
		return fmt.Errorf("writing the outbox: %w", context.Canceled)
	})
}

// TestShutdownCountsNoAttempt: a webhook whose routing was cancelled by
// shutdown is not a failing webhook: no attempt is counted against it,
// nothing is logged as an error, and it is routed on the next start.
func TestShutdownCountsNoAttempt(t *testing.T) {
	cs := &cancellingStore{}
	f, db := newFixture(t, cs)
	cs.Store = db
	var logs strings.Builder
	f.r.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cs.cancel = cancel
	body := change(1000, "FLAGGED")
	id, err := db.AppendWebhook(context.Background(), body, f.r.now())
	if err != nil {
		t.Fatal(err)
	}
	results, err := f.r.RouteBatch(ctx, []store.Webhook{{ID: id, Body: body, ReceivedAt: f.r.now()}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(results[0].Err, context.Canceled) || results[0].Parked {
		t.Errorf("result %+v, want cancelled and not parked", results[0])
	}
	pending, err := db.PendingWebhooks(context.Background(), f.r.now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Attempts != 0 {
		t.Errorf("pending %+v, want the webhook at once with no attempt counted", pending)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("shutdown logged as a failure:\n%s", logs.String())
	}
}
