package logsink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

var _ sinks.Sink = (*Sink)(nil)

func TestConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Send(context.Background(), sinkstest.Restriction()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var n notification.Notification
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if n.ID != "n-restriction-1" || n.Event.WabaID != "104996122399160" || n.Severity != notification.Critical {
			t.Fatalf("line %d: %+v", lines, n)
		}
		lines++
	}
	if lines != 50 {
		t.Fatalf("got %d lines, want 50", lines)
	}
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.jsonl")
	for i := 0; i < 2; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Send(context.Background(), sinkstest.Ban())
		if err != nil || r.Ref != "n-ban-1" {
			t.Fatalf("%+v %v", r, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(b, []byte("\n")); got != 2 {
		t.Fatalf("got %d lines, want 2", got)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "x")); err == nil {
		t.Fatal("want error for missing directory")
	}
}
