package rules

import (
	"slices"
	"testing"
)

// TestIndexVisitsWhatPinsAdmit: for rules of every pin shape, the index
// hands Evaluate exactly the rules whose pins admit an event, in file
// order, and fewer than all of them; a set whose rules changed after it
// was read is served by a full scan instead.
func TestIndexVisitsWhatPinsAdmit(t *testing.T) {
	s := mustParse(t, `rules:
  - name: by-event
    when: 'event == "DISABLED_UPDATE"'
    to: [legal-email]
  - name: unpinned
    when: '"x" in types'
    to: [legal-email]
  - name: by-field
    when: 'field == "account_update"'
    to: [legal-email]
  - name: both
    when: 'field == "account_update" && event in ["ACCOUNT_RESTRICTION", "DISABLED_UPDATE"]'
    to: [legal-email]
  - name: impossible
    when: 'event == "A" && event == "B"'
    to: [legal-email]
  - name: other-field
    when: 'field == "message_template_status_update" and event == "REJECTED"'
    to: [legal-email]
  - name: by-field-again
    when: '"account_update" == field'
    to: [legal-email]
`)
	cases := []struct{ field, event string }{
		{"account_update", "DISABLED_UPDATE"},
		{"account_update", "ACCOUNT_RESTRICTION"},
		{"account_update", "PARTNER_ADDED"},
		{"message_template_status_update", "REJECTED"},
		{"message_template_status_update", "DISABLED_UPDATE"},
		{"phone_number_quality_update", ""},
	}
	for _, tc := range cases {
		var want []int
		for i, r := range s.Rules {
			if r.pins.admits(tc.field, tc.event) {
				want = append(want, i)
			}
		}
		var got []int
		for _, i := range s.candidateRules(nil, tc.field, tc.event) {
			if s.Rules[i].pins.admits(tc.field, tc.event) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s/%s: visits rules %v, want %v", tc.field, tc.event, got, want)
		}
		if n := len(s.candidateRules(nil, tc.field, tc.event)); n >= len(s.Rules) {
			t.Errorf("%s/%s: the index offers %d of %d rules; it narrows nothing", tc.field, tc.event, n, len(s.Rules))
		}
	}

	changed := *s
	changed.Rules = slices.Clone(s.Rules)
	changed.Rules[0] = s.Rules[len(s.Rules)-1]
	if got := changed.candidateRules(nil, "x", "y"); len(got) != len(changed.Rules) {
		t.Errorf("a set whose rules changed is offered %d of its %d rules; want a full scan", len(got), len(changed.Rules))
	}
}
