package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

const reloadRules = `rules:
  - name: %s
    when: field == "account_update"
    to: [peer]
`

// TestReloadKeepsOldRulesOnBrokenEdit edits the rules file of a running
// router: a broken edit is refused and the old rules keep routing; a good
// edit takes effect without a restart.
func TestReloadKeepsOldRulesOnBrokenEdit(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "reload-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	// The rules have a folder of their own: the glob below must not
	// match the config file, which is in dir.
	rulesDir := t.TempDir()
	rulesPath := filepath.Join(rulesDir, "rules.yaml")
	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "first-rules"))
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: [%s]
store: {path: %s}
rules: [%s]
sinks:
  - {name: peer, type: webhook, url: %s, secret: reload-secret}
`, appSecret, filepath.Join(dir, "router.db"), rulesPath, peer.URL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)

	// sendViolation posts a violation of WABA wabaID and waits for its
	// notification, which rule must have made.
	sendViolation := func(wabaID int, rule string) {
		t.Helper()
		id := fmt.Sprint(wabaID)
		peer.Want(1, "WABA "+id+" routed by "+rule, func(d e2etest.WebhookDelivery) bool {
			return d.Notification.Event.WabaID == id && d.Notification.Rule == rule
		})
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%d","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`, wabaID)
		if code, msg := p.PostSigned(t, appSecret, body); code != 200 {
			t.Fatalf("post got %d %s", code, msg)
		}
		peer.Await(t)
	}

	sendViolation(1, "first-rules")

	writeFile(t, rulesPath, "rules:\n  - name: broken\n    when: field == \n    to: [peer]\n")
	p.WaitForLog(t, "reload refused", "rules.yaml:3")
	if got := p.Metrics(t)["wabarouter_config_last_reload_successful"]; got != 0 {
		t.Errorf("reload gauge after a broken edit = %v, want 0", got)
	}
	sendViolation(2, "first-rules")

	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "second-rules"))
	p.WaitForLog(t, "rules reloaded")
	if got := p.Metrics(t)["wabarouter_config_last_reload_successful"]; got != 1 {
		t.Errorf("reload gauge after a good edit = %v, want 1", got)
	}
	sendViolation(3, "second-rules")
	// Each violation went to the peer once, by the rules in force.
	p.WaitDrained(t)
	peer.Check(t)

	// A rule sending to a sink added to the config while running: sinks
	// are built at start, so the reload is refused rather than queueing
	// notifications that no worker would deliver.
	if err := r.WriteConfig(cfg + "  - {name: late, type: log}\n"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, rulesPath, "rules:\n  - {name: to-late, when: 'true', to: [late]}\n")
	p.WaitForLog(t, "reload refused", `sink \"late\" was added to the config after the router started`)

	// A new file matching the rules glob is picked up without a signal.
	reloads := p.CountLog("rules reloaded", "rules=1")
	if err := r.WriteConfig(strings.Replace(cfg, "rules: ["+rulesPath+"]", "rules: ["+filepath.Join(rulesDir, "*.yaml")+"]", 1)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "third-rules"))
	p.WaitForMoreLogs(t, reloads, "rules reloaded", "rules=1")
	reloads = p.CountLog("rules reloaded", "rules=2")
	// Give the poll a second to take the folder's new time as seen.
	time.Sleep(1100 * time.Millisecond)
	writeFile(t, filepath.Join(rulesDir, "more.yaml"), "rules:\n  - {name: extra, when: 'false', to: [peer]}\n")
	p.WaitForMoreLogs(t, reloads, "rules reloaded", "rules=2")
}
