package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/storetest"
)

func openTest(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	return s
}

func TestContract(t *testing.T) {
	for _, gc := range []bool{true, false} {
		name := map[bool]string{true: "GroupCommit", false: "NoGroupCommit"}[gc]
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) (store.Store, func(*testing.T) store.Store) {
				path := filepath.Join(t.TempDir(), "w.db")
				another := func(t *testing.T) store.Store { return openTest(t, path, Options{GroupCommit: gc}) }
				return openTest(t, path, Options{GroupCommit: gc}), another
			})
		})
	}
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, path, DefaultOptions())
	id, err := s.AppendWebhook(ctx, []byte(`{"keep":1}`), now)
	if err != nil {
		t.Fatalf("AppendWebhook: %v", err)
	}
	other, err := s.AppendWebhook(ctx, []byte(`{}`), now)
	if err != nil {
		t.Fatalf("AppendWebhook: %v", err)
	}
	err = s.Process(ctx, other, func(tx store.Tx) error {
		return tx.Enqueue(ctx, store.Outbound{Sink: "slack", NotificationID: "n1", Payload: []byte(`{}`),
			State: store.Pending, NextAttempt: now, CreatedAt: now, AcceptedAt: now})
	})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.AppendWebhook(ctx, []byte(`{}`), now); err == nil {
		t.Errorf("AppendWebhook after Close succeeded")
	}

	s = openTest(t, path, DefaultOptions())
	defer s.Close()
	ws, err := s.PendingWebhooks(ctx, now, 10)
	if err != nil || len(ws) != 1 || ws[0].ID != id || string(ws[0].Body) != `{"keep":1}` {
		t.Fatalf("pending after reopen: %+v, %v", ws, err)
	}
	rows, err := s.Lease(ctx, "slack", "r", now, 10, time.Minute)
	if err != nil || len(rows) != 1 || rows[0].NotificationID != "n1" {
		t.Fatalf("outbox after reopen: %+v, %v", rows, err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	const n = 50
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ids[i], errs[i] = s.AppendWebhook(context.Background(), []byte(`{}`), time.Now())
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		if seen[id] {
			t.Fatalf("duplicate id %d", id)
		}
		seen[id] = true
	}
	ws, err := s.PendingWebhooks(t.Context(), time.Now(), 2*n)
	if err != nil || len(ws) != n {
		t.Fatalf("pending: %d rows, %v; want %d", len(ws), err, n)
	}
	for _, w := range ws {
		if !seen[w.ID] {
			t.Errorf("pending id %d was never returned by AppendWebhook", w.ID)
		}
	}
}

func TestReopenKeepsSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	for range 2 {
		s := openTest(t, path, DefaultOptions())
		var v int
		if err := s.read.QueryRowContext(t.Context(), `SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(migrations) {
			t.Fatalf("schema_version = %d, %v; want %d", v, err, len(migrations))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestErrorsNameOperation(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	err := s.Ack(t.Context(), 77, store.Lease{Owner: "r", Token: 1}, store.Outcome{Receipt: "r", At: time.Now()})
	if !errors.Is(err, store.ErrNotFound) || err.Error() != "store/sqlite: ack 77 (lease of r): store: not found" {
		t.Fatalf("Ack(77) = %q", err)
	}
}

// TestPragmas guards durability: both pools must run WAL with
// synchronous=FULL (2), or an acknowledged webhook could be lost.
func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	for name, db := range map[string]*sql.DB{"write": s.write, "read": s.read} {
		var mode string
		var sync, fk int
		if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s journal_mode = %q, %v", name, mode, err)
		}
		if err := db.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
			t.Errorf("%s synchronous = %d, %v; want 2 (FULL)", name, sync, err)
		}
		if err := db.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("%s foreign_keys = %d, %v", name, fk, err)
		}
	}
}

// TestCloseDuringAppends checks that every append racing Close either
// fails or is durable: no caller is told "stored" for a lost body.
func TestCloseDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, DefaultOptions())
	const n = 40
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ids[i], errs[i] = s.AppendWebhook(context.Background(), []byte(`{}`), time.Now())
		})
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	s = openTest(t, path, DefaultOptions())
	defer s.Close()
	ws, err := s.PendingWebhooks(t.Context(), time.Now(), 2*n)
	if err != nil {
		t.Fatalf("PendingWebhooks: %v", err)
	}
	stored := map[int64]bool{}
	for _, w := range ws {
		stored[w.ID] = true
	}
	for i := range n {
		if errs[i] == nil && !stored[ids[i]] {
			t.Errorf("append %d returned id %d but it is not stored", i, ids[i])
		}
		if errs[i] != nil && !errors.Is(errs[i], ErrClosed) {
			t.Errorf("append %d: %v, want ErrClosed", i, errs[i])
		}
	}
}

// TestExclusiveLockAndReleaseLeases: one serve per file, and the next run
// of the same owner gets back the rows the previous one left leased.
func TestExclusiveLockAndReleaseLeases(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := openTest(t, path, Options{GroupCommit: true, Exclusive: true})
	if _, err := Open(ctx, path, Options{Exclusive: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second exclusive open: %v, want ErrLocked", err)
	}
	// A tool that edits a few rows opens beside the router.
	openTest(t, path, Options{}).Close()

	wid, err := first.AppendWebhook(ctx, []byte(`{}`), now)
	if err != nil {
		t.Fatal(err)
	}
	err = first.Process(ctx, wid, func(tx store.Tx) error {
		return tx.Enqueue(ctx, store.Outbound{Sink: "s", NotificationID: "n1", Payload: []byte(`{}`),
			State: store.Pending, NextAttempt: now, CreatedAt: now, AcceptedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := first.Lease(ctx, "s", "host-1", now, 10, time.Hour); err != nil || len(rows) != 1 {
		t.Fatalf("lease: %d rows, %v", len(rows), err)
	}
	// The run that leased the row ends without sending it.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	next := openTest(t, path, Options{GroupCommit: true, Exclusive: true})
	defer next.Close()
	if rows, err := next.Lease(ctx, "s", "host-1", now, 10, time.Hour); err != nil || len(rows) != 0 {
		t.Fatalf("lease before release: %d rows, %v; want the row still leased", len(rows), err)
	}
	if n, err := next.ReleaseLeases(ctx, "host-2"); err != nil || n != 0 {
		t.Fatalf("ReleaseLeases of another owner = %d, %v; want 0", n, err)
	}
	if n, err := next.ReleaseLeases(ctx, "host-1"); err != nil || n != 1 {
		t.Fatalf("ReleaseLeases = %d, %v; want 1 row released", n, err)
	}
	rows, err := next.Lease(ctx, "s", "host-1", now, 10, time.Hour)
	if err != nil || len(rows) != 1 || rows[0].NotificationID != "n1" {
		t.Fatalf("lease after release: %+v, %v; want n1", rows, err)
	}
}

// TestCheckpointerBackfillsTheWAL: the writer never checkpoints inside a
// commit, so written pages stay in the WAL until the checkpointer copies
// them into the database file.
func TestCheckpointerBackfillsTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer s.Close()
	var auto int
	if err := s.write.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for i := range 600 {
		if _, err := s.AppendWebhook(t.Context(), bytes.Repeat([]byte("x"), 2000), time.Unix(int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	// The appends are in the intake file; the router's first read moves
	// them into the main one, over 1,000 pages: SQLite's own
	// auto-checkpoint would have grown the file by now.
	if err := s.importStaged(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.intake.write.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("intake writer wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	if grown := size(); grown > before+64*1024 {
		t.Fatalf("database file grew from %d to %d bytes before any checkpoint; the writer checkpoints itself", before, grown)
	}
	s.checkpoint()
	if after := size(); after < before+1_000_000 {
		t.Errorf("database file is %d bytes after a checkpoint (was %d); want the ~1.2 MB of appends copied in", after, before)
	}
}

// TestMigrationKeepsBodiesAndPayloads opens a store written by the first
// schema, where bodies and payloads lived in their rows, and finds them in
// their own tables; GC then removes them with their rows.
func TestMigrationKeepsBodiesAndPayloads(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)`,
		`INSERT INTO webhooks (id, body, received_at) VALUES (1, '{"pending":true}', 10), (2, '{"done":true}', 10)`,
		`UPDATE webhooks SET processed_at = 20 WHERE id = 2`,
		`INSERT INTO outbox (id, sink, notification_id, payload, state, next_attempt, created_at, accepted_at)
			VALUES (7, 'slack', 'n7', '{"id":"n7"}', 'pending', 0, 0, 0)`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer s.Close()
	ws, err := s.PendingWebhooks(ctx, time.Unix(1000, 0), 10)
	if err != nil || len(ws) != 1 || ws[0].ID != 1 || string(ws[0].Body) != `{"pending":true}` {
		t.Fatalf("pending after migration: %+v, %v; want webhook 1 with its body", ws, err)
	}
	rows, err := s.Lease(ctx, "slack", "r", time.Unix(1, 0), 10, time.Minute)
	if err != nil || len(rows) != 1 || string(rows[0].Payload) != `{"id":"n7"}` {
		t.Fatalf("lease after migration: %+v, %v; want n7 with its payload", rows, err)
	}
	if err := s.Ack(ctx, 7, rows[0].Lease, store.Outcome{Receipt: "ok", At: time.Unix(30, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.GC(ctx, time.Unix(1000, 0), time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"webhook_bodies": 1, "outbox_payloads": 0} {
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after GC (%v); want %d: deleting a row deletes its blob", table, n, err, want)
		}
	}
}

// TestMigrationFoldsIncidentLinks: a store of schema 4 keeps, in 5, the
// sinks that heard of each incident, the threads kept for them, and
// which incidents each decision made a transition of.
func TestMigrationFoldsIncidentLinks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	steps := append([]string(nil), migrations[:4]...)
	steps = append(steps,
		`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)`,
		`INSERT INTO incidents (id, rule, key, episode, state, opened_at, updated_at) VALUES
			('inc-a', 'r', 'w1/ban', 1, 'open', 10, 10), ('inc-b', 'r', 'w2/ban', 1, 'open', 10, 10)`,
		`INSERT INTO incident_sinks (incident_id, sink, thread) VALUES ('inc-a', 'slack', 'C1:1'), ('inc-a', 'pager', '')`,
		`INSERT INTO decisions (id, webhook_id, idx, at, record) VALUES (1, 1, 0, 10, '{}'), (2, 1, 1, 10, '{}')`,
		`INSERT INTO decision_incidents (incident_id, decision_id) VALUES ('inc-b', 1), ('inc-a', 1)`,
		`INSERT INTO outbox (sink, notification_id, state, next_attempt, created_at, accepted_at, incident_id, seq)
			VALUES ('slack', 'n2', 'pending', 0, 0, 0, 'inc-a', 2)`,
	)
	for _, q := range steps {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer s.Close()
	a, found, err := s.GetIncident(ctx, "inc-a")
	if err != nil || !found || fmt.Sprint(a.Sinks) != "[pager slack]" {
		t.Errorf("inc-a after migration: %+v, %v, %v; want it heard of by pager and slack", a, found, err)
	}
	if b, _, err := s.GetIncident(ctx, "inc-b"); err != nil || len(b.Sinks) != 0 {
		t.Errorf("inc-b after migration: sinks %v, %v; want none", b.Sinks, err)
	}
	ds, err := s.Decisions(ctx, store.DecisionFilter{IncidentID: "inc-a"})
	if err != nil || len(ds) != 1 || ds[0].ID != 1 || fmt.Sprint(ds[0].IncidentIDs) != "[inc-a inc-b]" {
		t.Errorf("decisions of inc-a after migration: %+v, %v; want decision 1, of inc-a and inc-b", ds, err)
	}
	rows, err := s.Lease(ctx, "slack", "r", time.Unix(1, 0), 10, time.Minute)
	if err != nil || len(rows) != 1 || rows[0].Thread != "C1:1" {
		t.Errorf("lease after migration: %+v, %v; want n2 with the kept thread C1:1", rows, err)
	}
}

// TestGCLetsAppendsThrough: housekeeping deletes in small writes, so an
// append made while a large collection runs is stored long before the
// collection ends, not after it.
func TestGCLetsAppendsThrough(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), Options{GroupCommit: true, GCBatch: 100})
	defer s.Close()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 20_000
	if _, err := s.write.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO webhooks (id, received_at, processed_at) SELECT i, ?, ? FROM seq`, n, toDB(old), toDB(old)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO webhook_bodies (id, body) SELECT id, zeroblob(500) FROM webhooks`); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	var batches atomic.Int64
	s.afterGCBatch = func(what string, deleted int64) {
		if what == "webhooks" && deleted > 0 {
			batches.Add(1)
			once.Do(func() { close(started) })
		}
	}
	gcDone := make(chan error, 1)
	go func() { gcDone <- s.GC(context.Background(), old.Add(30*24*time.Hour), time.Hour, time.Hour) }()
	select {
	case <-started:
	case err := <-gcDone:
		t.Fatalf("GC finished (%v) before any webhook batch was reported", err)
	}
	if _, err := s.AppendWebhook(ctx, []byte(`{"during":"gc"}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	at := batches.Load()
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	total := batches.Load()
	if total < n/100 {
		t.Fatalf("GC deleted %d webhooks in %d writes, want at most 100 per write", n, total)
	}
	if at > total/2 {
		t.Errorf("the append was stored after %d of %d GC writes; it waited for the collection", at, total)
	}
	if err := s.importStaged(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_bodies`).Scan(&left); err != nil || left != 1 {
		t.Errorf("%d bodies left after GC (%v), want only the new one", left, err)
	}
}

// TestPingNeedsAWrite: a store that answers reads but takes no writes (a
// full disk, a read-only file) is not healthy; Ping must say so, of the
// main file and of the intake file alike.
func TestPingNeedsAWrite(t *testing.T) {
	for _, file := range []string{"main", "intake"} {
		t.Run(file, func(t *testing.T) {
			s := openTest(t, filepath.Join(t.TempDir(), "w.db"), Options{GroupCommit: true})
			defer s.Close()
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			db := s.write
			if file == "intake" {
				db = s.intake.write
			}
			if _, err := db.ExecContext(t.Context(), `PRAGMA query_only = 1`); err != nil {
				t.Fatal(err)
			}
			if file == "intake" {
				if _, err := s.AppendWebhook(t.Context(), []byte(`{}`), time.Now()); err == nil {
					t.Fatal("append succeeded on an intake file that takes no writes")
				}
			}
			if err := s.Ping(t.Context()); err == nil {
				t.Fatalf("Ping succeeded while the %s file takes no writes", file)
			}
		})
	}
}

// TestHotQueriesUseTheirIndexes: the statements run for every webhook
// and every notification must search an index, never scan a table, or a
// backlog makes each of them slower (the lease's check that no earlier
// transition of the same incident waits once scanned every pending row).
func TestHotQueriesUseTheirIndexes(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	now := int64(1)
	cases := []struct {
		name  string
		query string
		args  []any
		uses  []string
	}{
		{"lease", sqlLease, []any{now, "o", 1, "s", now, now, 10}, []string{"outbox_due", "outbox_incident"}},
		{"open incidents", sqlOpenIncidents, []any{"k"}, []string{"incidents_key"}},
		{"incident", sqlIncident, []any{"r", "k"}, []string{"incidents_key"}},
		{"incident by id", sqlIncidentByID, []any{"inc-1"}, []string{"sqlite_autoindex_incidents"}},
		// Not run per row, but over an outbox that keeps its whole
		// history of sent rows: each reads only the rows it is about.
		{"release leases", sqlReleaseLeases, []any{"o"}, []string{"outbox_due"}},
		{"outbox stats", sqlOutboxStats, nil, []string{"outbox_due"}},
		{"dead rows", sqlListDead, []any{10}, []string{"outbox_dead"}},
		{"collect sent rows", sqlGCSent, []any{now, 10}, []string{"outbox_sent (sent_at<?)"}},
		{"collect webhooks", sqlGCWebhooks, []any{now, 10}, []string{"webhooks_processed (received_at<?)"}},
		{"pending webhooks", `SELECT ` + webhookCols + ` FROM webhooks w JOIN webhook_bodies b ON b.id = w.id
		WHERE w.processed_at IS NULL AND w.parked_at = 0 AND w.route_after <= ? ORDER BY w.id LIMIT ?`, []any{now, 16}, []string{"webhooks_pending"}},
	}
	for _, c := range cases {
		rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		for _, step := range plan {
			// A scan of a partial index walks only the rows it holds.
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, " USING ") {
				t.Errorf("%s scans a table:\n%s", c.name, text)
			}
		}
		for _, idx := range c.uses {
			if !strings.Contains(text, idx) {
				t.Errorf("%s does not use %s:\n%s", c.name, idx, text)
			}
		}
	}
}
