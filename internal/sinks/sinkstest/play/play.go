// Package play sends an incident's transitions through a sink as the
// delivery worker does, for the sinks' tests. It is apart from sinkstest,
// which the sinks package's own tests import.
package play

import (
	"context"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Through sends ns through s in order, one at a time, handing each the
// Thread of the first receipt that had one, as the delivery worker does
// with what the store kept. It fails t on the first error.
func Through(t testing.TB, s sinks.Sink, ns []notification.Notification) []sinks.Receipt {
	t.Helper()
	var thread string
	var out []sinks.Receipt
	for _, n := range ns {
		r, err := s.Send(context.Background(), sinks.Delivery{Notification: n, Thread: thread})
		if err != nil {
			t.Fatalf("send %s: %v", n.ID, err)
		}
		if thread == "" {
			thread = r.Thread
		}
		out = append(out, r)
	}
	return out
}
