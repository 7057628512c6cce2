package config

import (
	"strings"
	"testing"
)

// TestSeverityKeys: a severity key whose field is a near miss of a field
// the parser knows is an error with a suggestion; a field the parser does
// not know at all is still legal, since Meta adds fields.
func TestSeverityKeys(t *testing.T) {
	cases := []struct {
		name, key string
		want      string // "" means the key is accepted
	}{
		{"known field", "account_update", ""},
		{"known field and event", "account_update/ACCOUNT_VIOLATION", ""},
		{"an event wabarouter does not name", "flows/SOMETHING_NEW", ""},
		{"field Meta has but the parser does not know", "security", ""},
		{"field Meta has, with an event", "business_status_update/X", ""},
		{"far from every known field", "some_future_field", ""},
		{"typo", "acount_update", `c.yaml:5:3: severity: unknown field "acount_update"; did you mean "account_update"?`},
		{"typo with an event", "acount_update/ACCOUNT_DELETED", `c.yaml:5:3: severity: unknown field "acount_update" in "acount_update/ACCOUNT_DELETED"; did you mean "account_update"?`},
		{"singular", "flow", `severity: unknown field "flow"; did you mean "flows"?`},
		{"two letters off", "mesages_", `severity: unknown field "mesages_"; did you mean "messages"?`},
		{"capitals", "Account_Update", `severity: unknown field "Account_Update"; did you mean "account_update"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(serverYAML+"severity:\n  "+c.key+": warning\n"))
			if c.want == "" {
				if err != nil {
					t.Fatalf("want %q accepted; got %v", c.key, err)
				}
				if _, ok := cfg.Severity[c.key]; !ok {
					t.Errorf("override %q missing from %v", c.key, cfg.Severity)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant an error containing %s", err, c.want)
			}
		})
	}
}
