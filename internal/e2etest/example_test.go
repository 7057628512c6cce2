package e2etest_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// The shape of an end-to-end test: peers first (their URLs go in the
// config), then the router, expectations, the webhook, Await, the drain,
// Check. (Not run: it needs a *testing.T.)
func Example() {
	var t *testing.T // the test's own

	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Env: []string{"APP_SECRET=s"}, Config: fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: ["${APP_SECRET}"]
store: {path: %s}
rules: [%s]
sinks:
  - {name: peer, type: webhook, url: %s, secret: sink-secret}
`, filepath.Join(dir, "router.db"), filepath.Join(dir, "rules.yaml"), peer.URL())})
	p := r.Start(t)

	peer.Want(1, "the ban of WABA 1", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Event.WabaID == "1" && d.Notification.Severity == "critical"
	})
	if code, body := p.PostSigned(t, "s", []byte(`{"object":"whatsapp_business_account","entry":[…]}`)); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	peer.Await(t)                      // what was wanted has come
	p.WaitDrained(t)                   // and the router has nothing left to send
	peer.Check(t)                      // so nothing else will: exactly what was wanted
	_ = r.Run(t, "deadletter", "list") // another command on the same config

	if err := p.Stop(15 * time.Second); err != nil { // SIGTERM
		t.Fatal(err)
	}
	p = r.Start(t) // again, on the same store
	_ = p.Kill()   // SIGKILL
}
