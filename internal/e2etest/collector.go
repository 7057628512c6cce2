package e2etest

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Collector records what a protocol peer received and checks it against
// what a test declared it wants, after the model of Alertmanager's
// acceptance-test Collector: declare with Want, let the router work, wait
// with Await (for the wanted items) and WaitDrained (for the router), then
// Check that exactly what was wanted arrived and nothing else.
//
// Items are matched per expectation: an expectation holds when exactly
// Count items match it, and every item must match at least one
// expectation. Keep the expectations of one collector disjoint, or an item
// counts towards each it matches.
//
// The peers embed a Collector of their own item type; a test rarely makes
// one itself.
type Collector[T any] struct {
	name     string
	describe func(T) string

	mu           sync.Mutex
	items        []T
	refused      []string // the first reportItems reasons
	refusedCount int
	wants        []expectation[T]
	arrivals     chan struct{} // closed and replaced on every Add
}

// reportItems bounds the items a report lists, for peers that got
// thousands.
const reportItems = 30

type expectation[T any] struct {
	what  string
	count int
	match func(T) bool
}

// NewCollector returns an empty collector; name says which peer it is in
// reports, and describe renders one item in them.
func NewCollector[T any](name string, describe func(T) string) *Collector[T] {
	return &Collector[T]{name: name, describe: describe, arrivals: make(chan struct{})}
}

// Name is the peer's name in reports.
func (c *Collector[T]) Name() string { return c.name }

// Add records one item; peers call it for every request they accepted.
func (c *Collector[T]) Add(item T) {
	c.mu.Lock()
	c.items = append(c.items, item)
	close(c.arrivals)
	c.arrivals = make(chan struct{})
	c.mu.Unlock()
}

// Refuse records a request the peer refused because it broke the
// peer's protocol (a bad signature, an invalid event). Check fails while
// there is any: the router must never send one.
func (c *Collector[T]) Refuse(reason string) {
	c.mu.Lock()
	c.refusedCount++
	if len(c.refused) < reportItems {
		c.refused = append(c.refused, reason)
	}
	close(c.arrivals)
	c.arrivals = make(chan struct{})
	c.mu.Unlock()
}

// Received returns a copy of the items recorded so far, in arrival order.
func (c *Collector[T]) Received() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]T(nil), c.items...)
}

// Len is the number of items recorded so far.
func (c *Collector[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Refusals is the number of requests the peer refused, and the reasons
// of the first few.
func (c *Collector[T]) Refusals() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refusedCount, append([]string(nil), c.refused...)
}

// Want declares that exactly count of the items received will match.
// what names the expectation in reports.
func (c *Collector[T]) Want(count int, what string, match func(T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wants = append(c.wants, expectation[T]{what: what, count: count, match: match})
}

// Await waits until every expectation has at least its count of matches,
// and fails t with a report after WaitTimeout. It does not fail on extra
// items: those may still be arriving, so Check them once the router has
// drained.
func (c *Collector[T]) Await(t TB) {
	t.Helper()
	c.AwaitFunc(t, "every expectation met", func(items []T) bool {
		c.mu.Lock()
		wants := append([]expectation[T](nil), c.wants...)
		c.mu.Unlock()
		for _, w := range wants {
			if countMatches(items, w.match) < w.count {
				return false
			}
		}
		return true
	})
}

// AwaitCount waits until at least n items have arrived.
func (c *Collector[T]) AwaitCount(t TB, n int) {
	t.Helper()
	c.AwaitFunc(t, fmt.Sprintf("at least %d items", n), func(items []T) bool { return len(items) >= n })
}

// AwaitFunc waits until cond holds for the items received so far (it is
// called with a copy, at most every 20 ms while items arrive), and fails t
// after WaitTimeout, naming what.
func (c *Collector[T]) AwaitFunc(t TB, what string, cond func(items []T) bool) {
	t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		items := append([]T(nil), c.items...)
		arrived := c.arrivals
		c.mu.Unlock()
		if cond(items) {
			return
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("%s: after %v, still not %s:\n%s", c.name, WaitTimeout, what, c.Report())
		}
		// Let a burst of arrivals gather before cond runs again.
		time.Sleep(pollEvery)
	}
}

// Check fails t, with a report, unless every expectation has exactly its
// count of matching items, every item matches an expectation, and the peer
// refused nothing. Call it once the router has drained (WaitDrained), so
// that nothing still on its way can arrive after the check.
func (c *Collector[T]) Check(t TB) {
	t.Helper()
	if ok, report := c.check(); !ok {
		t.Errorf("%s", report)
	}
}

// Report renders the expectations and what was received, as Check does.
func (c *Collector[T]) Report() string {
	_, report := c.check()
	return report
}

func (c *Collector[T]) check() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := true
	var b strings.Builder
	fmt.Fprintf(&b, "peer %q:\n", c.name)
	matched := make([]bool, len(c.items))
	for _, w := range c.wants {
		n := 0
		for i, it := range c.items {
			if w.match(it) {
				n++
				matched[i] = true
			}
		}
		mark := "✓"
		if n != w.count {
			mark, ok = "✗", false
		}
		fmt.Fprintf(&b, "  [%s] want %d × %s, got %d\n", mark, w.count, w.what, n)
	}
	for i, it := range c.items {
		if !matched[i] {
			ok = false
			fmt.Fprintf(&b, "  [✗] unexpected: %s\n", c.describe(it))
		}
	}
	if c.refusedCount > 0 {
		ok = false
		fmt.Fprintf(&b, "  [✗] refused %d requests the router should never have sent:\n", c.refusedCount)
		for _, r := range c.refused {
			fmt.Fprintf(&b, "      %s\n", r)
		}
	}
	fmt.Fprintf(&b, "  received %d:\n", len(c.items))
	for i, it := range c.items {
		if i == reportItems {
			fmt.Fprintf(&b, "  … and %d more\n", len(c.items)-reportItems)
			break
		}
		fmt.Fprintf(&b, "  %d. %s\n", i+1, c.describe(it))
	}
	return ok, b.String()
}

func countMatches[T any](items []T, match func(T) bool) int {
	n := 0
	for _, it := range items {
		if match(it) {
			n++
		}
	}
	return n
}
