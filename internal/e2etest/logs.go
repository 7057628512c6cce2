package e2etest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// logReader reads a process's log file line by line, on demand: each call
// reads only what was appended since the last one.
type logReader struct {
	path string

	mu      sync.Mutex
	offset  int64
	partial []byte // an unfinished last line
	cache   []string
}

// lines returns every complete line written so far.
func (l *logReader) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if err != nil {
		return l.cache
	}
	defer func() { _ = f.Close() }() // read only
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return l.cache
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return l.cache
	}
	l.offset += int64(len(b))
	b = append(l.partial, b...)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		l.cache = append(l.cache, string(b[:i]))
		b = b[i+1:]
	}
	l.partial = append([]byte(nil), b...)
	return l.cache
}

// Lines returns the lines the process has logged so far.
func (p *Process) Lines() []string {
	return append([]string(nil), p.log.lines()...)
}

// LogText is the log so far as one string, for failure messages.
func (p *Process) LogText() string { return strings.Join(p.log.lines(), "\n") }

// Tail is the last n lines of the log.
func (p *Process) Tail(n int) string {
	lines := p.log.lines()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ScanLog calls fn with every line of the log file, streaming it from disk
// without keeping it: for a log too long to hold, such as a load run's.
func (p *Process) ScanLog(fn func(line string)) error {
	f, err := os.Open(p.log.path)
	if err != nil {
		return fmt.Errorf("reading the router log: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the router log %s: %w", p.log.path, err)
	}
	return nil
}

// containsAll reports whether line contains every one of parts.
func containsAll(line string, parts []string) bool {
	for _, part := range parts {
		if !strings.Contains(line, part) {
			return false
		}
	}
	return true
}

// CountLog counts the log lines containing every one of parts.
func (p *Process) CountLog(parts ...string) int {
	n := 0
	for _, line := range p.log.lines() {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

// HasLog reports whether a log line contains every one of parts.
func (p *Process) HasLog(parts ...string) bool { return p.CountLog(parts...) > 0 }

// WaitForLog waits until a log line contains every one of parts, and fails
// t after WaitTimeout.
func (p *Process) WaitForLog(t TB, parts ...string) {
	t.Helper()
	p.WaitForMoreLogs(t, 0, parts...)
}

// WaitForMoreLogs waits until more than before lines contain every one of
// parts; take before from CountLog with the same parts.
func (p *Process) WaitForMoreLogs(t TB, before int, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for p.CountLog(parts...) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still no new log line with %q (had %d) in:\n%s", WaitTimeout, parts, before, p.LogText())
		}
		select {
		case <-p.done:
			if p.CountLog(parts...) <= before {
				t.Fatalf("router exited (%v) without a log line with %q:\n%s", p.waitErr, parts, p.LogText())
			}
		case <-time.After(pollEvery):
		}
	}
}
