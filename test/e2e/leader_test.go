package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// takeOverWithin bounds how long a replica takes to take over a dead
// leader's duties: the lease's 5 s TTL, a 1.5 s renewal period, and
// slack for a loaded machine.
const takeOverWithin = 10 * time.Second

// leaderOf scrapes p and says whether it reports itself the leader, and
// whether it serves the outbox gauges, which only the leader does.
func leaderOf(t *testing.T, p *e2etest.Process) (leader, gauges bool, ok bool) {
	t.Helper()
	m, err := e2etest.Scrape(context.Background(), http.DefaultClient, p.URL(""))
	if err != nil {
		return false, false, false
	}
	return m.Get("wabarouter_leader") == 1, m.Has("wabarouter_outbox_pending", "sink", "hook"), true
}

// awaitLeader waits until p reports itself the leader, failing t after
// within; it returns how long that took.
func awaitLeader(t *testing.T, p *e2etest.Process, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if leader, _, ok := leaderOf(t, p); ok && leader {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("pid %d did not become the leader within %s\n%s", p.PID(), within, p.Tail(20))
		}
		<-tick.C
	}
}

// TestPostgresLeaderTakesOver: of two replicas on one database one is the
// leader (wabarouter_leader 1, and it alone serves the outbox gauges);
// when it is killed the other takes over within seconds, and when that
// one stops cleanly it hands the lease to a new replica at once.
func TestPostgresLeaderTakesOver(t *testing.T) {
	t.Parallel()
	dbURL, conn := postgresSchema(t)
	peer := e2etest.ServeWebhookReceiver(t, "sink-secret", e2etest.WebhookReceiverOptions{})
	env := []string{"E2E_DATABASE_URL=" + dbURL}
	start := func() *e2etest.Process {
		return e2etest.Setup(t, e2etest.Options{Config: postgresConfig(peer), Env: env}).Start(t)
	}
	first := start()
	awaitLeader(t, first, takeOverWithin)
	second := start()
	// The second has campaigned at its start and at least once more.
	waitFor(t, "the second replica to report itself a follower, twice in a row", func() bool {
		for range 2 {
			leader, gauges, ok := leaderOf(t, second)
			if !ok || leader || gauges {
				return false
			}
		}
		return true
	})
	if leader, gauges, _ := leaderOf(t, first); !leader || !gauges {
		t.Fatalf("first replica: leader %v, outbox gauges %v; want both", leader, gauges)
	}

	if err := first.Kill(); err != nil {
		t.Fatal(err)
	}
	took := awaitLeader(t, second, takeOverWithin)
	t.Logf("the second replica took over %s after the leader was killed", took)
	if _, gauges, _ := leaderOf(t, second); !gauges {
		t.Errorf("the new leader serves no outbox gauges")
	}

	var stoppedOwner string
	if err := conn.QueryRow(context.Background(), `SELECT owner FROM leases WHERE name = 'maintenance'`).Scan(&stoppedOwner); err != nil {
		t.Fatalf("reading the leader lease: %v", err)
	}
	third := start()
	if err := second.Stop(15 * time.Second); err != nil {
		t.Errorf("stop: %v\n%s", err, second.Tail(20))
	}
	// A clean stop gives the lease up: it has run out already, or the
	// third has taken it, rather than the stopped leader holding it for
	// up to another TTL.
	var owner string
	var expires int64
	if err := conn.QueryRow(context.Background(), `SELECT owner, expires FROM leases WHERE name = 'maintenance'`).Scan(&owner, &expires); err != nil {
		t.Fatalf("reading the leader lease: %v", err)
	}
	if now := time.Now().UnixNano(); owner == stoppedOwner && expires > now {
		t.Errorf("after a clean stop the lease is still %s's for %s", owner, time.Duration(expires-now))
	}
	took = awaitLeader(t, third, takeOverWithin)
	t.Logf("the third replica took over %s after the leader stopped", took)
	if err := third.Stop(15 * time.Second); err != nil {
		t.Errorf("stop: %v\n%s", err, third.Tail(20))
	}
}
