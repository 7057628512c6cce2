package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// TestRouteShowsRuleErrors runs route on a rule that fails on the event
// between two that work: the failure is in route's own output, text and
// JSON, with the rule's name and its error, and route exits 1.
func TestRouteShowsRuleErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`rules:
  - {name: before, when: 'field == "account_update"', to: [team]}
  - {name: broken, when: 'value.missing.key == 1', to: [team]}
  - {name: only-broken, when: 'field == "nothing"', to: [team]}
sinks:
  - {name: team, type: log}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const ban = "../../testdata/webhooks/seed_disabled_update_disable.json"

	t.Run("text", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"route", "--config", cfg, ban}, IO{Out: &out, Err: &errOut})
		if code != ExitFailure {
			t.Errorf("exit %d, want %d when a rule fails", code, ExitFailure)
		}
		lines := strings.Split(out.String(), "\n")
		if len(lines) < 6 || lines[0] != ban+": event 1: account_update/DISABLED_UPDATE" ||
			!strings.HasPrefix(lines[1], `  rule "broken" FAILED: evaluating when: `) ||
			strings.TrimSpace(lines[2]) != "| value.missing.key == 1" || !strings.HasPrefix(lines[3], "     | ") ||
			!strings.HasPrefix(lines[4], `  rule "before" → team [`) {
			t.Errorf("stdout:\n%s\nwant the event, the failed rule with its error indented under it, then the notification", out.String())
		}
		if strings.Contains(out.String(), "no rule matched") {
			t.Errorf("stdout says no rule matched although one failed:\n%s", out.String())
		}
		if !strings.Contains(errOut.String(), "route: 1 rule failed on an event") {
			t.Errorf("stderr %q; want it to say a rule failed", errOut.String())
		}
	})

	t.Run("json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"route", "--config", cfg, "--format", "json", ban}, IO{Out: &out, Err: &errOut})
		if code != ExitFailure {
			t.Errorf("exit %d, want %d when a rule fails", code, ExitFailure)
		}
		var got []map[string]any
		for dec := json.NewDecoder(&out); dec.More(); {
			var line map[string]any
			if err := dec.Decode(&line); err != nil {
				t.Fatal(err)
			}
			got = append(got, line)
		}
		if len(got) != 2 {
			t.Fatalf("got %d objects, want the failed rule and the notification: %v", len(got), got)
		}
		failed := got[0]
		if failed["rule"] != "broken" || !strings.HasPrefix(failed["error"].(string), "evaluating when: ") ||
			failed["payload"] != ban || failed["field"] != "account_update" || failed["event"] != "DISABLED_UPDATE" || failed["sink"] != nil {
			t.Errorf("failed rule = %v; want rule broken, its error, the event and no sink", failed)
		}
		if got[1]["rule"] != "before" || got[1]["sink"] != "team" || got[1]["error"] != nil {
			t.Errorf("notification = %v; want rule before to team, without error", got[1])
		}
	})

	t.Run("a failing rule and nothing else", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"route", "--config", cfg, "../../testdata/webhooks/seed_template_approved.json"},
			IO{Out: &out, Err: &errOut})
		want := "../../testdata/webhooks/seed_template_approved.json: event 1: message_template_status_update/APPROVED\n" +
			`  rule "broken" FAILED: `
		if code != ExitFailure || !strings.HasPrefix(out.String(), want) ||
			!strings.HasSuffix(out.String(), "\n  no other rule matched; nothing would be sent\n") {
			t.Errorf("exit %d, stdout:\n%s\nwant exit 1, the failure and that nothing else would be sent", code, out.String())
		}
	})
}

// TestRouteAppliesTheSilencesInForce: route hides what the silences in
// force in the config's store would hide, and says so.
func TestRouteAppliesTheSilencesInForce(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("rules:\n  - {name: banned, when: 'event == \"DISABLED_UPDATE\"', to: [log]}\nsinks:\n  - {name: log, type: log}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data", "wabarouter.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sil := store.Silence{ID: "sil-route", When: `waba_id == "102290129340398"`, Author: "ana", Comment: "maintenance",
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), CreatedAt: now}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.SaveSilence(ctx, sil) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Run(ctx, []string{"route", "--config", cfgPath, "../../testdata/webhooks/seed_disabled_update_disable.json"}, IO{Out: &out, Err: &errOut})
	if code != ExitOK || !strings.Contains(out.String(), "not sent: silenced by sil-route") || !strings.Contains(errOut.String(), "1 silence(s) in force") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
}

// TestRouteTellsARecoveryToldLate: a reinstatement that happened before
// the ban's latest report leaves the incident open, and route says which
// and why instead of "no rule matched"; one that happened after resolves.
func TestRouteTellsARecoveryToldLate(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"route", "--config", "../../config.example.yaml",
		"../../testdata/webhooks/seed_disabled_update_disable.json", "../../testdata/lifecycle/ban_disable_again.json",
		"../../testdata/webhooks/seed_disabled_update_reinstate.json", "../../testdata/lifecycle/ban_reinstated.json"},
		IO{Out: &out, Err: &errOut})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	_, late, _ := strings.Cut(out.String(), "seed_disabled_update_reinstate.json: event 1")
	late, later, _ := strings.Cut(late, "ban_reinstated.json: event 1")
	if !strings.Contains(late, `of rule "account-banned" stays open (key "102290129340398/ban"): told late`) ||
		!strings.Contains(late, "nothing would be sent") || strings.Contains(late, "no rule matched") {
		t.Errorf("the late reinstatement shows:\n%s\nwant the ban kept open, told late, and nothing sent", late)
	}
	if !strings.Contains(later, "incident resolved") {
		t.Errorf("the reinstatement after the ban's latest report shows:\n%s\nwant the ban resolved", later)
	}
}
