package logsink

import (
	"bytes"
	"context"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// TestEveryFixtureReadsAsAMessage writes the notification of every
// fixture and checks what a person would be shown of each line.
func TestEveryFixtureReadsAsAMessage(t *testing.T) {
	for _, f := range messagetest.Fixtures(t) {
		var buf bytes.Buffer
		if _, err := New(&buf).Send(context.Background(), sinks.Delivery{Notification: f.Notification}); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		messagetest.AssertMessageJSON(t, f.Name, f.Notification, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
}
