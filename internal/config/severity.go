package config

import (
	"slices"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/textdist"
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
		if d := textdist.Levenshtein(field, k); d < best {
			near, best = k, d
		}
	}
	return near, near != ""
}
