package rules

import "slices"

// ruleIndex lists, for each value of event and of field, the positions
// in the set's rules of the rules that pin it, so Evaluate visits only
// the rules an event can match instead of testing every rule's pins: a
// thousand rules pinned to their own events cost a map lookup, not a
// thousand compares. Positions are ascending, so rules still run in file
// order.
type ruleIndex struct {
	// rules is the list the index was built from; a set whose Rules
	// changed since (a copy with a rule replaced, a set built by hand)
	// is not served by it.
	rules []*Rule
	// byEvent holds the rules pinning event; byField those pinning field
	// but not event; unpinned those pinning neither.
	byEvent, byField map[string][]int
	unpinned         []int
}

func buildIndex(rs []*Rule) *ruleIndex {
	idx := &ruleIndex{rules: slices.Clone(rs), byEvent: map[string][]int{}, byField: map[string][]int{}}
	for i, r := range rs {
		switch {
		case r.pins.events != nil:
			for _, e := range r.pins.events {
				idx.byEvent[e] = append(idx.byEvent[e], i)
			}
		case r.pins.fields != nil:
			for _, f := range r.pins.fields {
				idx.byField[f] = append(idx.byField[f], i)
			}
		default:
			idx.unpinned = append(idx.unpinned, i)
		}
	}
	return idx
}

// candidateRules appends to buf the positions of the rules an event of
// field and event may match, in file order: through the index while the
// set's rules are those it was built from, else every rule. A set is
// shared by the router's goroutines, so it is never built here.
func (s *Set) candidateRules(buf []int, field, event string) []int {
	if s.idx != nil && slices.Equal(s.idx.rules, s.Rules) {
		return s.idx.candidates(buf, field, event)
	}
	for i := range s.Rules {
		buf = append(buf, i)
	}
	return buf
}

// candidates appends to buf, in file order, the positions of the rules an
// event of field and event may match; each is still checked against its
// pins, since a rule pinning an event may pin a field too.
func (idx *ruleIndex) candidates(buf []int, field, event string) []int {
	a, b, c := idx.byEvent[event], idx.byField[field], idx.unpinned
	for len(a)+len(b)+len(c) > 0 {
		next, from := -1, 0
		for i, l := range [3][]int{a, b, c} {
			if len(l) > 0 && (next < 0 || l[0] < next) {
				next, from = l[0], i
			}
		}
		buf = append(buf, next)
		switch from {
		case 0:
			a = a[1:]
		case 1:
			b = b[1:]
		default:
			c = c[1:]
		}
	}
	return buf
}
