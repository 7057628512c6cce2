package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// The acceptance test of several replicas, in the manner of Alertmanager's
// TestClusterDeduplication and TestClusterVSInstance: three serve
// processes on one Postgres schema take the same load one process takes,
// while one of them is SIGKILLed and restarted and another loses its
// database connections, and between them they send what the one sends.
const (
	replicaAccounts = 200
	// replicaSendsInFlight is the webhook sink's concurrency: at most this
	// many sends are in flight when a replica is killed, so at most this
	// many can repeat.
	replicaSendsInFlight = 4
	replicaSinkSecret    = "replicas-sink-secret"
)

// replicaBody is the i-th webhook of the test: two violations per
// account, so each account's incident opens and then updates.
func replicaBody(i int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%d","time":%d,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`,
		3000000+i%replicaAccounts, 1764597600+i)
}

// replicasConfig is a replica's config; listen is its own address, the
// same across its restarts, as a deployed replica's is: that is how a
// restarted replica knows the leases it left are its own and takes them
// back at once rather than after they run out.
func replicasConfig(listen string, peer *e2etest.WebhookReceiver, chat *e2etest.SlackFake) string {
	return fmt.Sprintf(`server:
  listen: %s
  verify_token: %s
  app_secrets: ["%s"]
store:
  driver: postgres
  url: ${E2E_DATABASE_URL}
  pool_size: 4
rules:
  - name: every-account-update
    when: field == "account_update"
    to: [peer, chat]
sinks:
  - name: peer
    type: webhook
    url: %s
    secret: %s
    concurrency: %d
  - name: chat
    type: slack
    token: %s
    channel: C0REPLICAS
    api_url: %s
    rate: none
`, listen, verifyToken, appSecret, peer.URL(), replicaSinkSecret, replicaSendsInFlight, slackToken, chat.APIURL())
}

// replicaLoops is how many times TestReplicasSendWhatOneSends runs its
// scenario: WABAROUTER_TEST_REPLICAS_LOOPS, 1 when unset.
func replicaLoops(t *testing.T) int {
	s := os.Getenv("WABAROUTER_TEST_REPLICAS_LOOPS")
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("WABAROUTER_TEST_REPLICAS_LOOPS=%q: want a positive count", s)
	}
	return n
}

func TestReplicasSendWhatOneSends(t *testing.T) {
	t.Parallel()
	if os.Getenv("WABAROUTER_TEST_POSTGRES") == "" {
		t.Skip("WABAROUTER_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	bodies := make([][]byte, 2*replicaAccounts)
	for i := range bodies {
		bodies[i] = replicaBody(i)
	}
	// The reference: one replica, each body posted twice (a redelivery).
	one := runReplicas(t, bodies, 1, false)
	for loop := range replicaLoops(t) {
		t.Run(fmt.Sprintf("loop%d", loop+1), func(t *testing.T) {
			three := runReplicas(t, bodies, 3, true)
			if missing, extra := diffKeys(one, three); len(missing) > 0 || len(extra) > 0 {
				t.Errorf("three replicas sent %d notifications one did not, and not %d it did; e.g. extra %q, missing %q",
					len(extra), len(missing), extra[:min(len(extra), 3)], missing[:min(len(missing), 3)])
			}
		})
	}
}

// sentKey names a notification by what it says rather than by its id,
// which differs from run to run: the rule, sink, account, transition and
// its place in the incident.
func sentKey(d e2etest.WebhookDelivery) string {
	n := d.Notification
	k := strings.Join([]string{n.Sink, n.Rule, n.Event.WabaID, n.Action, n.DedupKey}, "|")
	if n.Incident != nil {
		k += fmt.Sprintf("|%s|%d|%d", n.Incident.Key, n.Incident.Episode, n.Incident.Seq)
	}
	return k
}

func diffKeys(want, got map[string]int) (missing, extra []string) {
	for k := range want {
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if want[k] == 0 {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

// runReplicas posts every body to n replicas on a fresh schema (body i
// to replica i mod n, and its redelivery to the next one), and, when
// disrupt, SIGKILLs and restarts the first replica and terminates the
// last one's database connections during the load, and restarts
// Postgres too when WABAROUTER_TEST_PG_RESTART=1. It checks the delivery
// guarantees and returns how many distinct notifications each key had.
func runReplicas(t *testing.T, bodies [][]byte, n int, disrupt bool) map[string]int {
	t.Helper()
	dbURL, db := replicaSchema(t)
	peer := e2etest.ServeWebhookReceiver(t, replicaSinkSecret, e2etest.WebhookReceiverOptions{})
	chat := e2etest.ServeSlack(t, slackToken, nil)
	routers := make([]*e2etest.Router, n)
	procs := make([]atomic.Pointer[e2etest.Process], n)
	// started is every process the test ran, the killed one too, for
	// their logs; the disruption appends the restarted one.
	var startedMu sync.Mutex
	var started []*e2etest.Process
	onStart := func(p *e2etest.Process) {
		startedMu.Lock()
		defer startedMu.Unlock()
		started = append(started, p)
	}
	for i := range routers {
		env := []string{"E2E_DATABASE_URL=" + dbURL + "&application_name=" + replicaName(i)}
		routers[i] = e2etest.Setup(t, e2etest.Options{Config: replicasConfig(freeAddr(t), peer, chat), Env: env})
		procs[i].Store(routers[i].Start(t))
		onStart(procs[i].Load())
	}

	var accepted atomic.Int64
	client := &http.Client{Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()
	// post is Meta's delivery of one body: it tries replica from, then
	// the others in turn, until one answers 200 (Meta retries anything
	// else), and reports whether one did within a minute.
	post := func(body []byte, from int) bool {
		deadline := time.Now().Add(time.Minute)
		for try := 0; time.Now().Before(deadline); try++ {
			p := procs[(from+try)%n].Load()
			req, err := e2etest.NewWebhookRequest(context.Background(), p.URL("/webhook"), []byte(appSecret), body)
			if err != nil {
				t.Errorf("making a request: %v", err)
				return false
			}
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
			if try >= n {
				// Every replica refused in turn (Postgres restarting):
				// back off a little, as Meta does.
				<-time.After(50 * time.Millisecond)
			}
		}
		return false
	}

	disrupted := make(chan error, 1)
	if disrupt {
		go func() { disrupted <- disruptReplicas(db, routers, procs, onStart, &accepted, int64(len(bodies))) }()
	} else {
		disrupted <- nil
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var lost atomic.Int64
	for range 6 {
		wg.Go(func() {
			for i := range work {
				// The first delivery and Meta's redelivery of the same
				// body to another replica.
				for k := range 2 {
					if post(bodies[i], i+k) {
						if k == 0 {
							accepted.Add(1)
						}
					} else {
						lost.Add(1)
					}
				}
			}
		})
	}
	start := time.Now()
	for i := range bodies {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := <-disrupted; err != nil {
		t.Fatalf("disrupting the replicas: %v", err)
	}
	if lost.Load() > 0 {
		t.Fatalf("%d posts were never answered 200 by any replica", lost.Load())
	}
	peer.AwaitFunc(t, "a delivery for every accepted webhook", func(ds []e2etest.WebhookDelivery) bool {
		return len(tallyOf(ds).perID) >= len(bodies)
	})
	// Every webhook routed and every row finished: nothing more is on its
	// way, so the duplicates counted below are all there are. A row a
	// replica leased and never finished comes back when the lease runs
	// out (the send timeout and half a minute), hence the long wait.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var left int
		err := db.QueryRow(context.Background(), `SELECT
			(SELECT COUNT(*) FROM webhooks WHERE processed_at IS NULL) + (SELECT COUNT(*) FROM outbox WHERE state <> 'sent')`).Scan(&left)
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after two minutes %d webhooks and outbox rows are unfinished (%v)", left, err)
		}
		<-time.After(20 * time.Millisecond)
	}

	got := tallyOf(peer.Received())
	dups := 0
	for _, c := range got.perID {
		dups += c - 1
	}
	t.Logf("%d replicas: %d bodies accepted (each posted twice), %d distinct notifications, %d duplicate deliveries, %v",
		n, accepted.Load(), len(got.perID), dups, time.Since(start).Round(time.Millisecond))
	if n, reasons := peer.Refusals(); n > 0 {
		t.Errorf("peer refused %d deliveries: %q", n, reasons[:min(len(reasons), 3)])
	}
	// Nothing accepted is lost, and no redelivery pages again: one
	// notification per body, whichever replica took which copy.
	if len(got.perID) != len(bodies) {
		t.Errorf("peer saw %d distinct notifications, want %d (one per body; its redelivery makes none)", len(got.perID), len(bodies))
	}
	if len(got.transition) != replicaAccounts {
		t.Errorf("%d incidents delivered, want one per account (%d)", len(got.transition), replicaAccounts)
	}
	limit := 0
	if disrupt {
		limit = replicaSendsInFlight
	}
	if dups > limit {
		t.Errorf("%d duplicate deliveries; want at most %d, the killed replica's sends in flight", dups, limit)
	}
	roots := map[string]int{}
	for _, m := range chat.Received() {
		if m.ThreadTS == "" {
			roots[fmt.Sprint(m.Metadata.EventPayload["incident_id"])]++
		}
	}
	var twice []string
	for id, c := range roots {
		if c > 1 {
			twice = append(twice, id)
		}
	}
	if len(roots) != replicaAccounts || len(twice) > 0 {
		t.Errorf("Slack has roots for %d incidents (want %d), %d of them posted more than once: %q", len(roots), replicaAccounts, len(twice), twice)
		// What each replica did about those incidents' accounts on the
		// Slack sink, to tell a lost lease from a lost thread.
		for _, id := range twice {
			wabas := map[string]bool{}
			for _, p := range started {
				for _, line := range p.Lines() {
					if strings.Contains(line, id) {
						if _, rest, ok := strings.Cut(line, "waba_id="); ok {
							wabas[strings.Fields(rest)[0]] = true
						}
					}
				}
			}
			for _, p := range started {
				for _, line := range p.Lines() {
					for w := range wabas {
						if strings.Contains(line, "waba_id="+w+" ") && (strings.Contains(line, "sink=chat") || strings.Contains(line, id)) {
							t.Logf("%s pid %d: %s", id, p.PID(), line)
						}
					}
				}
			}
			for _, m := range chat.Received() {
				if fmt.Sprint(m.Metadata.EventPayload["incident_id"]) == id {
					t.Logf("%s Slack: ts %s thread %q", id, m.TS, m.ThreadTS)
				}
			}
		}
	}
	keys := map[string]int{}
	seen := map[string]bool{}
	for _, d := range peer.Received() {
		if !seen[d.Notification.ID] {
			seen[d.Notification.ID] = true
			keys[sentKey(d)]++
		}
	}
	for i := range procs {
		p := procs[i].Load()
		if err := p.Stop(15 * time.Second); err != nil {
			t.Errorf("stopping %s: %v\n%s", replicaName(i), err, p.Tail(20))
		}
	}
	return keys
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// replicaSchema is postgresSchema on a pool rather than one connection,
// since a Postgres restart (WABAROUTER_TEST_PG_RESTART) breaks every
// connection open at the time and the test still has to look into the
// schema and drop it afterwards.
func replicaSchema(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	base := os.Getenv("WABAROUTER_TEST_POSTGRES")
	if base == "" {
		t.Skip("WABAROUTER_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	schema := "wabarouter_replicas_" + strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36))
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		admin.Close()
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return u.String(), db
}

func replicaName(i int) string { return "replica-" + strconv.Itoa(i+1) }

// disruptReplicas, once a third of the bodies are accepted, SIGKILLs the
// first replica and starts it again; at half, terminates the last
// replica's database connections (found by their application_name); and
// at two thirds restarts Postgres if WABAROUTER_TEST_PG_RESTART=1 (other
// tests share the server, so only where nothing else runs on it).
func disruptReplicas(db *pgxpool.Pool, routers []*e2etest.Router, procs []atomic.Pointer[e2etest.Process], onStart func(*e2etest.Process), accepted *atomic.Int64, total int64) error {
	ctx := context.Background()
	await := func(n int64) error {
		deadline := time.Now().Add(2 * time.Minute)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for accepted.Load() < n {
			if time.Now().After(deadline) {
				return fmt.Errorf("only %d of %d bodies accepted after two minutes", accepted.Load(), n)
			}
			<-tick.C
		}
		return nil
	}
	if err := await(total / 3); err != nil {
		return err
	}
	if err := procs[0].Load().Kill(); err != nil {
		return err
	}
	p, err := routers[0].Launch(ctx)
	if err != nil {
		return fmt.Errorf("restarting %s: %w", replicaName(0), err)
	}
	procs[0].Store(p)
	onStart(p)
	if err := await(total / 2); err != nil {
		return err
	}
	last := replicaName(len(routers) - 1)
	var terminated int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t`, last).Scan(&terminated); err != nil {
		return fmt.Errorf("terminating %s's connections: %w", last, err)
	}
	if terminated == 0 {
		return fmt.Errorf("%s has no connections named after it in pg_stat_activity", last)
	}
	if os.Getenv("WABAROUTER_TEST_PG_RESTART") != "1" {
		return nil
	}
	if err := await(2 * total / 3); err != nil {
		return err
	}
	ls, err := os.ReadDir("/etc/postgresql")
	if err != nil {
		return fmt.Errorf("finding the Postgres cluster's version: %w", err)
	}
	if len(ls) != 1 {
		return fmt.Errorf("/etc/postgresql holds %d versions, want one", len(ls))
	}
	out, err := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", ls[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		return fmt.Errorf("restarting Postgres: %w\n%s", err, out)
	}
	return nil
}
