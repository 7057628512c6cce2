package event_test

import (
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// BenchmarkParseHuge measures what the body of issue 10's point 12 (one
// entry with 100,000 changes of 34 bytes, 3.4 MB) costs Parse and Check
// before they refuse it; B/op and allocs/op are the point. Parse took 700
// MB and 1,000,108 allocations per body before changes were counted first.
//
//	go test -run '^$' -bench ParseHuge -benchmem ./internal/event/
func BenchmarkParseHuge(b *testing.B) {
	body := manyChanges(100_000, flowsChange)
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = event.Parse(body)
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			_ = event.Parser{}.Check(body)
		}
	})
}
