package rules

import "testing"

// TestSuggestNearestFirst: the suggestion is the field the author most
// likely meant, not merely one that contains the word.
func TestSuggestNearestFirst(t *testing.T) {
	fields := eventNames()
	for _, c := range []struct {
		word string
		in   []string
		want string
	}{
		{"waba", fields, `; did you mean "waba_id"?`},
		{"type", fields, `; did you mean "types"?`},
		{"typs", fields, `; did you mean "types"?`},
		{"feild", fields, `; did you mean "field"?`},
		{"Event", fields, `; did you mean "event"?`},
		{"alert_stat", fields, `; did you mean "alert_state"?`},
		{"x", fields, ""},
		{"banana", fields, ""},
		{"payload_fle", []string{"name", "payload_file", "payload", "now", "expect"}, `; did you mean "payload_file"?`},
		{"expected", []string{"name", "payload_file", "payload", "now", "expect"}, `; did you mean "expect"?`},
		{"slack", testSinks, `; did you mean "compliance-slack"?`},
		{"oncall", testSinks, `; did you mean "oncall-pagerduty"?`},
	} {
		if got := suggest(c.word, c.in); got != c.want {
			t.Errorf("suggest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}
