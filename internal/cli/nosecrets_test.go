package cli

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

// The rule author's config under testdata/config/nosecrets has no server
// section and takes every sink secret from a variable only production sets.
const (
	noSecrets         = "../../testdata/config/nosecrets/config.yaml"
	noSecretsBadRules = "../../testdata/config/nosecrets/badrules.yaml"
	noSecretsTests    = "../../testdata/config/nosecrets/tests.yaml"
	banPayload        = "../../testdata/webhooks/seed_disabled_update_disable.json"
)

// noSecretsWarnings is what check, route and test say they could not check
// in that config.
var noSecretsWarnings = []string{
	noSecrets + ": warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets",
	noSecrets + `:7:18: warning: environment variable NOSECRETS_PAGERDUTY_KEY is not set; sink "oncall" was not built, so its settings were not checked`,
	noSecrets + `:10:18: warning: environment variable NOSECRETS_SLACK_URL is not set; sink "compliance" was not built, so its settings were not checked`,
	noSecrets + `:16:22: warning: environment variable NOSECRETS_TICKETS_TOKEN is not set; sink "tickets" was not built, so its settings were not checked`,
}

func unsetNoSecrets(t *testing.T) {
	for _, v := range []string{"NOSECRETS_PAGERDUTY_KEY", "NOSECRETS_SLACK_URL", "NOSECRETS_TICKETS_TOKEN"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
}

// TestRulesWithoutProductionSecrets: check, route and test judge a rule
// author's config with no server section and unset sink variables,
// warning about each thing they could not check; an error in the rules
// still fails them; serve and check --strict refuse the config.
func TestRulesWithoutProductionSecrets(t *testing.T) {
	unsetNoSecrets(t)
	tests := []struct {
		name      string
		args      []string
		code      int
		wantOut   string
		wantLines []string // exactly these lines on stderr, in order
	}{
		{"check", []string{"check", "--config", noSecrets}, ExitOK,
			noSecrets + ": OK: 2 rules in 1 file, 3 sinks; 4 warnings (check --strict judges as serve does)\n", noSecretsWarnings},
		{"route", []string{"route", "--config", noSecrets, banPayload}, ExitOK,
			`  rule "banned" → tickets [critical, incident opened]`, noSecretsWarnings},
		{"test", []string{"test", "--config", noSecrets, noSecretsTests}, ExitOK,
			"2 passed, 0 failed\n", noSecretsWarnings},
		// check sorts its lines by file name, then place.
		{"check with a rule error", []string{"check", "--config", noSecretsBadRules}, ExitFailure, "", []string{
			noSecretsBadRules + ": warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets",
			`../../testdata/config/nosecrets/badrules.rules.yaml:3:41: rule "banned": when: unknown name "evnt"; did you mean "event"?`,
			noSecretsBadRules + `:6:18: warning: environment variable NOSECRETS_PAGERDUTY_KEY is not set; sink "oncall" was not built, so its settings were not checked`,
			noSecretsBadRules + ": 1 error and 2 warnings; nothing was changed",
		}},
		{"route with a rule error", []string{"route", "--config", noSecretsBadRules, banPayload}, ExitFailure, "", []string{
			noSecretsBadRules + ": warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets",
			noSecretsBadRules + `:6:18: warning: environment variable NOSECRETS_PAGERDUTY_KEY is not set; sink "oncall" was not built, so its settings were not checked`,
			`../../testdata/config/nosecrets/badrules.rules.yaml:3:41: rule "banned": when: unknown name "evnt"; did you mean "event"?`,
		}},
		{"test with a rule error", []string{"test", "--config", noSecretsBadRules, noSecretsTests}, ExitFailure, "", []string{
			noSecretsBadRules + ": warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets",
			noSecretsBadRules + `:6:18: warning: environment variable NOSECRETS_PAGERDUTY_KEY is not set; sink "oncall" was not built, so its settings were not checked`,
			`../../testdata/config/nosecrets/badrules.rules.yaml:3:41: rule "banned": when: unknown name "evnt"; did you mean "event"?`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, IO{Out: &out, Err: &errOut})
			if code != tt.code || !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nwant %q", code, tt.code, out.String(), tt.wantOut)
			}
			got := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
			if !slices.Equal(got, tt.wantLines) {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), strings.Join(tt.wantLines, "\n"))
			}
		})
	}
}

// TestCheckStrictJudgesAsServe runs check --strict and serve on configs
// serve must refuse: both refuse each, with the same messages.
func TestCheckStrictJudgesAsServe(t *testing.T) {
	unsetNoSecrets(t)
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	for _, config := range []string{noSecrets, noSecretsBadRules, "../../testdata/config/bad/config.yaml",
		"../../testdata/config/badsinks/config.yaml", "../../testdata/config/inline/bad.yaml"} {
		t.Run(config, func(t *testing.T) {
			var checkOut, checkErr, serveOut, serveErr bytes.Buffer
			checkCode := Run(context.Background(), []string{"check", "--strict", "--config", config}, IO{Out: &checkOut, Err: &checkErr})
			serveCode := Run(context.Background(), []string{"serve", "--config", config}, IO{Out: &serveOut, Err: &serveErr})
			if checkCode != ExitFailure || serveCode != ExitFailure {
				t.Fatalf("check --strict exit %d, serve exit %d; want both to refuse\ncheck: %s\nserve: %s", checkCode, serveCode, checkErr.String(), serveErr.String())
			}
			checkLines := strings.Split(strings.TrimSuffix(checkErr.String(), "\n"), "\n")
			checkLines = checkLines[:len(checkLines)-1] // check's count of errors
			serveLines := strings.Split(strings.TrimSuffix(serveErr.String(), "\n"), "\n")
			if !slices.Equal(checkLines, serveLines) || len(checkLines) == 0 {
				t.Errorf("check --strict says:\n%s\nserve says:\n%s", strings.Join(checkLines, "\n"), serveErr.String())
			}
			if strings.Contains(checkErr.String(), ": warning: ") {
				t.Errorf("check --strict warns instead of refusing:\n%s", checkErr.String())
			}
		})
	}
}
