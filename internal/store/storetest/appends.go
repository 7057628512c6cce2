package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/wabarouter/wabarouter/internal/store"
)

// testConcurrentAppendsKeepTheirIDs: many appends at once, as Meta's
// concurrent deliveries make them (and group-committed together), each
// get an id of their own that reads back their own body, and the
// routing order is the order of the ids.
func testConcurrentAppendsKeepTheirIDs(t *testing.T, s store.Store) {
	const n = 300
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := s.AppendWebhook(t.Context(), fmt.Appendf(nil, `{"i":%d}`, i), t0)
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	seen := map[int64]int{}
	for i, id := range ids {
		if prev, dup := seen[id]; dup {
			t.Fatalf("appends %d and %d both got id %d", prev, i, id)
		}
		seen[id] = i
		w, found, err := s.Webhook(t.Context(), id)
		if err != nil || !found || string(w.Body) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("webhook %d (append %d): body %q, found %v, %v", id, i, w.Body, found, err)
		}
	}
	pending, err := s.PendingWebhooks(t.Context(), t0, n)
	if err != nil || len(pending) != n {
		t.Fatalf("pending: %d, %v; want %d", len(pending), err, n)
	}
	for i := 1; i < len(pending); i++ {
		if pending[i].ID <= pending[i-1].ID {
			t.Fatalf("pending out of id order at %d: %d after %d", i, pending[i].ID, pending[i-1].ID)
		}
	}
}
