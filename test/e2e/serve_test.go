package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

const (
	verifyToken = "e2e-verify-token"
	appSecret   = "e2e-app-secret-0123456789"
)

func TestMain(m *testing.M) { os.Exit(e2etest.Main(m)) }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "sink-signing-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	rulesPath, err := filepath.Abs("../../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	slackLog := filepath.Join(dir, "compliance.jsonl")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: ${E2E_VERIFY_TOKEN}
  app_secrets: ["old-secret-being-rotated-out", "${E2E_APP_SECRET}"]
store:
  path: %s
rules: [%s]
sinks:
  - name: oncall-pagerduty
    type: webhook
    url: %s
    secret: sink-signing-secret
  - name: compliance-slack
    type: log
    path: %s
  - name: legal-email
    type: log
    path: %s
`, filepath.Join(dir, "router.db"), rulesPath, peer.URL(), slackLog, filepath.Join(dir, "legal.jsonl"))
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg,
		Env: []string{"E2E_VERIFY_TOKEN=" + verifyToken, "E2E_APP_SECRET=" + appSecret}})
	p := r.Start(t)

	t.Run("handshake answers the challenge", func(t *testing.T) {
		resp, err := http.Get(p.URL("/webhook?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(b) != "1158201444" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("got %d %q (%s), want 200 with exactly the challenge as text/plain", resp.StatusCode, b, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("handshake with a wrong token is refused", func(t *testing.T) {
		resp, err := http.Get(p.URL("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", resp.StatusCode)
		}
	})

	seed := readFile(t, "../../testdata/webhooks/seed_account_restriction.json")
	// A payload whose WABA id appears nowhere else, so a log line naming it
	// can only come from processing this very request.
	forged := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"999000999000999","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`)

	t.Run("refused posts are not processed", func(t *testing.T) {
		for name, sig := range map[string]string{
			"missing":      "",
			"wrong secret": e2etest.Sign([]byte("not-the-secret"), forged),
			"malformed":    "sha256=zz",
		} {
			if code, _ := p.Post(t, forged, sig); code != http.StatusUnauthorized {
				t.Errorf("%s signature: got %d, want 401", name, code)
			}
		}
		if code, body := p.PostSigned(t, appSecret, []byte(`{"object":"page","entry":[]}`)); code != http.StatusBadRequest {
			t.Errorf("wrong object: got %d %q, want 400", code, body)
		}
	})

	peer.Want(1, "the seed restriction, routed by account-restricted", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "account-restricted" && d.Notification.Event.WabaID == "102290129340398" &&
			d.Notification.Action == "trigger"
	})
	// The seed's expiration (2026-12-01 14:00 UTC) has passed, so the
	// incident resolves by itself at once, after its trigger.
	peer.Want(1, "the seed restriction's incident resolved at its expiry", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "account-restricted" && d.Notification.Action == "resolve" &&
			d.Notification.Incident != nil && d.Notification.Incident.Transition == "resolved"
	})
	t.Run("a signed seed example is delivered to its sink", func(t *testing.T) {
		if code, body := p.PostSigned(t, appSecret, seed); code != http.StatusOK {
			t.Fatalf("got %d %q, want 200", code, body)
		}
		peer.Await(t)
		got := peer.Received()[0]
		for _, want := range []string{`"rule":"account-restricted"`, `"severity":"critical"`, `"waba_id":"102290129340398"`,
			`"types":["RESTRICTED_BIZ_INITIATED_MESSAGING"]`, `can no longer send business-initiated messages until 2026-12-01 14:00 UTC`} {
			if !got.Contains(want) {
				t.Errorf("notification %s\nwant it to contain %s", got.Body, want)
			}
		}
	})

	t.Run("a redelivery makes no second notification", func(t *testing.T) {
		for range 4 {
			if code, _ := p.PostSigned(t, appSecret, seed); code != http.StatusOK {
				t.Fatalf("redelivery got %d, want 200", code)
			}
		}
		p.WaitForLog(t, "redelivered change ignored")
		p.WaitDrained(t)
		peer.Check(t)
	})

	t.Run("nothing of the refused posts reached a sink", func(t *testing.T) {
		p.WaitDrained(t)
		logged, err := os.ReadFile(slackLog)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(logged), "999000999000999") || p.HasLog("999000999000999") {
			t.Fatalf("a refused payload was processed:\n%s\n%s", logged, p.LogText())
		}
		if strings.Contains(p.LogText(), appSecret) || strings.Contains(p.LogText(), verifyToken) {
			t.Fatalf("a secret reached the log:\n%s", p.LogText())
		}
	})

	t.Run("healthcheck follows /readyz", func(t *testing.T) {
		res := r.RunBare(t, "healthcheck", "--url", p.URL("/readyz"))
		if res.Code != 0 || !strings.Contains(res.Output(), "ready") {
			t.Errorf("healthcheck of a running router: exit %d, %q; want exit 0 and ready", res.Code, res.Output())
		}
		// A port nobody listens on: the closed listener of a stopped router.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := ln.Addr().String()
		ln.Close()
		res = r.RunBare(t, "healthcheck", "--url", "http://"+dead+"/readyz")
		if res.Code != 1 || !strings.Contains(res.Output(), "connection refused") {
			t.Errorf("healthcheck of nothing: exit %d, %q; want exit 1 naming the refused connection", res.Code, res.Output())
		}
	})

	t.Run("SIGTERM shuts down cleanly", func(t *testing.T) {
		if err := p.Stop(15 * time.Second); err != nil {
			t.Fatalf("exit: %v\n%s", err, p.LogText())
		}
	})
}
