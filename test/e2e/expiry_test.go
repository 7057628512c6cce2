package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// TestRestrictionExpiresAcrossARestart: a restriction's incident resolves
// by itself when its expiration passes, though the router was stopped
// when it did: the timer is in the store, and the next run fires it.
func TestRestrictionExpiresAcrossARestart(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - {name: restricted, when: 'event == "ACCOUNT_RESTRICTION"', to: [hook]}
sinks:
  - {name: hook, type: webhook, url: %s, secret: hook-secret}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), peer.URL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)
	// Meta sends expirations in whole seconds.
	expires := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"444000444","time":%d,"changes":[{"field":"account_update",
"value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":%d}]}}]}]}`,
		time.Now().Unix(), expires.Unix())
	opened := func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Incident != nil && d.Notification.Incident.Transition == "opened"
	}
	peer.Want(1, "the restriction opening its incident", opened)
	if code, answer := p.PostSigned(t, appSecret, body); code != http.StatusOK {
		t.Fatalf("post: %d %q", code, answer)
	}
	peer.Await(t)
	p.WaitDrained(t)
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	if time.Now().After(expires) {
		t.Fatalf("the router took until after the expiry to stop; the test proves nothing")
	}
	// The expiry passes while no router runs.
	time.Sleep(time.Until(expires) + 500*time.Millisecond)
	peer.Want(1, "the incident resolved at the expiry, by the next run", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Action == "resolve" && d.Notification.Incident != nil &&
			d.Notification.Incident.Transition == "resolved" && d.Notification.Event.WabaID == "444000444"
	})
	p = r.Start(t)
	peer.Await(t)
	p.WaitDrained(t)
	peer.Check(t)
	got := peer.Received()
	if got[0].Notification.Incident.ID != got[1].Notification.Incident.ID {
		t.Errorf("the resolve is about incident %s, the opening was %s", got[1].Notification.Incident.ID, got[0].Notification.Incident.ID)
	}
}
