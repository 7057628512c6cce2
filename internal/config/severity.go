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

// nearKey returns the known key that key is a near miss of: one edit away
// for a key of up to five characters, two for a longer one, so that a
// short key far from every known one gets no guess.
func nearKey[V any](key string, known map[string]V) (near string, ok bool) {
	best := 2
	if len([]rune(key)) > 5 {
		best = 3
	}
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same guess every time when two are as near
	for _, k := range keys {
		if d := textdist.Levenshtein(key, k); d < best {
			near, best = k, d
		}
	}
	return near, near != ""
}
