package cli

import (
	"bytes"
	"context"
	"encoding/json"
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
		{"shipped example", "../../config.example.yaml", ExitOK, "config.example.yaml: OK: 8 rules in 1 files, 3 sinks", nil},
		{"every error of a rules file at once", "../../testdata/config/bad/config.yaml", ExitFailure, "", []string{
			`rules.yaml:3:85: rule "restricted": when: unknown name "typs"; did you mean "types"?`,
			`rules.yaml:4:10: rule "restricted": sink "oncall" is not defined; defined sinks: compliance-slack`,
			`rules.yaml:5:5: rule "restricted": duplicate rule name; first defined at ../../testdata/config/bad/rules.yaml:2`,
			`rules.yaml:7:15: rule "restricted": unknown severity "loud"`,
			`rules.yaml:9:21: rule "restricted": dedup.window "6 hours" is not a duration`,
			`rules.yaml:6:11: rule "restricted": when: expected bool, but got string`,
			"error(s); nothing was changed",
		}},
		{"inline rules after the files' rules", "../../testdata/config/inline/config.yaml", ExitOK,
			"OK: 9 rules (1 inline, 8 from 1 files), 4 sinks", nil},
		{"inline rule errors point into the config", "../../testdata/config/inline/bad.yaml", ExitFailure, "", []string{
			`bad.yaml:8:9: rule "broken-inline": when: unknown name "flow_idd"; did you mean "flow_id"?`,
			`bad.yaml:9:10: rule "broken-inline": sink "nobody" is not defined; defined sinks: team`,
		}},
		{"missing config", "nope.yaml", ExitFailure, "", []string{"read config nope.yaml"}},
	}
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
	var got []routedNotification
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r routedNotification
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
			!strings.Contains(r.Title, "has been banned") {
			t.Errorf("notification %d = %+v, want account-banned → %s, critical, a dedup key and a ban title", i, r, sink)
		}
	}
}
