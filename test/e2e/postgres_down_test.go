package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// pgProxy forwards TCP connections to a Postgres server, and can cut the
// router off from it: Down ends every forwarded connection and turns new
// ones away (accepted and closed at once, as a server that is gone would
// reset them), Up forwards again. It stands in for Postgres going down
// and coming back without restarting the server the other tests share.
type pgProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startPGProxy listens on a port of its own and forwards to target until
// the test ends.
func startPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &pgProxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *pgProxy) Addr() string { return p.ln.Addr().String() }

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward copies both ways between c and a new connection to the
// server until either side ends or the proxy cuts them.
func (p *pgProxy) forward(c net.Conn) {
	defer p.drop(c)
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = s.Close()
		return
	}
	p.conns[s] = struct{}{}
	p.mu.Unlock()
	defer p.drop(s)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
	<-done
}

func (p *pgProxy) drop(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// cut closes every forwarded connection, both ends.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Down cuts the router off: its connections end and new ones are refused.
func (p *pgProxy) Down() {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	p.cut()
}

// Up forwards new connections again.
func (p *pgProxy) Up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// throughProxy is dbURL with its host and port the proxy's.
func throughProxy(t *testing.T, dbURL string, p *pgProxy) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return u.String()
}

// readyz GETs /readyz and returns its status and body.
func readyz(t *testing.T, p *e2etest.Process) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL("/readyz"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPostgresDown: while the router cannot reach Postgres it answers
// Meta 503 (so Meta retries) and /readyz says the store is down; once
// Postgres is back it takes the retries, and every webhook it answered
// 200, before the outage or after it, is delivered, once, but for sends
// whose outcome the outage kept from being recorded.
func TestPostgresDown(t *testing.T) {
	t.Parallel()
	dbURL, conn := postgresSchema(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startPGProxy(t, u.Host)
	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	r := e2etest.Setup(t, e2etest.Options{Config: postgresConfig(peer), Env: []string{"E2E_DATABASE_URL=" + throughProxy(t, dbURL, proxy)}})
	p := r.Start(t)

	const before, during, after = 10, 10, 10
	accepted := map[string]bool{}
	post := func(waba int) int {
		code, _ := p.PostSigned(t, appSecret, violation(waba))
		if code == http.StatusOK {
			accepted[strconv.Itoa(waba)] = true
		}
		return code
	}
	// Accepted just before Postgres goes: some are still to be routed
	// or sent when it does.
	for a := range before {
		if code := post(9000 + a); code != http.StatusOK {
			t.Fatalf("POST before the outage: %d, want 200", code)
		}
	}
	proxy.Down()
	deliveredBefore := peer.Len()

	for a := range during {
		if code := post(9100 + a); code != http.StatusServiceUnavailable {
			t.Errorf("POST of account %d while Postgres is down: %d, want 503", 9100+a, code)
		}
	}
	if code, body := readyz(t, p); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Errorf("/readyz while Postgres is down: %d %q, want 503 naming the store", code, body)
	}

	proxy.Up()
	waitFor(t, "/readyz 200 once Postgres is back", func() bool {
		code, _ := readyz(t, p)
		return code == http.StatusOK
	})
	// Meta retries what was refused; more comes in.
	for a := range during {
		if code := post(9100 + a); code != http.StatusOK {
			t.Errorf("retry of account %d after the outage: %d, want 200", 9100+a, code)
		}
	}
	for a := range after {
		if code := post(9200 + a); code != http.StatusOK {
			t.Errorf("POST after the outage: %d, want 200", code)
		}
	}
	if len(accepted) != before+during+after {
		t.Fatalf("%d webhooks accepted, want %d", len(accepted), before+during+after)
	}

	// A send in flight when Postgres went could not record its outcome:
	// its row comes back when its lease (60 s) runs out, and is sent again.
	waitForUpTo(t, 90*time.Second, "every accepted webhook routed and every notification sent", func() bool {
		var left int
		err := conn.QueryRow(context.Background(), `SELECT
			(SELECT COUNT(*) FROM webhooks WHERE processed_at IS NULL) + (SELECT COUNT(*) FROM outbox WHERE state <> 'sent')`).Scan(&left)
		return err == nil && left == 0
	})
	perAccount := map[string]int{}
	perNotification := map[string]int{}
	for _, d := range peer.Received() {
		perAccount[d.Notification.Event.WabaID]++
		perNotification[d.Notification.ID]++
	}
	for id := range accepted {
		if perAccount[id] == 0 {
			t.Errorf("account %s was answered 200 but never notified", id)
		}
	}
	for id := range perAccount {
		if !accepted[id] {
			t.Errorf("account %s notified though its webhook was never answered 200", id)
		}
	}
	// A send whose ack the outage lost goes out again once Postgres is
	// back; nothing else may.
	dups := 0
	for _, n := range perNotification {
		dups += n - 1
	}
	lost := p.CountLog("recording delivery outcome failed")
	if dups > lost {
		t.Errorf("%d notifications delivered twice, but only %d outcomes went unrecorded", dups, lost)
	}
	t.Logf("%d of %d delivered when Postgres went down; %d outcomes unrecorded, %d sent twice", deliveredBefore, before, lost, dups)
	var rows int
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM outbox`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(accepted) {
		t.Errorf("%d outbox rows, want one per accepted webhook (%d)", rows, len(accepted))
	}
	m := p.Metrics(t)
	// The lease it could not renew while cut off is its own again.
	if got := m.Get("wabarouter_leader"); got != 1 {
		t.Errorf("wabarouter_leader after the outage = %v, want 1", got)
	}
	if got := m.Get("wabarouter_webhooks_rejected_total", "reason", "store_unavailable"); got < during {
		t.Errorf("store_unavailable rejections = %v, want at least %d", got, during)
	}
	if err := p.Stop(15 * time.Second); err != nil {
		t.Errorf("stop: %v\n%s", err, p.Tail(20))
	}
}
