package e2etest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recordingTB is a TB that records failures instead of failing the test,
// so the harness's own checks can be shown to fail.
type recordingTB struct {
	*testing.T // for Helper, Cleanup, TempDir and Logf

	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0
}

func (r *recordingTB) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

// runTB runs fn with a recordingTB in a goroutine of its own, as Fatalf
// ends that goroutine, and returns the TB once fn has returned.
func runTB(t *testing.T, fn func(tb TB)) *recordingTB {
	tb := &recordingTB{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb
}
