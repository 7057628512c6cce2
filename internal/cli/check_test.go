package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	tests := []struct {
		name     string
		config   string
		wantCode int
		wantOut  string
		wantErr  []string
	}{
		{"shipped example", "../../config.example.yaml", ExitOK, "config.example.yaml: OK: 7 rules in 1 file, 3 sinks", nil},
		{"every error of a rules file at once", "../../testdata/config/bad/config.yaml", ExitFailure, "", []string{
			`rules.yaml:3:85: rule "restricted": when: unknown name "typs"; did you mean "types"?`,
			`rules.yaml:4:10: rule "restricted": sink "oncall" is not defined; defined sinks: compliance-slack`,
			`rules.yaml:5:5: rule "restricted": duplicate rule name; first defined at ../../testdata/config/bad/rules.yaml:2`,
			`rules.yaml:7:15: rule "restricted": unknown severity "loud"`,
			`rules.yaml:9:21: rule "restricted": dedup.window "6 hours" is not a duration like 90m or 6h; write 6h`,
			"rules.yaml:6:11: rule \"restricted\": when: the condition gives text, not true or false; compare it, for example `event == \"...\"`",
			"config.yaml: 6 errors; nothing was changed",
		}},
		{"inline rules after the files' rules", "../../testdata/config/inline/config.yaml", ExitOK,
			"OK: 8 rules (1 inline, 7 from 1 file), 4 sinks", nil},
		{"sinks serve could not build, with the rules' errors", "../../testdata/config/badsinks/config.yaml", ExitFailure, "", []string{
			"config.yaml:8:5: sink \"legal-email\": email sink: tls \"ssl\": want starttls, tls or none\n" +
				"../../testdata/config/badsinks/config.yaml:14:5: sink \"tickets\": webhook sink: url <redacted-url> must be an absolute http(s) URL\n" +
				"../../testdata/config/badsinks/config.yaml:21:5: sink \"relay-email\": email sink: ca_file: open ../../testdata/config/badsinks/certs/missing-ca.pem: no such file or directory\n" +
				"../../testdata/config/badsinks/rules.yaml:5:34: rule \"everything\": title: {{template \"waba\"}} is a shortcut",
			"config.yaml: 4 errors; nothing was changed",
		}},
		{"inline rule errors point into the config", "../../testdata/config/inline/bad.yaml", ExitFailure, "", []string{
			`bad.yaml:8:9: rule "broken-inline": when: unknown name "flow_idd"; did you mean "flow_id"?`,
			`bad.yaml:9:10: rule "broken-inline": sink "nobody" is not defined; defined sinks: team`,
		}},
		{"missing config", "nope.yaml", ExitFailure, "", []string{"read config nope.yaml"}},
	}
	// check builds the sinks as serve does, but creates nothing: not the
	// log sink's file, nor its folders.
	logFolder := "../../testdata/config/badsinks/out"
	t.Cleanup(func() {
		if _, err := os.Stat(logFolder); err == nil {
			t.Errorf("check created %s", logFolder)
			_ = os.RemoveAll(logFolder)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"check", "--config", tt.config}, IO{Out: &out, Err: &errOut})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr:\n%s\nwant a line containing %q", errOut.String(), want)
				}
				for _, secret := range []string{"s3cr3t-path", "hdr-tok-5c1e9a"} {
					if strings.Contains(out.String()+errOut.String(), secret) {
						t.Errorf("output leaks %q:\n%s%s", secret, out.String(), errOut.String())
					}
				}
			}
		})
	}
}

func TestRouteCommandJSON(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"route", "--config", "../../config.example.yaml", "--format", "json",
		"../../testdata/webhooks/seed_disabled_update_disable.json", "../../testdata/webhooks/seed_account_review_update.json"},
		IO{Out: &out, Err: &errOut})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got []routeLine
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r routeLine
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("got %d notifications, want 2 (the ban to PagerDuty and email; the review matches nothing): %+v", len(got), got)
	}
	for i, sink := range []string{"oncall-pagerduty", "legal-email"} {
		r := got[i]
		if r.Rule != "account-banned" || r.Sink != sink || r.Severity != "critical" || r.DedupKey == "" ||
			!strings.Contains(r.Title, "banned") {
			t.Errorf("notification %d = %+v, want account-banned → %s, critical, a dedup key and a ban title", i, r, sink)
		}
	}
}

func TestRouteShowsMinSeveritySkips(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`server: {verify_token: v, app_secrets: [s]}
rules:
  - {name: flagged, when: 'field == "message_template_status_update"', severity: warning, to: [pager, slack]}
sinks:
  - {name: pager, type: log, min_severity: error}
  - {name: slack, type: log}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"route", "--config", cfg, "--format", "json",
		"../../testdata/webhooks/seed_template_flagged.json"}, IO{Out: &out, Err: &errOut})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got []routeLine
	for dec := json.NewDecoder(&out); dec.More(); {
		var r routeLine
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 || got[0].Sink != "pager" || got[0].Skipped != "warning is below the sink's min_severity error" || got[0].Outcome != "skipped" || got[1].Skipped != "" {
		t.Errorf("route = %+v; want pager skipped below min_severity error and slack sent", got)
	}
}

// TestRouteRunsServesStages: route shows what serve does with the payloads
// in order: the same change again is a redelivery, and the resolve of a
// ban reaches a pager whose min_severity is above the resolve's severity,
// because the pager heard of the ban.
func TestRouteRunsServesStages(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`rules:
  - name: banned
    when: 'event == "DISABLED_UPDATE" && ban_state == "DISABLE"'
    severity: critical
    to: [pager]
    dedup: {key: '{{.waba_id}}/ban'}
  - name: lifted
    when: 'event == "DISABLED_UPDATE" && ban_state == "REINSTATE"'
    action: resolve
    to: [pager]
    dedup: {key: '{{.waba_id}}/ban'}
sinks:
  - {name: pager, type: log, min_severity: error}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ban, lift := "../../testdata/webhooks/seed_disabled_update_disable.json", "../../testdata/webhooks/seed_disabled_update_reinstate.json"
	code := Run(context.Background(), []string{"route", "--config", cfg, "--format", "json", ban, ban, lift},
		IO{Out: &out, Err: &errOut})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got []string
	for dec := json.NewDecoder(&out); dec.More(); {
		var r routeLine
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Redelivery {
			got = append(got, "redelivery")
			continue
		}
		got = append(got, r.Rule+":"+r.Transition+":"+r.Outcome)
	}
	want := "[banned:opened:queued redelivery banned:resolved:queued]"
	if fmt.Sprint(got) != want {
		t.Errorf("route = %v, want %s", got, want)
	}
}

// TestRouteEmptyWebhook: an envelope with nothing in it is accepted by
// serve and routes nothing; route says so rather than printing nothing.
func TestRouteEmptyWebhook(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"route", "-"},
		IO{In: strings.NewReader(`{"object":"whatsapp_business_account","entry":[]}`), Out: &out, Err: &errOut})
	if code != ExitOK || !strings.Contains(out.String(), "-: no events (a webhook with no changes); nothing would be sent") {
		t.Errorf("route of an empty webhook: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
}

// TestCheckWarnings: warnings print at their place and leave the exit
// code 0; --strict refuses them, and says so.
func TestCheckWarnings(t *testing.T) {
	cfg := "../../testdata/config/warnings/config.yaml"
	wantLines := []string{
		`../../testdata/config/warnings/rules.yaml:3:50: warning: rule "restricted": when: event is never "account_restriction": Meta writes it in upper case; did you mean "ACCOUNT_RESTRICTION"?`,
		`../../testdata/config/warnings/rules.yaml:6:46: warning: rule "failed": when: status is never "FAILED": wabarouter writes it in lower case; did you mean "failed"?`,
	}
	for _, c := range []struct {
		args     []string
		wantCode int
		wantOut  string
		wantLast string
	}{
		{[]string{"check", "--config", cfg}, ExitOK, cfg + ": OK: 2 rules in 1 file, 1 sink; 2 warnings (check --strict judges as serve does)\n", ""},
		{[]string{"check", "--strict", "--config", cfg}, ExitFailure, "", cfg + ": 2 warnings, which --strict refuses; nothing was changed"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), c.args, IO{Out: &out, Err: &errOut})
			if code != c.wantCode || out.String() != c.wantOut {
				t.Fatalf("exit %d, stdout %q; want exit %d, stdout %q\nstderr: %s", code, out.String(), c.wantCode, c.wantOut, errOut.String())
			}
			want := strings.Join(wantLines, "\n") + "\n"
			if c.wantLast != "" {
				want += c.wantLast + "\n"
			}
			if errOut.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
			}
		})
	}
}

// TestCheckFormatJSON: one JSON object per diagnostic and line, errors
// and warnings alike, each with its place, rule, message and hint.
func TestCheckFormatJSON(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	for _, c := range []struct {
		config   string
		wantCode int
		want     []diagnostic
	}{
		{"../../testdata/config/warnings/config.yaml", ExitOK, []diagnostic{
			{File: "../../testdata/config/warnings/rules.yaml", Line: 3, Column: 50, Severity: "warning", Rule: "restricted",
				Message: `when: event is never "account_restriction": Meta writes it in upper case`, Hint: `did you mean "ACCOUNT_RESTRICTION"?`},
			{File: "../../testdata/config/warnings/rules.yaml", Line: 6, Column: 46, Severity: "warning", Rule: "failed",
				Message: `when: status is never "FAILED": wabarouter writes it in lower case`, Hint: `did you mean "failed"?`},
		}},
		{"../../testdata/config/bad/config.yaml", ExitFailure, []diagnostic{
			{File: "../../testdata/config/bad/rules.yaml", Line: 3, Column: 85, Severity: "error", Rule: "restricted",
				Message: `when: unknown name "typs"`, Hint: `did you mean "types"?`},
			{File: "../../testdata/config/bad/rules.yaml", Line: 4, Column: 10, Severity: "error", Rule: "restricted",
				Message: `sink "oncall" is not defined`, Hint: `defined sinks: compliance-slack`},
			{File: "../../testdata/config/bad/rules.yaml", Line: 5, Column: 5, Severity: "error", Rule: "restricted",
				Message: `duplicate rule name`, Hint: `first defined at ../../testdata/config/bad/rules.yaml:2; give each rule a name of its own`},
			{File: "../../testdata/config/bad/rules.yaml", Line: 6, Column: 11, Severity: "error", Rule: "restricted",
				Message: `when: the condition gives text, not true or false`, Hint: "compare it, for example `event == \"...\"`"},
			{File: "../../testdata/config/bad/rules.yaml", Line: 7, Column: 15, Severity: "error", Rule: "restricted",
				Message: `unknown severity "loud"`, Hint: `want one of critical, error, warning, info`},
			{File: "../../testdata/config/bad/rules.yaml", Line: 9, Column: 21, Severity: "error", Rule: "restricted",
				Message: `dedup.window "6 hours" is not a duration like 90m or 6h`, Hint: `write 6h`},
		}},
		{"../../testdata/config/badsinks/config.yaml", ExitFailure, []diagnostic{
			{File: "../../testdata/config/badsinks/config.yaml", Line: 8, Column: 5, Severity: "error",
				Message: `sink "legal-email": email sink: tls "ssl": want starttls, tls or none`},
		}},
	} {
		t.Run(c.config, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"check", "--format", "json", "--config", c.config}, IO{Out: &out, Err: &errOut})
			if code != c.wantCode || errOut.Len() > 0 {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.wantCode, errOut.String())
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			var got []diagnostic
			for _, l := range lines {
				var d diagnostic
				dec := json.NewDecoder(strings.NewReader(l))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&d); err != nil {
					t.Fatalf("line %q is not one diagnostic: %v", l, err)
				}
				got = append(got, d)
			}
			if len(got) < len(c.want) {
				t.Fatalf("%d diagnostics, want at least %d:\n%s", len(got), len(c.want), out.String())
			}
			for i, w := range c.want {
				if got[i] != w {
					t.Errorf("diagnostic %d = %+v\nwant %+v", i, got[i], w)
				}
			}
		})
	}
}

// TestCheckWarnsOfUnlistedAccounts: an id a rule compares waba_id with
// that the directory lacks is a warning at the rule, the listed one none.
func TestCheckWarnsOfUnlistedAccounts(t *testing.T) {
	cfg := "../../testdata/config/accounts/config.yaml"
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"check", "--config", cfg}, IO{Out: &out, Err: &errOut})
	if code != ExitOK {
		t.Fatalf("exit %d\nstderr: %s", code, errOut.String())
	}
	var warnings []string
	for _, line := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if strings.Contains(line, "accounts directory") {
			warnings = append(warnings, line)
		}
	}
	want := `../../testdata/config/accounts/rules.yaml:2: warning: rule "acme": when compares waba_id with "102290129340399", which the accounts directory does not list; check the id for a typo, or add the account to accounts (it lists 1)`
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), want)
	}
}
