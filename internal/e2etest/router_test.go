package e2etest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestRouterLifecycle starts, stops, kills and restarts a real router on
// one store, and runs a subcommand on its config.
func TestRouterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router")
	}
	t.Parallel()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: ["${LIFECYCLE_SECRET}"]
store: {path: %s}
rules: [%s]
sinks:
  - {name: out, type: log, path: %s}
`, filepath.Join(dir, "router.db"), filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "out.jsonl"))
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte("rules:\n  - {name: all, when: 'true', to: [out]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Setup(t, Options{Dir: dir, Config: cfg, Env: []string{"LIFECYCLE_SECRET=s3cret"}})

	p1 := r.Start(t)
	if !strings.HasPrefix(p1.Addr(), "127.0.0.1:") || !p1.HasLog("msg=listening") {
		t.Errorf("address %q, log:\n%s", p1.Addr(), p1.LogText())
	}
	if _, err := r.Launch(context.Background()); err == nil || !strings.Contains(err.Error(), "still runs") {
		t.Errorf("a second process on the same store: %v, want a refusal", err)
	}
	if res := r.Run(t, "check"); res.Code != 0 {
		t.Errorf("check: exit %d\n%s", res.Code, res.Output())
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"7","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`)
	if code, answer := p1.PostSigned(t, "s3cret", body); code != 200 {
		t.Fatalf("post: %d %s", code, answer)
	}
	m := p1.WaitDrained(t)
	if got := m.Get("wabarouter_notifications_total", "outcome", "sent", "sink", "out"); got != 1 {
		t.Errorf("sent %v, want 1", got)
	}
	if err := p1.Stop(15 * time.Second); err != nil || !p1.Exited() || p1.ExitErr() != nil {
		t.Fatalf("SIGTERM: %v, exited %v (%v)", err, p1.Exited(), p1.ExitErr())
	}
	if err := p1.Stop(time.Second); err != nil {
		t.Errorf("Stop of a stopped process: %v, want its earlier exit (status 0)", err)
	}

	p2 := r.Start(t)
	if p2.LogPath() == p1.LogPath() {
		t.Errorf("both processes log to %s", p1.LogPath())
	}
	if err := p2.Kill(); err != nil || p2.ExitErr() == nil || !strings.Contains(p2.ExitErr().Error(), "killed") {
		t.Fatalf("SIGKILL: %v, exit %v", err, p2.ExitErr())
	}

	// The store outlives both: the third process sees the first one's
	// notification as sent and has nothing to do.
	p3 := r.Start(t)
	m = p3.WaitDrained(t)
	if got := m.Get("wabarouter_notifications_total", "outcome", "resumed", "sink", "out"); got != 0 {
		t.Errorf("resumed %v notifications after a clean stop, want 0", got)
	}
	if err := p3.Stop(15 * time.Second); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}

// TestWaitDrainedWaitsForASlowSend: a receiver that takes 700 ms to
// answer has its notification recorded by the time WaitDrained returns;
// a fixed 300 ms sleep would have checked too early and seen nothing.
func TestWaitDrainedWaitsForASlowSend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router")
	}
	t.Parallel()
	peer := ServeWebhookReceiver(t, "slow-secret", WebhookReceiverOptions{
		Respond: func(ctx context.Context, _ WebhookDelivery) Answer {
			select {
			case <-time.After(700 * time.Millisecond):
			case <-ctx.Done():
			}
			return Answer{}
		}})
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - {name: all, when: 'true', to: [peer]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Setup(t, Options{Dir: dir, Config: fmt.Sprintf(`server: {listen: "127.0.0.1:0", verify_token: v, app_secrets: [s]}
store: {path: %s}
rules: [%s]
sinks:
  - {name: peer, type: webhook, url: %s, secret: slow-secret}
`, filepath.Join(dir, "router.db"), rules, peer.URL())})
	p := r.Start(t)
	peer.Want(1, "the one notification", func(d WebhookDelivery) bool { return d.Notification.Event.WabaID == "8" })
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"8","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`)
	if code, answer := p.PostSigned(t, "s", body); code != 200 {
		t.Fatalf("post: %d %s", code, answer)
	}
	p.WaitDrained(t)
	peer.Check(t)
}
