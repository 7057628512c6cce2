package logsink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Sink writes notifications as JSON lines. It is safe for concurrent use.
type Sink struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// New returns a Sink writing to w.
func New(w io.Writer) *Sink { return &Sink{w: w} }

// Open returns a Sink writing to the process's standard output when path
// is "", "-" or "stdout", to its standard error when path is "stderr", or
// else appending to the file at path, created with mode 0o600 (and its
// missing folders with 0o750).
func Open(path string) (*Sink, error) {
	if w := Stream(path); w != nil {
		return New(w), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("log sink: creating the folder of %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log sink: %w", err)
	}
	return &Sink{w: f, closer: f}, nil
}

// Stream returns the process stream a path names ("", "-" and "stdout"
// are standard output, "stderr" standard error), or nil for a file.
func Stream(path string) *os.File {
	switch path {
	case "", "-", "stdout":
		return os.Stdout
	case "stderr":
		return os.Stderr
	}
	return nil
}

// Close closes the file opened by Open; it is a no-op otherwise.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closer == nil {
		return nil
	}
	err := s.closer.Close()
	s.closer = nil
	if err != nil {
		return fmt.Errorf("log sink: %w", err)
	}
	return nil
}

// Send writes n as one JSON line. Write errors are permanent: retrying a
// full disk or closed file does not help within a delivery's lifetime.
func (s *Sink) Send(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return sinks.Receipt{}, fmt.Errorf("log sink: %w", err)
	}
	b, err := json.Marshal(n)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("log sink: encode: %w", err))
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b); err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("log sink: write: %w", err))
	}
	return sinks.Receipt{Ref: n.ID, Detail: "written"}, nil
}
