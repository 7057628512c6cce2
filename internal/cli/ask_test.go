package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit/audittest"
)

// askStore routes the audit fixture into a store beside a config naming
// it, the first webhook at base; the config's secrets are ${VAR}s that are
// not set, which incidents and why do not need.
func askStore(t *testing.T, base time.Time) (string, audittest.Fixture) {
	t.Helper()
	dir := t.TempDir()
	f := audittest.Build(t, filepath.Join(dir, "router.db"), base)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`server:
  verify_token: ${ASK_TEST_UNSET_TOKEN}
  app_secrets: ["${ASK_TEST_UNSET_SECRET}"]
store: {path: router.db}
sinks:
  - {name: pager, type: log}
  - {name: legal-mail, type: log}
  - {name: team-mail, type: log}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, f
}

// TestIncidentsAndWhy runs the commands on a store made by routing real
// payloads: each answer, in text and JSON, and each mistake on the command
// line.
func TestIncidentsAndWhy(t *testing.T) {
	base := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	cfg, f := askStore(t, base)
	w := audittest.WabaID
	tests := []struct {
		name     string
		args     []string
		wantCode int
		// wantOut are in stdout, in this order; notOut are not.
		wantOut []string
		notOut  []string
		wantErr string
		// jsonIDs, when set, are the ids (incidents) or webhook ids (why)
		// of stdout's JSON lines, in order.
		jsonIDs []string
	}{
		{name: "open incidents by default", args: []string{"incidents"}, wantOut: []string{
			"STATE  SEVERITY  KEY", "open   warning   " + w + "/phone/+16505551111/quality  number-quality", "  2       " + f.QualityIncident},
			notOut: []string{f.BanIncident}},
		{name: "all incidents as JSON", args: []string{"incidents", "--state", "all", "--format", "json"},
			jsonIDs: []string{f.RestrictionIncident, f.BanIncident, f.QualityIncident}},
		{name: "resolved ones of another account", args: []string{"incidents", "--state", "resolved", "--waba", "1"},
			wantErr: "no resolved incidents of WABA 1"},
		{name: "a state that is none", args: []string{"incidents", "--state", "closed"}, wantCode: ExitUsage,
			wantErr: `incidents: --state "closed" is not open, resolved or all`},
		{name: "incidents in xml", args: []string{"incidents", "--format", "xml"}, wantCode: ExitUsage, wantErr: `--format "xml" is not text or json`},
		{name: "why of the account", args: []string{"why", "--waba", w}, wantOut: []string{
			fmt.Sprintf("webhook %d, event 1, received %s: account_update/DISABLED_UPDATE of WABA %s", f.Ban, base.Format(time.RFC3339), w),
			fmt.Sprintf(`  rule "account-banned" matched → incident %s opened (key %s/ban)`, f.BanIncident, w),
			"    → pager: queued, sent at " + base.Add(time.Second).Format(time.RFC3339) + " (receipt PD-ban-1)",
			"    → legal-mail: queued, attempt 1 failed at",
			fmt.Sprintf("  a redelivery of a change already routed on %s (webhook %d, event 1); nothing was sent", base.Format(time.RFC3339), f.Ban),
			fmt.Sprintf("webhook %d, event 1", f.Unmatched), "  no rule matched; nothing was sent",
			"    → team-mail: not made: warning is below the sink's min_severity error",
			"    → pager: not made: the sink takes no updated transitions",
			`  rule "broken" FAILED: evaluating when: cannot fetch key from <nil>`,
			fmt.Sprintf(`  incident %s of rule "account-banned" resolved (key %s/ban): ended by account_update/DISABLED_UPDATE REINSTATE`, f.BanIncident, w),
			"    → legal-mail: queued, not sent yet",
			fmt.Sprintf("timer expiry of %s, fired %s: account_update/ACCOUNT_RESTRICTION of WABA %s", f.RestrictionIncident, base.Add(9*time.Minute).Format(time.RFC3339), w),
			fmt.Sprintf(`  incident %s of rule "restricted" resolved (key %s/restriction/RESTRICTED_BIZ_INITIATED_MESSAGING): the restriction expired at`, f.RestrictionIncident, w),
			"    → pager: queued, not sent yet"}},
		{name: "why of the account as JSON", args: []string{"why", "--format", "json", "--waba", w},
			jsonIDs: ids(f.Ban, f.Redelivery, f.Unmatched, f.Quality, f.QualityAgain, f.Broken, f.Reinstate, f.Restriction, 0)},
		{name: "why of the last hour", args: []string{"why", "--waba", w, "--since", "1h"},
			wantErr: "no events of WABA " + w + " were routed since "},
		{name: "why since a time", args: []string{"why", "--waba", w, "--format", "json", "--since", base.Add(3 * time.Minute).Format(time.RFC3339)},
			jsonIDs: ids(f.Quality, f.QualityAgain, f.Broken, f.Reinstate, f.Restriction, 0)},
		{name: "why of the redelivery", args: []string{"why", "--webhook", fmt.Sprintf("w%d", f.Redelivery)}, wantOut: []string{
			fmt.Sprintf("  a redelivery of a change already routed on %s (webhook %d, event 1); nothing was sent", base.Format(time.RFC3339), f.Ban)}},
		{name: "why of the ban incident", args: []string{"why", "--incident", f.BanIncident}, wantOut: []string{
			fmt.Sprintf(`incident %s (rule "account-banned", key %s/ban, episode 1): critical, 1 event; opened %s, resolved %s: ended by`,
				f.BanIncident, w, base.Format(time.RFC3339), base.Add(6*time.Minute).Format(time.RFC3339)),
			fmt.Sprintf("webhook %d, event 1", f.Ban), fmt.Sprintf("webhook %d, event 1", f.Reinstate)},
			notOut: []string{"redelivery", "no rule matched"}},
		{name: "why of the ban incident as JSON", args: []string{"why", "--incident", f.BanIncident, "--format", "json"},
			jsonIDs: ids(f.Ban, f.Reinstate)},
		{name: "why of a webhook not routed", args: []string{"why", "--webhook", "999"},
			wantErr: "no decision is recorded on webhook 999: it is not routed yet"},
		{name: "why of an unknown incident", args: []string{"why", "--incident", "inc-nope"}, wantCode: ExitFailure,
			wantErr: "why: no incident inc-nope"},
		{name: "why of nothing", args: []string{"why"}, wantCode: ExitUsage, wantErr: "why: name what to explain: a WABA, a webhook or an incident"},
		{name: "why of two things", args: []string{"why", "--waba", w, "--incident", f.BanIncident}, wantCode: ExitUsage, wantErr: "name one thing to explain"},
		{name: "why of a bad webhook id", args: []string{"why", "--webhook", "twelve"}, wantCode: ExitUsage, wantErr: `--webhook "twelve" is not a webhook's id`},
		{name: "why since yesterday", args: []string{"why", "--waba", w, "--since", "yesterday"}, wantCode: ExitUsage,
			wantErr: `--since "yesterday" is neither a duration back from now`},
		{name: "why with an argument", args: []string{"why", "--waba", w, "extra"}, wantCode: ExitUsage, wantErr: "why takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(append(tt.args, "--config", cfg)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want exit %d, stderr with %q\nstdout:\n%s", code, errOut, tt.wantCode, tt.wantErr, out)
			}
			rest := out
			for _, want := range tt.wantOut {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks (after what came before it) %q:\n%s", want, out)
				}
				rest = rest[i+len(want):]
			}
			for _, not := range tt.notOut {
				if strings.Contains(out, not) {
					t.Errorf("stdout has %q:\n%s", not, out)
				}
			}
			if tt.jsonIDs == nil {
				return
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				var v struct {
					ID        string `json:"id"`
					WebhookID int64  `json:"webhook_id"`
				}
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("line %q is not a JSON object: %v", line, err)
				}
				if v.ID != "" {
					got = append(got, v.ID)
				} else {
					got = append(got, fmt.Sprint(v.WebhookID))
				}
			}
			if !slices.Equal(got, tt.jsonIDs) {
				t.Errorf("JSON lines of %v, want %v:\n%s", got, tt.jsonIDs, out)
			}
		})
	}
}

func ids(webhooks ...int64) []string {
	var out []string
	for _, id := range webhooks {
		out = append(out, fmt.Sprint(id))
	}
	return out
}

// TestWhyLooksBackADayByDefault: with --waba and no --since, why tells
// the last 24 hours; --since reaches further.
func TestWhyLooksBackADayByDefault(t *testing.T) {
	cfg, f := askStore(t, time.Now().Add(-48*time.Hour))
	code, out, errOut := runCLI("why", "--config", cfg, "--waba", audittest.WabaID)
	if code != ExitOK || out != "" || !strings.Contains(errOut, "no events of WABA "+audittest.WabaID+" were routed since") {
		t.Errorf("why of events two days old: exit %d, stdout %q, stderr %q; want nothing, and that nothing was routed since a day ago", code, out, errOut)
	}
	code, out, errOut = runCLI("why", "--config", cfg, "--waba", audittest.WabaID, "--since", "3d")
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("webhook %d, event 1", f.Reinstate)) {
		t.Errorf("why --since 3d: exit %d, stderr %q, stdout:\n%s\nwant the events of two days ago", code, errOut, out)
	}
}

func TestAskWithoutAStore(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("store: {path: gone/w.db}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"incidents"}, {"why", "--waba", "1"}} {
		code, out, errOut := runCLI(append(args, "--config", cfg)...)
		want := args[0] + ": no store at " + filepath.Join(dir, "gone/w.db") + " (store.path in " + cfg + "); has serve run with this config?"
		if code != ExitFailure || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a failure saying %q", args, code, out, errOut, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("a command created the store's folder: %v", err)
	}
}
