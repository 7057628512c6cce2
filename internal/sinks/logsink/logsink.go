package logsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Sink writes notifications as JSON lines. It is safe for concurrent use.
type Sink struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	// path is the file opened at the first Send; "" when w was given.
	path string
}

// New returns a Sink writing to w.
func New(w io.Writer) *Sink { return &Sink{w: w} }

// Open returns a Sink writing to the process's standard output when path
// is "", "-" or "stdout", to its standard error when path is "stderr", or
// else appending to the file at path. Open only looks at the path (see
// Validate), so that building the sinks, as check does, creates nothing;
// the file is created with mode 0o600, and its missing folders with
// 0o750, when the first notification is written.
func Open(path string) (*Sink, error) {
	if w := Stream(path); w != nil {
		return New(w), nil
	}
	if err := Validate(path); err != nil {
		return nil, err
	}
	return &Sink{path: path}, nil
}

// Validate reports why a log file could not be written at path, without
// creating anything: path is a folder, a folder on the way is a file, or
// the file (or the nearest existing folder) is not writable.
func Validate(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("log sink: %s is a folder, not a file", path)
	case err == nil:
		return writable(path, false)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("log sink: %w", err)
	}
	for dir := filepath.Dir(path); ; {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("log sink: %s: %s is not a folder", path, dir)
		case err == nil:
			return writable(dir, true)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("log sink: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// open creates the file (and its folders) on first use; s.mu is held.
// Its errors are retryable: a folder mounted late or a permission fixed
// lets the notification through.
func (s *Sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return fmt.Errorf("log sink: creating the folder of %s: %w", s.path, err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("log sink: %w", err)
	}
	s.w, s.closer = f, f
	return nil
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

// Close closes the file a Sink from Open has written to; it is a no-op
// otherwise. A later Send opens the file again.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closer == nil {
		return nil
	}
	err := s.closer.Close()
	s.w, s.closer = nil, nil
	if err != nil {
		return fmt.Errorf("log sink: %w", err)
	}
	return nil
}

// Send writes n as one JSON line (see sinks.NotificationJSON, which
// bounds it to 1 MiB). Write errors are permanent: retrying a
// full disk or closed file does not help within a delivery's lifetime.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	if err := ctx.Err(); err != nil {
		return sinks.Receipt{}, fmt.Errorf("log sink: %w", err)
	}
	b, err := sinks.NotificationJSON(n)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("log sink: %w", err))
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		if err := s.open(); err != nil {
			return sinks.Receipt{}, err
		}
	}
	if _, err := s.w.Write(b); err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("log sink: write: %w", err))
	}
	return sinks.Receipt{Ref: n.ID, Detail: "written"}, nil
}
