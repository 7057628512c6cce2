package e2etest

import (
	"strings"
	"testing"
	"time"
)

func TestCollectorCheck(t *testing.T) {
	isEven := func(n int) bool { return n%2 == 0 }
	isOdd := func(n int) bool { return n%2 == 1 }
	for _, tc := range []struct {
		name     string
		wants    func(c *Collector[int])
		items    []int
		refused  []string
		failures []string // parts of the report when it must fail; nil to pass
	}{
		{name: "exactly what was wanted", items: []int{2, 4, 1},
			wants: func(c *Collector[int]) { c.Want(2, "even", isEven); c.Want(1, "odd", isOdd) }},
		{name: "nothing wanted, nothing came", wants: func(*Collector[int]) {}},
		{name: "one missing", items: []int{2},
			wants:    func(c *Collector[int]) { c.Want(2, "even", isEven) },
			failures: []string{"[✗] want 2 × even, got 1"}},
		{name: "one too many of a kind", items: []int{2, 4, 6},
			wants:    func(c *Collector[int]) { c.Want(2, "even", isEven) },
			failures: []string{"[✗] want 2 × even, got 3"}},
		{name: "one nobody wanted", items: []int{2, 7},
			wants:    func(c *Collector[int]) { c.Want(1, "even", isEven) },
			failures: []string{"[✓] want 1 × even, got 1", "[✗] unexpected: item 7"}},
		{name: "anything when nothing was wanted", items: []int{3},
			wants:    func(*Collector[int]) {},
			failures: []string{"[✗] unexpected: item 3"}},
		{name: "a refused request", items: []int{2}, refused: []string{"bad signature"},
			wants:    func(c *Collector[int]) { c.Want(1, "even", isEven) },
			failures: []string{"refused 1 requests", "bad signature"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector("numbers", func(n int) string { return "item " + string(rune('0'+n)) })
			tc.wants(c)
			for _, it := range tc.items {
				c.Add(it)
			}
			for _, r := range tc.refused {
				c.Refuse(r)
			}
			tb := runTB(t, c.Check)
			if tc.failures == nil {
				if tb.Failed() {
					t.Fatalf("Check failed:\n%s", tb.text())
				}
				return
			}
			if !tb.Failed() {
				t.Fatalf("Check passed; want a failure with %q\n%s", tc.failures, c.Report())
			}
			for _, f := range tc.failures {
				if !strings.Contains(tb.text(), f) {
					t.Errorf("report lacks %q:\n%s", f, tb.text())
				}
			}
		})
	}
}

func TestCollectorAwaitReturnsOnArrival(t *testing.T) {
	c := NewCollector("numbers", func(n int) string { return "n" })
	c.Want(3, "any", func(int) bool { return true })
	go func() {
		for i := range 3 {
			time.Sleep(5 * time.Millisecond)
			c.Add(i)
		}
	}()
	tb := runTB(t, c.Await)
	if tb.Failed() || c.Len() != 3 {
		t.Fatalf("Await: %d items, %s", c.Len(), tb.text())
	}
	c.Check(t)
}
