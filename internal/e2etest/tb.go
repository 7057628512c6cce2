package e2etest

import "time"

// TB is the part of testing.TB the harness uses; *testing.T and *testing.B
// satisfy it. The harness takes this interface rather than importing
// package testing, so the load tool's binary does not link it.
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

// WaitTimeout bounds every wait of the harness that a test makes (a log
// line, a delivery, the drain): long enough for a loaded two-core machine
// running tests in parallel under -race, short enough that a test that
// will never see what it waits for fails in reasonable time.
const WaitTimeout = 60 * time.Second

// pollEvery is how often the harness looks again while it waits.
const pollEvery = 20 * time.Millisecond
