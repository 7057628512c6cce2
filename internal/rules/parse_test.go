package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testSinks = []string{"oncall-pagerduty", "compliance-slack", "legal-email"}

// TestParseFileFailure pairs each bad file with fragments its error must
// contain, positions included, in the manner of Prometheus rulefmt.
func TestParseFileFailure(t *testing.T) {
	cases := []struct {
		file  string
		wants []string
	}{
		{"syntax.bad.yaml", []string{"syntax.bad.yaml:3: mapping values are not allowed in this context"}},
		{"unknown_name.bad.yaml", []string{`unknown_name.bad.yaml:3:48: rule "typo": when: unknown name "typs"; did you mean "types"?`}},
		{"not_bool.bad.yaml", []string{`not_bool.bad.yaml:3:11: rule "not-bool": when: expected bool, but got string`}},
		{"unknown_sink.bad.yaml", []string{`unknown_sink.bad.yaml:4:28: rule "page": sink "oncall" is not defined; defined sinks: oncall-pagerduty, compliance-slack, legal-email`}},
		{"duplicate.bad.yaml", []string{`duplicate.bad.yaml:5:5: rule "same": duplicate rule name; first defined at testdata/duplicate.bad.yaml:2`}},
		{"severity.bad.yaml", []string{`severity.bad.yaml:4:15: rule "loud": unknown severity "urgent"`}},
		{"duration.bad.yaml", []string{`duration.bad.yaml:7:15: rule "window": dedup.window "6 hours" is not a duration`}},
		{"template.bad.yaml", []string{`template.bad.yaml:5:12: rule "title": bad title template`}},
		{"block.bad.yaml", []string{`block.bad.yaml:5:13: rule "block": when: unknown name "alert_stat"; did you mean "alert_state"?`}},
		{"type.bad.yaml", []string{`type.bad.yaml:3:45: rule "mismatch": when: invalid operation: == (mismatched types int and string)`}},
		{"incident.bad.yaml", []string{
			`incident.bad.yaml:2:5: rule "both-keys": incident.key and dedup.key name the same thing; keep incident.key`,
			`incident.bad.yaml:10:15: rule "bad-renotify": renotify "a day" is not a duration like 90m or 6h`,
			`incident.bad.yaml:14:14: rule "bad-resolve": resolve "sometimes" is not never or auto`,
			`incident.bad.yaml:18:19: rule "bad-resolve-when": resolve_when: unknown name "alert_stat"; did you mean "alert_state"?`,
			`incident.bad.yaml:19:5: rule "contradiction": resolve: never and resolve_when contradict each other; keep one`,
			`incident.bad.yaml:24:5: rule "closing-rule": a rule with action: resolve closes incidents`,
			`incident.bad.yaml:32:16: rule "bad-incident-key": unknown key "name" in incident`,
		}},
		{"several.bad.yaml", []string{
			`several.bad.yaml:4:15: rule "first": unknown severity "loud"`,
			`several.bad.yaml:5:10: rule "first": sink "slack" is not defined; defined sinks: oncall-pagerduty, compliance-slack, legal-email; did you mean "compliance-slack"?`,
			`several.bad.yaml:6:5: rule "first": unknown key "colour"`,
			`several.bad.yaml:7:5: missing required key "name"`,
			`several.bad.yaml:7:5: missing required key "to"`,
			`several.bad.yaml:8:18: when: unexpected token EOF`,
			`several.bad.yaml:12:11: rule "first": stop must be true or false`,
			`several.bad.yaml:13:13: rule "first": action "page" is not trigger or resolve`,
			`several.bad.yaml:9:5: rule "first": duplicate rule name; first defined at testdata/several.bad.yaml:2`,
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseFile(path, data, testSinks)
			if err == nil {
				t.Fatal("ParseFile succeeded; want an error")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain\n  %s\ngot:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadFilesDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	rule := "rules:\n  - name: same\n    when: field == \"flows\"\n    to: [compliance-slack]\n"
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadFiles([]string{a, b}, testSinks)
	want := b + `:2:5: rule "same": duplicate rule name; first defined at ` + a + ":2"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want %s", err, want)
	}
}

func TestExampleLoads(t *testing.T) {
	if _, err := LoadFiles([]string{"../../rules.example.yaml"}, testSinks); err != nil {
		t.Fatal(err)
	}
}
