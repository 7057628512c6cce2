package logsink

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestLineBoundedAndTitleClean: a 600,000-character title with a bidi
// override and a 1.2 MB description make one JSON line of at most 1 MiB
// whose title carries no override.
func TestLineBoundedAndTitleClean(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf)
	n := sinkstest.AccountAlert()
	n.Title = "\u202e" + strings.Repeat("T", 600_000)
	n.Body = strings.Repeat("description ", 100_000)
	n.Event.AlertDescription = n.Body
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || len(line) > 1<<20 {
		t.Fatalf("%d bytes, %d lines", len(line), bytes.Count(buf.Bytes(), []byte("\n")))
	}
	var back map[string]any
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	if title, _ := back["title"].(string); !strings.HasPrefix(title, "TTT") {
		t.Errorf("title %.10q", title)
	}
}
