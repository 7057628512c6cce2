package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// postgresSchema makes a schema of the test's own in the database
// WABAROUTER_TEST_POSTGRES names (the test is skipped without it), drops
// it when the test ends, and returns a URL whose connections use it, and
// a connection to look into it.
func postgresSchema(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	base := os.Getenv("WABAROUTER_TEST_POSTGRES")
	if base == "" {
		t.Skip("WABAROUTER_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "wabarouter_e2e_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if _, err := conn.Exec(ctx, `SET search_path = `+schema); err != nil {
		t.Fatal(err)
	}
	return u.String(), conn
}

// postgresConfig routes every policy violation to one webhook sink, on
// the Postgres store at ${E2E_DATABASE_URL}.
func postgresConfig(peer *e2etest.WebhookReceiver) string {
	return fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%s]
store:
  driver: postgres
  url: ${E2E_DATABASE_URL}
  pool_size: 4
rules:
  - name: violation
    when: field == "account_update" and event == "ACCOUNT_VIOLATION"
    to: [hook]
sinks:
  - name: hook
    type: webhook
    url: %s
    secret: sink-secret
`, verifyToken, appSecret, peer.URL())
}

// violation is a policy violation of its own account.
func violation(waba int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%d","time":1767323045,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`, waba)
}

// TestPostgresServe: the real binary on a Postgres store takes a signed
// webhook, delivers its notification, and incidents (a command reading
// the same database beside it) lists the incident.
func TestPostgresServe(t *testing.T) {
	t.Parallel()
	dbURL, _ := postgresSchema(t)
	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	r := e2etest.Setup(t, e2etest.Options{Config: postgresConfig(peer), Env: []string{"E2E_DATABASE_URL=" + dbURL}})
	p := r.Start(t)
	peer.Want(1, "the violation of account 7001", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "violation" && d.Notification.Event.WabaID == "7001"
	})
	if code, body := p.PostSigned(t, appSecret, violation(7001)); code != http.StatusOK {
		t.Fatalf("POST: %d %q, want 200", code, body)
	}
	peer.Await(t)
	res := r.Run(t, "incidents", "--format", "json")
	if res.Code != 0 || !strings.Contains(res.Stdout, `"waba_id":"7001"`) || !strings.Contains(res.Stdout, `"rule":"violation"`) {
		t.Errorf("incidents: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if err := p.Stop(15 * time.Second); err != nil {
		t.Errorf("stop: %v\n%s", err, p.Tail(20))
	}
}

// TestPostgresTwoReplicas: two serve processes on one database, each
// posted half the webhooks and a Meta-style redelivery of the other
// half's bodies, deliver every notification exactly once between them.
func TestPostgresTwoReplicas(t *testing.T) {
	t.Parallel()
	dbURL, conn := postgresSchema(t)
	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	env := []string{"E2E_DATABASE_URL=" + dbURL}
	replicas := []*e2etest.Process{
		e2etest.Setup(t, e2etest.Options{Config: postgresConfig(peer), Env: env}).Start(t),
		e2etest.Setup(t, e2etest.Options{Config: postgresConfig(peer), Env: env}).Start(t),
	}
	const accounts = 40
	peer.Want(accounts, "one notification per account", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "violation"
	})
	var wg sync.WaitGroup
	for i, p := range replicas {
		other := replicas[1-i]
		wg.Go(func() {
			for a := i; a < accounts; a += 2 {
				body := violation(8000 + a)
				for _, to := range []*e2etest.Process{p, other} {
					if code, resp := to.PostSigned(t, appSecret, body); code != http.StatusOK {
						t.Errorf("POST of account %d: %d %q", 8000+a, code, resp)
					}
				}
			}
		})
	}
	wg.Wait()
	peer.Await(t)
	// Every webhook routed and every row finished: nothing more is on
	// its way, so the count below is final.
	waitFor(t, "every webhook routed and every notification sent", func() bool {
		var left int
		err := conn.QueryRow(context.Background(), `SELECT
			(SELECT COUNT(*) FROM webhooks WHERE processed_at IS NULL) + (SELECT COUNT(*) FROM outbox WHERE state <> 'sent')`).Scan(&left)
		return err == nil && left == 0
	})
	seen := map[string]int{}
	accountsSeen := map[string]int{}
	for _, d := range peer.Received() {
		seen[d.Notification.ID]++
		accountsSeen[d.Notification.Event.WabaID]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("notification %s delivered %d times", id, n)
		}
	}
	if len(accountsSeen) != accounts {
		t.Errorf("notifications about %d accounts, want %d", len(accountsSeen), accounts)
	}
	var rows, webhooks int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM webhooks)`).Scan(&rows, &webhooks); err != nil {
		t.Fatal(err)
	}
	if rows != accounts || webhooks != 2*accounts {
		t.Errorf("%d outbox rows from %d webhooks, want %d from %d", rows, webhooks, accounts, 2*accounts)
	}
	peer.Check(t)
	for i, p := range replicas {
		if err := p.Stop(15 * time.Second); err != nil {
			t.Errorf("stop: %v\n%s", err, p.Tail(20))
		}
		// Crossing the other replica (a lock it holds, a redelivery it
		// routed first) is no error of either.
		if n := p.CountLog("level=ERROR") + p.CountLog("level=WARN"); n > 0 {
			t.Errorf("replica %d logged %d errors and warnings:\n%s", i+1, n, p.LogText())
		}
	}
}

// waitFor polls cond until it holds, failing t after half a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForUpTo(t, 30*time.Second, what, cond)
}

// waitForUpTo is waitFor with its own deadline.
func waitForUpTo(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestPostgresReplicasWithDifferentRules: two replicas on one database,
// the second deployed with an edited rule. Each says in its log and its
// metrics that the other's rules differ; once the odd one is gone, the
// other says its rules are the same as everyone's again.
func TestPostgresReplicasWithDifferentRules(t *testing.T) {
	t.Parallel()
	dbURL, _ := postgresSchema(t)
	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	env := []string{"E2E_DATABASE_URL=" + dbURL}
	same := postgresConfig(peer)
	edited := strings.Replace(same, `event == "ACCOUNT_VIOLATION"`, `event in ["ACCOUNT_VIOLATION", "DISABLED_UPDATE"]`, 1)
	if edited == same {
		t.Fatal("the edit changed nothing")
	}
	a := e2etest.Setup(t, e2etest.Options{Config: same, Env: env}).Start(t)
	b := e2etest.Setup(t, e2etest.Options{Config: edited, Env: env}).Start(t)
	const differ = "this replica's rules differ from other replicas'"
	for _, p := range []*e2etest.Process{a, b} {
		p.WaitForLog(t, differ)
		waitFor(t, "wabarouter_replicas_rules_differ 1", func() bool {
			return p.Metrics(t)["wabarouter_replicas_rules_differ"] == 1
		})
	}
	// Each names the other's checksum.
	for _, pair := range [][2]*e2etest.Process{{a, b}, {b, a}} {
		other := pair[1].Metrics(t)
		var theirs string
		for k := range other {
			if rest, ok := strings.CutPrefix(k, "wabarouter_rules_loaded_info{checksum="); ok {
				theirs, _, _ = strings.Cut(rest, ",")
			}
		}
		if theirs == "" || !pair[0].HasLog(differ, " runs "+theirs) {
			t.Errorf("replica %s's log does not name %s's rules (%q):\n%s", pair[0].Addr(), pair[1].Addr(), theirs, pair[0].Tail(10))
		}
	}
	if err := b.Stop(15 * time.Second); err != nil {
		t.Fatalf("stopping the odd replica: %v", err)
	}
	waitForUpTo(t, time.Minute, "the remaining replica to see every rule the same", func() bool {
		return a.HasLog("this replica's rules are the same as every other replica's again")
	})
	if m := a.Metrics(t); m["wabarouter_replicas_rules_differ"] != 0 {
		t.Errorf("wabarouter_replicas_rules_differ = %v after the odd replica left, want 0", m["wabarouter_replicas_rules_differ"])
	}
}
