package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuleTestShipped runs the rule tests shipped for rules.example.yaml
// and for the docs' gallery, so CI fails when rules and their tests drift
// apart.
func TestRuleTestShipped(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	for _, c := range []struct{ config, tests string }{
		{"../../config.example.yaml", "../../testdata/rules/example_test.yaml"},
		{"../../docs/gallery/config.yaml", "../../docs/gallery/gallery_test.yaml"},
		{"../../testdata/config/schedules/config.yaml", "../../testdata/config/schedules/schedules_test.yaml"},
		{"../../testdata/config/threshold/config.yaml", "../../testdata/config/threshold/threshold_test.yaml"},
	} {
		t.Run(c.tests, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"test", "--config", c.config, c.tests}, IO{Out: &out, Err: &errOut})
			if code != ExitOK {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), " passed, 0 failed") || strings.HasPrefix(out.String(), "0 passed") {
				t.Errorf("stdout = %q, want every shipped case to pass", out.String())
			}
		})
	}
}

func TestRuleTestReportsFailures(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	seeds, err := filepath.Abs("../../testdata/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{
			name: "wrong severity shows a diff",
			file: `tests:
  - name: flagged template
    payload_file: ` + seeds + `/seed_template_flagged.json
    expect:
      - {rule: template-problem, sink: compliance-slack, severity: critical}
`,
			wantCode: ExitFailure,
			wantOut: []string{
				`test "flagged template": FAIL`,
				"expected (-) vs got (+):",
				"- template-problem → compliance-slack [critical]",
				`+ template-problem → compliance-slack [warning] Template "My message template"`,
				"0 passed, 1 failed",
			},
		},
		{
			name: "a missing notification is one line, not a cascade",
			file: `tests:
  - name: ban
    payload_file: ` + seeds + `/seed_disabled_update_disable.json
    expect:
      - {rule: account-banned, sink: oncall-pagerduty, severity: critical}
`,
			wantCode: ExitFailure,
			wantOut: []string{
				"  account-banned → oncall-pagerduty [critical]",
				"+ account-banned → legal-email [critical]",
			},
		},
		{
			name: "expect nothing but something is sent",
			file: `tests:
  - name: restriction
    payload_file: ` + seeds + `/seed_account_restriction.json
    expect: []
`,
			wantCode: ExitFailure,
			wantOut:  []string{"+ account-restricted → oncall-pagerduty [critical]"},
		},
		{
			name: "wrong title",
			file: `tests:
  - name: restriction
    payload_file: ` + seeds + `/seed_account_restriction.json
    now: 2026-11-23T12:00:00Z
    expect:
      - {rule: account-restricted, sink: oncall-pagerduty, severity: critical, title: "something else"}
`,
			wantCode: ExitFailure,
			wantOut:  []string{"- account-restricted → oncall-pagerduty [critical] something else"},
		},
		{
			name: "inline JSON payload passes",
			file: `tests:
  - name: inline violation
    payload: |
      {"object":"whatsapp_business_account","entry":[{"id":"1","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}
    expect:
      - {rule: policy-violation, sink: compliance-slack, severity: error}
`,
			wantCode: ExitOK,
			wantOut:  []string{"1 passed, 0 failed"},
		},
		{
			name: "every mistake of a test file at once, with lines",
			file: `tests:
  - name: bad
    payload_file: x.json
    now: yesterday
    expect:
      - {rule: no-such-rule, sink: pager, severity: loud}
      - {rule: account-banned, sink: legal-email, severity: critical, action: close}
  - name: no expectation
    payload_file: x.json
  - name: both payloads
    payload_file: x.json
    payload: {}
    expect: []
`,
			wantCode: ExitFailure,
			wantErr: []string{
				`rules_test.yaml:4:10: test "bad": now "yesterday" is not an RFC 3339 time; write it like 2026-11-23T12:00:00Z` + "\n",
				`rules_test.yaml:6:16: test "bad": expect[0]: no rule named "no-such-rule" in the loaded rules` + "\n",
				`rules_test.yaml:6:36: test "bad": expect[0]: sink "pager" is not defined in the config; did you mean "oncall-pagerduty"?` + "\n",
				`rules_test.yaml:6:53: test "bad": expect[0]: unknown severity "loud"; want one of critical, error, warning, info` + "\n",
				`rules_test.yaml:7:79: test "bad": expect[1]: action "close" must be trigger or resolve` + "\n",
				`rules_test.yaml:8:5: test "no expectation": expect is required; use expect: [] when nothing may be sent` + "\n",
				`rules_test.yaml:10:5: test "both payloads": give payload_file or payload, not both` + "\n",
			},
			wantOut: []string{"1 test file(s) could not be read"},
		},
		{
			name:     "unknown key",
			file:     "tests:\n  - name: x\n    payload_fle: a.json\n    expect: []\n",
			wantCode: ExitFailure,
			wantErr:  []string{`rules_test.yaml:3:5: unknown key "payload_fle"; did you mean "payload_file"?`},
		},
		{
			name: "expected for expect, at its column, with the file's other mistakes",
			file: `tests:
  - name: restriction
    payload_file: a.json
    expected:
      - {rule: account-restricted, sink: oncall-pagerduty, severity: critical}
  - name: ban
    payload_file: b.json
    expect:
      - {rule: account-baned, sink: oncall-pagerduty, severity: critical, titel: x}
`,
			wantCode: ExitFailure,
			wantErr: []string{
				`rules_test.yaml:4:5: unknown key "expected"; did you mean "expect"?` + "\n",
				`rules_test.yaml:2:5: test "restriction": expect is required; use expect: [] when nothing may be sent` + "\n",
				`rules_test.yaml:9:16: test "ban": expect[0]: no rule named "account-baned" in the loaded rules; did you mean "account-banned"?` + "\n",
				`rules_test.yaml:9:75: test "ban": expect[0]: unknown key "titel"; did you mean "title"?` + "\n",
			},
		},
		{
			name: "a YAML mistake of a test file at its line",
			file: `tests:
  - name: restriction
    payload_file: a.json
   expect: []
`,
			wantCode: ExitFailure,
			wantErr:  []string{"rules_test.yaml:4:4: `expect:` is indented 3 spaces; the other keys of this test are at 4\n"},
		},
		{
			name: "missing payload file",
			file: `tests:
  - name: gone
    payload_file: does-not-exist.json
    expect: []
`,
			wantCode: ExitFailure,
			wantOut:  []string{`test "gone": FAIL`, "payload_file: open"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules_test.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"test", "--config", "../../config.example.yaml", path},
				IO{Out: &out, Err: &errOut})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out.String(), errOut.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout:\n%s\nwant a line containing %q", out.String(), want)
				}
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr:\n%s\nwant a line containing %q", errOut.String(), want)
				}
			}
		})
	}
}

// TestRuleTestAppliesMinSeverity: test compares what serve would queue, so
// a notification below its sink's min_severity is not there, and the
// failure says why.
func TestRuleTestAppliesMinSeverity(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, `rules:
  - {name: flagged, when: 'field == "message_template_status_update"', severity: warning, to: [pager, chat]}
sinks:
  - {name: pager, type: log, min_severity: error}
  - {name: chat, type: log}
`)
	seed, err := filepath.Abs("../../testdata/webhooks/seed_template_flagged.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := filepath.Join(dir, "tests.yaml")
	write(tests, `tests:
  - name: both
    payload_file: `+seed+`
    expect:
      - {rule: flagged, sink: pager, severity: warning}
      - {rule: flagged, sink: chat, severity: warning}
  - name: only chat
    payload_file: `+seed+`
    expect:
      - {rule: flagged, sink: chat, severity: warning}
`)
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"test", "--config", cfg, tests}, IO{Out: &out, Err: &errOut})
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{`test "both": FAIL`, `rule "flagged" → pager not sent: warning is below the sink's min_severity error`, "1 passed, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout:\n%s\nwant %q", out.String(), want)
		}
	}
}
