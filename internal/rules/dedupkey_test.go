package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// TestDefaultDedupKeyPerProblem: without dedup.key, a match's key is the
// problem its event is about (event.ProblemKey): one per number, template,
// violation type and restriction type, even in one payload, the same for a
// ban and its reinstatement, never shared by payloads without an account
// id, and the same for every rule (the router keeps dedup per rule).
func TestDefaultDedupKeyPerProblem(t *testing.T) {
	s := mustParse(t, `rules:
  - {name: first, when: "true", to: [legal-email]}
  - {name: second, when: "true", to: [compliance-slack]}
`)
	const waba = `"id":"102290129340398","time":1764597600`
	wrap := func(changes ...string) string {
		return `{"object":"whatsapp_business_account","entry":[{` + waba + `,"changes":[` + strings.Join(changes, ",") + `]}]}`
	}
	phone := func(n string) string {
		return `{"field":"phone_number_quality_update","value":{"display_phone_number":"` + n + `","event":"FLAGGED","current_limit":"TIER_1K"}}`
	}
	template := func(id string) string {
		return `{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":` + id + `,"message_template_name":"t","message_template_language":"en_US","reason":"NONE"}}`
	}
	violation := func(v string) string {
		return `{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"` + v + `"}}}`
	}
	restriction := func(r string) string {
		return `{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"` + r + `","expiration":1796133600}]}}`
	}
	ban := func(state string) string {
		return `{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"` + state + `","waba_ban_date":"2025-12-08"}}}`
	}
	tests := []struct {
		name   string
		bodies []string
		keys   int // distinct keys over all events
	}{
		{"two numbers flagged in one payload", []string{wrap(phone("16505551111"), phone("16505552222"))}, 2},
		{"two templates rejected in one payload", []string{wrap(template("111"), template("222"))}, 2},
		{"three violations in one payload", []string{wrap(violation("ADULT"), violation("SCAM"), violation("ALCOHOL"))}, 3},
		{"two restriction types in one payload", []string{wrap(restriction("RESTRICTED_BIZ_INITIATED_MESSAGING"), restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING"))}, 2},
		{"DISABLE and REINSTATE", []string{wrap(ban("DISABLE")), wrap(ban("REINSTATE"))}, 1},
		{"restrictions without waba id", []string{restriction("RESTRICTED_BIZ_INITIATED_MESSAGING"), restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING")}, 2},
		{"one restriction type on two accounts without id",
			[]string{`{"entry":[{"time":1764597600,"changes":[` + restriction("RESTRICTED_BIZ_INITIATED_MESSAGING") + `]}]}`,
				`{"entry":[{"time":1764597700,"changes":[` + restriction("RESTRICTED_BIZ_INITIATED_MESSAGING") + `]}]}`}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			for _, body := range tt.bodies {
				evs, err := event.Parse([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					ms, errs := s.Evaluate(ev)
					if len(errs) > 0 || len(ms) != 2 {
						t.Fatalf("%d matches, errors %v", len(ms), errs)
					}
					want, err := event.ProblemKey(ev)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range ms {
						if m.DedupKey != want {
							t.Errorf("rule %s: dedup key %q, want the problem's key %q", m.Rule.Name, m.DedupKey, want)
						}
						if strings.Contains(m.DedupKey, m.Rule.Name) || (ev.Event != "" && strings.Contains(m.DedupKey, ev.Event)) {
							t.Errorf("rule %s: dedup key %q names the rule or the event", m.Rule.Name, m.DedupKey)
						}
					}
					keys = append(keys, ms[0].DedupKey)
				}
			}
			if got := len(slices.Compact(slices.Sorted(slices.Values(keys)))); got != tt.keys {
				t.Errorf("%d distinct keys %q, want %d", got, keys, tt.keys)
			}
		})
	}
}
