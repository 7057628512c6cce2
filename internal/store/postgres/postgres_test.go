package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/storetest"
)

const time1h = time.Hour

func t0() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// testURL is the database the tests use, from WABAROUTER_TEST_POSTGRES;
// without it they are skipped.
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("WABAROUTER_TEST_POSTGRES")
	if url == "" {
		t.Skip("WABAROUTER_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return url
}

// freshSchema names a schema of the test's own, dropped when it ends.
func freshSchema(t *testing.T, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "wabarouter_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

func openTest(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
		opts := Options{Schema: freshSchema(t, url), PoolSize: 4}
		another := func(t *testing.T) store.Store { return openTest(t, url, opts) }
		return openTest(t, url, opts), another
	})
}

// TestAnyText: text Postgres cannot hold as it is (a NUL, which a
// webhook's JSON can carry as \u0000) is stored and read back unchanged,
// and two keys that differ only there stay two.
func TestAnyText(t *testing.T) {
	url := testURL(t)
	s := openTest(t, url, Options{Schema: freshSchema(t, url)})
	defer s.Close()
	ctx := t.Context()
	keys := []string{"w1/template/a\x00b", "w1/template/a\x1b0b", "w1/template/a\x1b\x00", "w1/template/ab"}
	id, err := s.AppendWebhook(ctx, []byte(`{}`), t0())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Process(ctx, id, func(tx store.Tx) error {
		for i, k := range keys {
			inc := store.Incident{ID: "i" + string(rune('0'+i)), Rule: "r", Key: k, Episode: 1, State: "open",
				Title: "template " + k, OpenedAt: t0(), UpdatedAt: t0(), Sinks: []string{"s\x00"}}
			if err := tx.SaveIncident(ctx, inc); err != nil {
				return err
			}
			if fresh, err := tx.MarkChange(ctx, k, t0(), time1h); err != nil || !fresh {
				t.Errorf("MarkChange(%q) = %v, %v; want fresh", k, fresh, err)
			}
		}
		for i, k := range keys {
			got, found, err := tx.Incident(ctx, "r", k)
			if err != nil || !found || got.ID != "i"+string(rune('0'+i)) || got.Key != k || got.Title != "template "+k || got.Sinks[0] != "s\x00" {
				t.Errorf("Incident(r, %q) = %+v, %v, %v", k, got, found, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadOnly: a read-only handle reads what a writer wrote and refuses
// to write; on a database no serve migrated it fails with ErrSchema.
func TestReadOnly(t *testing.T) {
	url := testURL(t)
	ctx := t.Context()
	empty := Options{Schema: freshSchema(t, url), ReadOnly: true}
	w := openTest(t, url, Options{Schema: empty.Schema})
	w.Close()
	if _, err := Open(ctx, url, Options{Schema: freshSchema(t, url), ReadOnly: true}); !errors.Is(err, ErrSchema) {
		t.Fatalf("read-only Open of an empty schema = %v, want ErrSchema", err)
	}
	w = openTest(t, url, Options{Schema: empty.Schema})
	defer w.Close()
	id, err := w.AppendWebhook(ctx, []byte(`{"a":1}`), t0())
	if err != nil {
		t.Fatal(err)
	}
	r := openTest(t, url, empty)
	defer r.Close()
	if got, found, err := r.Webhook(ctx, id); err != nil || !found || string(got.Body) != `{"a":1}` {
		t.Errorf("Webhook through the read-only handle = %+v, %v, %v", got, found, err)
	}
	if _, err := r.AppendWebhook(ctx, []byte(`{}`), t0()); err == nil {
		t.Error("AppendWebhook through the read-only handle succeeded")
	}
	if err := r.Ping(ctx); err != nil {
		t.Errorf("Ping of the read-only handle: %v", err)
	}
}

// TestWakeUps: a replica listening is told of a dead row another replayed,
// once its transaction commits, and of nothing appended or queued (those
// wake their own replica; a NOTIFY there made every replica's commits
// wait on one lock); with PollOnly nothing listens.
func TestWakeUps(t *testing.T) {
	url := testURL(t)
	ctx := t.Context()
	opts := Options{Schema: freshSchema(t, url)}
	a, b := openTest(t, url, opts), openTest(t, url, opts)
	defer a.Close()
	defer b.Close()
	wakes := make(chan Wake, 100)
	listenCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Listen(listenCtx, func(w Wake) { wakes <- w }, func(err error) { t.Errorf("listener lost: %v", err) })
	}()
	defer func() { stop(); <-done }()
	next := func(what string, want func(Wake) bool) {
		t.Helper()
		select {
		case w := <-wakes:
			if !want(w) {
				t.Fatalf("%s: woken with %+v", what, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no wake-up", what)
		}
	}
	// The first two say "look at everything", from connecting.
	next("connected: webhooks", func(w Wake) bool { return w.Webhook })
	next("connected: sinks", func(w Wake) bool { return !w.Webhook && w.Sink == "" })

	row := queueAndLease(t, a, "n1")
	if err := a.DeadLetter(ctx, row.ID, row.Lease, store.Outcome{At: t0(), Err: "400"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Replay(ctx, row.ID, t0()); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: had the append or the queued
	// row been told, its wake-up would come before the replay's.
	next("a row replayed", func(w Wake) bool { return !w.Webhook && w.Sink == "slack" })

	quiet := openTest(t, url, Options{Schema: opts.Schema, PollOnly: true})
	defer quiet.Close()
	returned := make(chan struct{})
	go func() {
		quiet.Listen(ctx, func(Wake) { t.Error("a PollOnly store woke someone") }, nil)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Listen of a PollOnly store did not return")
	}
}

// TestReplicasStartTogether: replicas starting at once on an empty schema
// migrate it once, under the advisory lock, and all open.
func TestReplicasStartTogether(t *testing.T) {
	url := testURL(t)
	opts := Options{Schema: freshSchema(t, url), PoolSize: 2}
	const replicas = 4
	errs := make([]error, replicas)
	stores := make([]*Store, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url, opts) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var version, rows int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT version, (SELECT COUNT(*) FROM schema_version) FROM schema_version`).Scan(&version, &rows); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) || rows != 1 {
		t.Errorf("schema_version = %d in %d rows, want %d in one", version, rows, len(migrations))
	}
}

// TestOutcomeRoundFallsBack: a round one of whose outcomes fails commits
// none of them as a batch, and then records each on its own: the good
// outcome lands, and only the bad one reports an error.
func TestOutcomeRoundFallsBack(t *testing.T) {
	url := testURL(t)
	ctx := t.Context()
	s := openTest(t, url, Options{Schema: freshSchema(t, url)})
	defer s.Close()
	row := queueAndLease(t, s, "n1")
	q, args := outcomeStatement(row.ID, row.Lease, resultSent, store.Outcome{At: t0(), Receipt: "r1"}, setSent, "r1", toDB(t0()))
	good := outcomeReq{ctx: ctx, sql: q, args: args, id: row.ID, resp: make(chan error, 1)}
	bad := outcomeReq{ctx: ctx, sql: `SELECT count(*) FROM no_such_table`, id: row.ID, resp: make(chan error, 1)}
	s.outcomeRound([]outcomeReq{bad, good})
	if err := <-bad.resp; err == nil {
		t.Error("the bad outcome reported no error")
	}
	if err := <-good.resp; err != nil {
		t.Errorf("the good outcome = %v", err)
	}
	hist, err := s.Attempts(ctx, []string{"n1"})
	if err != nil || len(hist) != 1 || hist[0].Result != resultSent || hist[0].Outcome.Receipt != "r1" {
		t.Errorf("attempts = %+v, %v; want the one ack", hist, err)
	}
}

// queueAndLease routes a webhook that queues notification nid for sink
// slack, and leases that row as owner a.
func queueAndLease(t *testing.T, s *Store, nid string) store.Outbound {
	t.Helper()
	ctx := t.Context()
	id, err := s.AppendWebhook(ctx, []byte(`{}`), t0())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Process(ctx, id, func(tx store.Tx) error {
		return tx.Enqueue(ctx, store.Outbound{Sink: "slack", NotificationID: nid, NextAttempt: t0(), CreatedAt: t0(), AcceptedAt: t0()})
	}); err != nil {
		t.Fatal(err)
	}
	held, err := s.Lease(ctx, "slack", "a", t0(), 1, time.Minute)
	if err != nil || len(held) != 1 {
		t.Fatalf("Lease = %v, %v", held, err)
	}
	return held[0]
}

// TestLeaseChecksIncidentOrderByItsIndex: the lease's check that no
// earlier transition of the same incident is pending must be able to use
// outbox_incident. With scans other than through an index ruled out, the
// plan names it; a check Postgres cannot match to the index's predicate
// scanned every pending row of the sink for each candidate instead.
func TestLeaseChecksIncidentOrderByItsIndex(t *testing.T) {
	plan := explain(t, sqlLease, "slack", toDB(t0()), 10, toDB(t0().Add(time.Minute)), "a")
	if !strings.Contains(plan, "outbox_incident") {
		t.Errorf("the lease's plan does not use outbox_incident:\n%s", plan)
	}
}

// TestWholeHistoryStatementsUseTheirIndexes: the statements that run over
// a history kept for days (every routed webhook, every sent row) can
// read only the rows they are about, through the index of those rows.
func TestWholeHistoryStatementsUseTheirIndexes(t *testing.T) {
	for _, c := range []struct {
		name, query string
		args        []any
		uses        []string // an index, and what it is searched by
	}{
		{"release leases", sqlReleaseLeases, []any{"a"}, []string{"outbox_due"}},
		{"collect webhooks", sqlGCWebhooks, []any{toDB(t0()), 10}, []string{"webhooks_processed", "Index Cond: (received_at < "}},
		{"collect sent rows", sqlGCSent, []any{toDB(t0()), 10}, []string{"outbox_sent", "Index Cond: (sent_at < "}},
	} {
		plan := explain(t, c.query, c.args...)
		for _, want := range c.uses {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: no %q in its plan:\n%s", c.name, want, plan)
			}
		}
	}
}

// explain returns query's plan on a fresh schema, with scans other than
// through an index ruled out, so the plan shows whether one can be used
// at all, which on empty tables it would not choose.
func explain(t *testing.T, query string, args ...any) string {
	t.Helper()
	url := testURL(t)
	ctx := t.Context()
	s := openTest(t, url, Options{Schema: freshSchema(t, url)})
	defer s.Close()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL enable_bitmapscan = off`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			t.Fatalf("%s: %v", set, err)
		}
	}
	rows, err := tx.Query(ctx, `EXPLAIN `+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
