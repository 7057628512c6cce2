package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wabarouter/wabarouter/internal/store"
)

// openOrUpdate is what the router does with an event of a problem, cut
// down: read the rule's incident under key; open it (episode 1, with an
// "open" notification for the sink) if there is none, or count the event
// on it if there is. Its ID is derived from rule, key and episode, as the
// router's is.
func openOrUpdate(ctx context.Context, tx store.Tx, webhookID int64, key string) error {
	inc, found, err := tx.Incident(ctx, "banned", key)
	if err != nil {
		return err
	}
	if found {
		inc.Events++
		inc.Seq++
		return tx.SaveIncident(ctx, inc)
	}
	sum := sha256.Sum256([]byte("banned\x00" + key + "\x001"))
	inc = incident(hex.EncodeToString(sum[:12]), "banned", key, 1, "open", t0)
	if err := tx.SaveIncident(ctx, inc); err != nil {
		return err
	}
	// The notification's id is the event's own (its webhook's here), as
	// the router derives it from the change: two replicas that both
	// opened the incident would queue two pages.
	o := incidentRow("pager", fmt.Sprintf("open-%d", webhookID), inc.ID, 1)
	return tx.Enqueue(ctx, o)
}

// testTwoReplicasOpenOneIncident: two handles route, at the same moment,
// webhooks about the same problem; each key ends with one incident that
// counted both events and one page, never two of either.
func testTwoReplicasOpenOneIncident(t *testing.T, a, b store.Store) {
	const keys = 20
	for k := range keys {
		key := fmt.Sprintf("w%d/ban", k)
		ids := [2]int64{appendN(t, a, 1)[0], appendN(t, b, 1)[0]}
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, h := range []store.Store{a, b} {
			wg.Go(func() {
				<-start
				errs[i] = h.Process(context.Background(), ids[i], func(tx store.Tx) error {
					return openOrUpdate(context.Background(), tx, ids[i], key)
				})
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("key %s: %v", key, err)
		}
		incs, err := a.Incidents(t.Context(), store.IncidentFilter{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) != 1 || incs[0].Events != 2 {
			t.Fatalf("key %s: incidents %+v; want one that counted both events", key, incs)
		}
	}
	// Both pages of an incident opened twice would be its first
	// transition (seq 1), and leased together.
	pages := leaseAs(t, b, "replica-b", "pager", t0, 10*keys)
	for _, p := range pages {
		if err := b.Ack(t.Context(), p.ID, p.Lease, store.Outcome{At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if len(pages) != keys {
		t.Errorf("pages leased: %d, want %d, one per incident", len(pages), keys)
	}
	if more := leaseAs(t, a, "replica-a", "pager", t0, 10*keys); len(more) != 0 {
		t.Errorf("%d second pages about incidents already paged: %v", len(more), nids(more))
	}
}

// testConcurrentClaimsRouteOnce: four routers on two handles poll and
// route one backlog at once; every webhook is routed exactly once (one
// decision each, by whoever claimed it) and none is left unrouted.
func testConcurrentClaimsRouteOnce(t *testing.T, a, b store.Store) {
	const webhooks = 200
	ids := appendN(t, a, webhooks)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, h := range []store.Store{a, b, a, b} {
		who := fmt.Sprintf("router-%d", i)
		wg.Go(func() {
			ctx := context.Background()
			for {
				ws, err := h.PendingWebhooks(ctx, t0, 8)
				if err == nil && len(ws) == 0 {
					// Nothing left unlocked; what another router holds it
					// commits, so the backlog is done once none is pending
					// to anyone.
					st, err := h.WebhookStats(ctx)
					if err == nil && st.Unrouted == 0 {
						return
					}
					continue
				}
				var got []int64
				for _, w := range ws {
					got = append(got, w.ID)
				}
				var res []error
				if err == nil {
					res, err = h.ProcessBatch(ctx, got, func(id int64, tx store.Tx) error {
						return tx.AppendDecision(ctx, store.Decision{WebhookID: id, At: t0, Event: who, Record: []byte(`{}`)})
					})
				}
				mu.Lock()
				errs = append(errs, err)
				errs = append(errs, res...)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Decisions(t.Context(), store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	routed := map[int64]string{}
	for _, d := range ds {
		if prev, twice := routed[d.WebhookID]; twice {
			t.Errorf("webhook %d routed by %s and by %s", d.WebhookID, prev, d.Event)
		}
		routed[d.WebhookID] = d.Event
	}
	for _, id := range ids {
		if _, ok := routed[id]; !ok {
			t.Errorf("webhook %d never routed", id)
		}
	}
	if ws := pending(t, a); len(ws) != 0 {
		t.Errorf("%d webhooks left pending", len(ws))
	}
}
