package rules

import "testing"

// TestConditionErrorAtItsOwnLine: a mistake on a later line of a
// condition written over several lines is reported on that line, at its
// column, whichever way YAML folds the lines.
func TestConditionErrorAtItsOwnLine(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"folded", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: >-\n      field == \"flows\"\n      and alert_stat == \"ACTIVATED\"\n",
			`f.yaml:6:11: rule "r": when: unknown name "alert_stat"; did you mean "alert_state"?`},
		{"folded, third line", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: >-\n      field == \"flows\"\n      and alert_state == \"ACTIVATED\"\n      and flow_idd == \"1\"\n",
			`f.yaml:7:11: rule "r": when: unknown name "flow_idd"; did you mean "flow_id"?`},
		{"literal, more indented", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: |\n      field == \"flows\"\n        and alert_stat == \"ACTIVATED\"\n",
			`f.yaml:6:13: rule "r": when: unknown name "alert_stat"; did you mean "alert_state"?`},
		{"plain, going on", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: field == \"flows\"\n      and alert_stat == \"ACTIVATED\"\n",
			`f.yaml:5:11: rule "r": when: unknown name "alert_stat"; did you mean "alert_state"?`},
		{"double-quoted, going on", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: \"field == 'flows'\n      and alert_stat == 'ACTIVATED'\"\n",
			`f.yaml:5:11: rule "r": when: unknown name "alert_stat"; did you mean "alert_state"?`},
		{"single line, after a multi-byte character", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: 'alert_description == \"é\" and alert_stat == \"A\"'\n",
			`f.yaml:4:41: rule "r": when: unknown name "alert_stat"; did you mean "alert_state"?`},
		{"template on its second line", "rules:\n  - name: r\n    to: [compliance-slack]\n    when: field == \"flows\"\n    body: >-\n      Flow {{.flow_id}}\n      on {{.waba}}\n",
			`f.yaml:7:12: rule "r": body: unknown name "waba"; did you mean "waba_id"?`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := CheckFile("f.yaml", []byte(c.src), testSinks)
			if len(diags) != 1 || diags[0].Error() != c.want {
				t.Errorf("diagnostics %v\nwant exactly %s", diags, c.want)
			}
		})
	}
}
