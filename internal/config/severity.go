package config

import (
	"slices"

	"github.com/wabarouter/wabarouter/internal/event"
)

// nearKnownField returns the webhook field the parser knows that field is
// a near miss of (edit distance 1 or 2). ok is false for a known field and
// for one far from all of them, which may be a field Meta added.
func nearKnownField(field string) (near string, ok bool) {
	known := event.KnownFields()
	if slices.Contains(known, field) {
		return "", false
	}
	best := 3
	for _, k := range known {
		if d := editDistance(field, k); d < best {
			near, best = k, d
		}
	}
	return near, near != ""
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
