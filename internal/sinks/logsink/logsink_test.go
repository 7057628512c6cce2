package logsink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
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
			if _, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Restriction()}); err != nil {
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
		r, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
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
}

// TestOpenPaths: stdout, stderr, - and "" are the process's own streams,
// never files of those names; a file's missing folders are created.
func TestOpenPaths(t *testing.T) {
	cases := []struct {
		path   string
		stream string // "stdout", "stderr" or "" for a file
	}{
		{"", "stdout"},
		{"-", "stdout"},
		{"stdout", "stdout"},
		{"stderr", "stderr"},
		{"n.jsonl", ""},
		{filepath.Join("new", "folder", "n.jsonl"), ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			stdout, stderr := os.Stdout, os.Stderr
			switch c.stream {
			case "stdout":
				os.Stdout = w
			case "stderr":
				os.Stderr = w
			}
			s, err := Open(c.path)
			os.Stdout, os.Stderr = stdout, stderr
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			got, _ := io.ReadAll(r)
			entries, _ := os.ReadDir(dir)
			if c.stream != "" {
				if !bytes.Contains(got, []byte(`"id":"n-ban-1"`)) {
					t.Errorf("%s got %q; want the notification", c.stream, got)
				}
				if len(entries) != 0 {
					t.Errorf("created %v in the working folder; want nothing", entries)
				}
				return
			}
			b, err := os.ReadFile(filepath.Join(dir, c.path))
			if err != nil || !bytes.Contains(b, []byte(`"id":"n-ban-1"`)) {
				t.Fatalf("file %s: %q, %v", c.path, b, err)
			}
			if d := filepath.Dir(c.path); d != "." {
				fi, err := os.Stat(filepath.Join(dir, d))
				if err != nil || fi.Mode().Perm() != 0o750 {
					t.Errorf("folder %s: %v, %v; want mode 0750", d, fi.Mode(), err)
				}
			}
		})
	}
}

// TestOpenCreatesNothing: Open only checks the path, so that building the
// sinks (as check does) leaves no trace; the file and its folders appear
// with the first notification. A path that can never work is an error.
func TestOpenCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "a-folder"), 0o750); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want string // "" means Open succeeds
	}{
		{"n.jsonl", ""},
		{"new/folders/n.jsonl", ""},
		{"a-file", ""},
		{"a-folder", "is a folder, not a file"},
		{"a-file/n.jsonl", "not a directory"},
		{"a-file/deeper/n.jsonl", "not a directory"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			before, _ := os.ReadDir(dir)
			s, err := Open(path)
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("Open created something: %v", after)
			}
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v; want an error containing %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); c.path != "a-file" && err == nil {
				t.Errorf("Open created %s", path)
			}
			if _, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte(`"id":"n-ban-1"`)) {
				t.Errorf("after Send: %q, %v", b, err)
			}
		})
	}
}

func TestOpenUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "n.jsonl")); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("got %v; want a not writable error", err)
	}
}
