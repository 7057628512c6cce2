package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sinkwebhook "github.com/wabarouter/wabarouter/internal/sinks/webhook"
	"github.com/wabarouter/wabarouter/internal/webhook"
)

const (
	verifyToken = "e2e-verify-token"
	appSecret   = "e2e-app-secret-0123456789"
)

// router is a running wabarouter process and the log lines it has written.
type router struct {
	cmd     *exec.Cmd
	cfgPath string
	env     []string
	addr    string
	mu      sync.Mutex
	logs    []string
	done    chan error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wabarouter")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/wabarouter").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startRouter(t *testing.T, bin, configYAML string, env ...string) *router {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &router{cmd: exec.Command(bin, "serve", "--config", cfgPath), cfgPath: cfgPath, env: env, done: make(chan error, 1)}
	r.cmd.Env = append(os.Environ(), env...)
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrFound := make(chan string, 1)
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.logs = append(r.logs, line)
			r.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				addrFound <- m[1]
			}
		}
		r.done <- r.cmd.Wait()
	}()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
		}
	})
	select {
	case r.addr = <-addrFound:
	case err := <-r.done:
		t.Fatalf("router exited before listening: %v\n%s", err, r.logText())
	case <-time.After(20 * time.Second):
		t.Fatalf("router did not log its address:\n%s", r.logText())
	}
	return r
}

// command runs another subcommand of bin on the router's config and
// environment and returns its exit code, stdout and stderr.
func (r *router) command(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args[:1:1], append([]string{"--config", r.cfgPath}, args[1:]...)...)...)
	cmd.Env = append(os.Environ(), r.env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		code = exit.ExitCode()
	}
	return code, out.String(), errOut.String()
}

func (r *router) logText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

// waitForLog waits until a log line contains every one of parts.
func (r *router) waitForLog(t *testing.T, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r.hasLog(parts...) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q in:\n%s", parts, r.logText())
}

// countLog counts the log lines containing every one of parts.
func (r *router) countLog(parts ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, line := range r.logs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// waitForMoreLogs waits until more than before lines contain all of parts;
// take before from countLog with the same parts.
func (r *router) waitForMoreLogs(t *testing.T, before int, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r.countLog(parts...) > before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new log line with %q in:\n%s", parts, r.logText())
}

func (r *router) hasLog(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range r.logs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func post(t *testing.T, url string, body []byte, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// recordingPeer stands in for a sink's service: it records every
// notification posted to it, after checking the router's signature.
type recordingPeer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newRecordingPeer(t *testing.T, secret string) *recordingPeer {
	p := &recordingPeer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get(sinkwebhook.SignatureHeader) != sinkwebhook.Sign(secret, b) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		p.bodies = append(p.bodies, string(b))
		p.mu.Unlock()
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *recordingPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.bodies...)
}

func TestServeEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	peer := newRecordingPeer(t, "sink-signing-secret")
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
`, filepath.Join(dir, "router.db"), rulesPath, peer.srv.URL, slackLog, filepath.Join(dir, "legal.jsonl"))
	r := startRouter(t, bin, cfg, "E2E_VERIFY_TOKEN="+verifyToken, "E2E_APP_SECRET="+appSecret)
	base := "http://" + r.addr

	t.Run("handshake answers the challenge", func(t *testing.T) {
		resp, err := http.Get(base + "/webhook?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444")
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
		resp, err := http.Get(base + "/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", resp.StatusCode)
		}
	})

	seed, err := os.ReadFile("../../testdata/webhooks/seed_account_restriction.json")
	if err != nil {
		t.Fatal(err)
	}
	// A payload whose WABA id appears nowhere else, so a log line naming it
	// can only come from processing this very request.
	forged := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"999000999000999","time":1,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`)

	t.Run("refused posts are not processed", func(t *testing.T) {
		for name, sig := range map[string]string{
			"missing":      "",
			"wrong secret": webhook.Sign("not-the-secret", forged),
			"malformed":    "sha256=zz",
		} {
			if code, _ := post(t, base+"/webhook", forged, sig); code != http.StatusUnauthorized {
				t.Errorf("%s signature: got %d, want 401", name, code)
			}
		}
		if code, body := post(t, base+"/webhook", []byte(`{"object":"page","entry":[]}`), webhook.Sign(appSecret, []byte(`{"object":"page","entry":[]}`))); code != http.StatusBadRequest {
			t.Errorf("wrong object: got %d %q, want 400", code, body)
		}
	})

	t.Run("a signed seed example is delivered to its sink", func(t *testing.T) {
		code, body := post(t, base+"/webhook", seed, webhook.Sign(appSecret, seed))
		if code != http.StatusOK {
			t.Fatalf("got %d %q, want 200", code, body)
		}
		r.waitForLog(t, "msg=\"notification sent\"", "sink=oncall-pagerduty")
		got := peer.received()
		if len(got) != 1 {
			t.Fatalf("sink peer got %d notifications, want 1: %q", len(got), got)
		}
		for _, want := range []string{`"rule":"account-restricted"`, `"severity":"critical"`, `"waba_id":"102290129340398"`,
			`"types":["RESTRICTED_BIZ_INITIATED_MESSAGING"]`, `can no longer send business-initiated messages until 2026-12-01 14:00 UTC`} {
			if !strings.Contains(got[0], want) {
				t.Errorf("notification %s\nwant it to contain %s", got[0], want)
			}
		}
	})

	t.Run("a redelivery makes no second notification", func(t *testing.T) {
		for range 4 {
			if code, _ := post(t, base+"/webhook", seed, webhook.Sign(appSecret, seed)); code != http.StatusOK {
				t.Fatalf("redelivery got %d, want 200", code)
			}
		}
		r.waitForLog(t, "redelivered change ignored")
		time.Sleep(300 * time.Millisecond)
		if got := peer.received(); len(got) != 1 {
			t.Fatalf("sink peer got %d notifications after 5 deliveries of one webhook, want 1", len(got))
		}
	})

	t.Run("nothing of the refused posts reached a sink", func(t *testing.T) {
		logged, _ := os.ReadFile(slackLog)
		if strings.Contains(string(logged), "999000999000999") || r.hasLog("999000999000999") {
			t.Fatalf("a refused payload was processed:\n%s\n%s", logged, r.logText())
		}
		if strings.Contains(r.logText(), appSecret) || strings.Contains(r.logText(), verifyToken) {
			t.Fatalf("a secret reached the log:\n%s", r.logText())
		}
	})

	t.Run("healthcheck follows /readyz", func(t *testing.T) {
		out, err := exec.Command(bin, "healthcheck", "--url", "http://"+r.addr+"/readyz").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ready") {
			t.Errorf("healthcheck of a running router: %v, %q; want exit 0 and ready", err, out)
		}
		// A port nobody listens on: the closed listener of a stopped router.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := ln.Addr().String()
		ln.Close()
		out, err = exec.Command(bin, "healthcheck", "--url", "http://"+dead+"/readyz").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "connection refused") {
			t.Errorf("healthcheck of nothing: %v, %q; want exit 1 naming the refused connection", err, out)
		}
	})

	t.Run("SIGTERM shuts down cleanly", func(t *testing.T) {
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-r.done:
			if err != nil {
				t.Fatalf("exit: %v\n%s", err, r.logText())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("router did not exit after SIGTERM")
		}
	})
}
