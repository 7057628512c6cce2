package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// TestAccountsDirectoryReloads: a running router names an account as its
// directory file does, refuses a broken edit of that file (the old names
// stay), and takes a good edit without a restart.
func TestAccountsDirectoryReloads(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "accounts-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	accountsPath := filepath.Join(t.TempDir(), "accounts.csv")
	writeFile(t, accountsPath, "waba_id,name,team\n7001,Acme Retail EU,emea-oncall\n")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: [%s]
store: {path: %s}
accounts: %s
rules:
  - name: by-team
    when: field == "account_update" && account.team == "emea-oncall"
    to: [peer]
  - name: unowned
    when: field == "account_update" && account.team == ""
    to: [peer]
sinks:
  - {name: peer, type: webhook, url: %s, secret: accounts-secret}
`, appSecret, filepath.Join(dir, "router.db"), accountsPath, peer.URL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)

	// violation posts a violation of WABA 7001 at time at and waits for
	// its notification: made by rule as the seq-th transition of its
	// incident, naming the account in the event and in what the webhook
	// sink writes for people.
	violation := func(at int, rule, name string, seq int) {
		t.Helper()
		peer.Want(1, fmt.Sprintf("violation at %d by %s naming %q", at, rule, name), func(d e2etest.WebhookDelivery) bool {
			n := d.Notification
			return n.Rule == rule && n.Incident != nil && n.Incident.Seq == seq &&
				n.Event.Account.Name == name && strings.HasPrefix(n.Message.Who, name)
		})
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"7001","time":%d,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`, at)
		if code, msg := p.PostSigned(t, appSecret, body); code != 200 {
			t.Fatalf("post got %d %s", code, msg)
		}
		peer.Await(t)
	}
	violation(1, "by-team", "Acme Retail EU", 1)

	writeFile(t, accountsPath, "waba_id,name,team\nacme,Acme,emea-oncall\n")
	p.WaitForLog(t, "reload refused", "accounts.csv:2")
	violation(2, "by-team", "Acme Retail EU", 2)

	writeFile(t, accountsPath, "waba_id,name,team\n7001,Acme Retail Europe,\n")
	p.WaitForLog(t, "rules reloaded")
	violation(3, "unowned", "Acme Retail Europe", 1)
	p.WaitDrained(t)
	peer.Check(t)
}
