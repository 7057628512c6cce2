package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/webhook"
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
	bin := buildBinary(t)
	peer := newRecordingPeer(t, "reload-secret")
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "first-rules"))
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: [%s]
store: {path: %s}
rules: [%s]
sinks:
  - {name: peer, type: webhook, url: %s, secret: reload-secret}
`, appSecret, filepath.Join(dir, "router.db"), rulesPath, peer.srv.URL)
	r := startRouter(t, bin, cfg)
	base := "http://" + r.addr

	sendViolation := func(wabaID int) {
		body := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%d","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`, wabaID))
		if code, msg := post(t, base+"/webhook", body, webhook.Sign(appSecret, body)); code != http.StatusOK {
			t.Fatalf("post got %d %s", code, msg)
		}
	}
	waitForDelivery := func(wabaID int, rule string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			for _, b := range peer.received() {
				if strings.Contains(b, fmt.Sprintf(`"waba_id":"%d"`, wabaID)) {
					if !strings.Contains(b, `"rule":"`+rule+`"`) {
						t.Fatalf("WABA %d routed by the wrong rule, want %s: %s", wabaID, rule, b)
					}
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("WABA %d never delivered; router log:\n%s", wabaID, r.logText())
	}

	sendViolation(1)
	waitForDelivery(1, "first-rules")

	writeFile(t, rulesPath, "rules:\n  - name: broken\n    when: field == \n    to: [peer]\n")
	r.waitForLog(t, "reload refused", "rules.yaml:3")
	if got := scrape(t, base)["wabarouter_config_last_reload_successful"]; got != 0 {
		t.Errorf("reload gauge after a broken edit = %v, want 0", got)
	}
	sendViolation(2)
	waitForDelivery(2, "first-rules")

	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "second-rules"))
	r.waitForLog(t, "rules reloaded")
	if got := scrape(t, base)["wabarouter_config_last_reload_successful"]; got != 1 {
		t.Errorf("reload gauge after a good edit = %v, want 1", got)
	}
	sendViolation(3)
	waitForDelivery(3, "second-rules")

	// A rule sending to a sink added to the config while running: sinks
	// are built at start, so the reload is refused rather than queueing
	// notifications that no worker would deliver.
	writeFile(t, r.cfgPath, cfg+"  - {name: late, type: log}\n")
	writeFile(t, rulesPath, "rules:\n  - {name: to-late, when: 'true', to: [late]}\n")
	r.waitForLog(t, "reload refused", `sink \"late\" was added to the config after the router started`)

	// A new file matching the rules glob is picked up without a signal.
	reloads := r.countLog("rules reloaded", "rules=1")
	writeFile(t, r.cfgPath, strings.Replace(cfg, "rules: ["+rulesPath+"]", "rules: ["+filepath.Join(dir, "*.yaml")+"]", 1))
	writeFile(t, rulesPath, fmt.Sprintf(reloadRules, "third-rules"))
	r.waitForMoreLogs(t, reloads, "rules reloaded", "rules=1")
	reloads = r.countLog("rules reloaded", "rules=2")
	// Give the poll a second to take the folder's new time as seen.
	time.Sleep(1100 * time.Millisecond)
	writeFile(t, filepath.Join(dir, "more.yaml"), "rules:\n  - {name: extra, when: 'false', to: [peer]}\n")
	r.waitForMoreLogs(t, reloads, "rules reloaded", "rules=2")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
