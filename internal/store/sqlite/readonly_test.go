package sqlite

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// TestReadOnlyRefusesWhatIsNotAStore: a read-only open creates nothing
// and migrates nothing; a missing file, a file that is not SQLite, and a
// store of another schema version are each refused saying so.
func TestReadOnlyRefusesWhatIsNotAStore(t *testing.T) {
	// withVersion makes a SQLite file with the first n migrations applied
	// and version recorded (n < 0: no schema_version table at all).
	withVersion := func(n, version int) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stmts := []string{`CREATE TABLE other (x INTEGER)`}
			if n >= 0 {
				stmts = append(migrations[:n:n], `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
					fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, version))
			}
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name    string
		make    func(t *testing.T, path string)
		wantErr error
		want    string
	}{
		{"missing", nil, fs.ErrNotExist, "no such file (serve creates it when it first starts)"},
		{"empty", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, ErrSchema, "no schema version (not a wabarouter store, or serve never started on it)"},
		{"not SQLite", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("webhooks, not a database\n"), 200), 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil, "reading it as a SQLite database"},
		{"another program's database", withVersion(-1, 0), ErrSchema, "no schema version"},
		{"an older version's store", withVersion(3, 3), ErrSchema,
			fmt.Sprintf("its schema is version 3, this binary reads version %d; start this version's serve on it once to upgrade it", len(migrations))},
		{"a newer version's store", withVersion(len(migrations), len(migrations)+1), ErrSchema,
			fmt.Sprintf("its schema is version %d, newer than this binary's %d", len(migrations)+1, len(migrations))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "w.db")
			var before []byte
			if tt.make != nil {
				tt.make(t, path)
				before = fileSum(t, path)
			}
			s, err := Open(t.Context(), path, Options{ReadOnly: true})
			if err == nil {
				s.Close()
				t.Fatalf("opened read-only; want it refused")
			}
			if (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q; want one naming %s and saying %q (errors.Is %v)", err, path, tt.want, tt.wantErr)
			}
			if tt.make == nil {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("a read-only open of a missing store left %v behind", entries)
				}
				return
			}
			if after := fileSum(t, path); !bytes.Equal(before, after) {
				t.Errorf("a refused read-only open changed the file")
			}
		})
	}
}

func fileSum(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// TestReadOnlyBesideARunningServe: a store opened read-only while serve
// holds the file (Exclusive, group commit, checkpointer) sees what serve
// commits, as it commits, refuses every write, and never holds up
// serve's writes, not even with a read in progress.
func TestReadOnlyBesideARunningServe(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	serve := openTest(t, path, Options{GroupCommit: true, Exclusive: true, CheckpointEvery: 5 * time.Millisecond})
	defer serve.Close()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	routeOne := func(n int) {
		t.Helper()
		id, err := serve.AppendWebhook(ctx, []byte(`{}`), now)
		if err != nil {
			t.Fatal(err)
		}
		err = serve.Process(ctx, id, func(tx store.Tx) error {
			return tx.SaveIncident(ctx, store.Incident{ID: fmt.Sprintf("inc-%d", n), Rule: "r", Key: fmt.Sprintf("k%d", n), Episode: 1,
				WabaID: "1", State: "open", OpenedAt: now, UpdatedAt: now.Add(time.Duration(n) * time.Second)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	routeOne(1)

	ro := openTest(t, path, Options{ReadOnly: true})
	defer ro.Close()
	count := func() int {
		t.Helper()
		incs, err := ro.Incidents(ctx, store.IncidentFilter{WabaID: "1"})
		if err != nil {
			t.Fatal(err)
		}
		return len(incs)
	}
	if got := count(); got != 1 {
		t.Fatalf("read-only store sees %d incidents, want 1", got)
	}
	// The reads the router makes every pass work read-only too (route
	// and test make them on a read-only store).
	if _, err := ro.Silences(ctx, store.SilenceFilter{ActiveAt: time.Unix(100, 0)}); err != nil {
		t.Errorf("read-only Silences: %v", err)
	}
	if _, err := ro.PendingWebhooks(ctx, time.Unix(100, 0), 10); err != nil {
		t.Errorf("read-only PendingWebhooks: %v", err)
	}

	// A read held open across serve's next commits.
	rows, err := ro.read.QueryContext(ctx, `SELECT id FROM incidents`)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	for n := 2; n <= 4; n++ {
		routeOne(n) // fails the test if serve's writes were held up past busy_timeout
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 4 {
		t.Errorf("read-only store sees %d incidents after serve committed three more, want 4", got)
	}

	writes := map[string]func() error{
		"AppendWebhook": func() error { _, err := ro.AppendWebhook(ctx, []byte(`{}`), now); return err },
		"Process":       func() error { return ro.Process(ctx, 1, func(store.Tx) error { return nil }) },
		"Update":        func() error { return ro.Update(ctx, func(store.Tx) error { return nil }) },
		"Lease":         func() error { _, err := ro.Lease(ctx, "s", "o", now, 1, time.Minute); return err },
		"Replay":        func() error { return ro.Replay(ctx, 1, now) },
		"Drop":          func() error { return ro.Drop(ctx, 1) },
		"GC":            func() error { return ro.GC(ctx, now, time.Hour, time.Hour) },
		"Ping":          func() error { return ro.Ping(ctx) },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store: %v, want ErrReadOnly", name, err)
		}
	}
	if _, err := ro.read.ExecContext(ctx, `DELETE FROM incidents`); err == nil {
		t.Errorf("a statement run on the read-only pool deleted rows")
	}
	if got := count(); got != 4 {
		t.Errorf("%d incidents after the refused writes, want 4", got)
	}
}

// TestReadOnlyOfAStoppedServe: a store whose serve stopped (no WAL left)
// opens read-only and reads; the database file is not changed by it.
func TestReadOnlyOfAStoppedServe(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, DefaultOptions())
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	id, err := s.AppendWebhook(ctx, []byte(`{}`), now)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Process(ctx, id, func(tx store.Tx) error {
		if err := tx.SaveIncident(ctx, store.Incident{ID: "inc-1", Rule: "r", Key: "k", Episode: 1, State: "open", OpenedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.AppendDecision(ctx, store.Decision{WebhookID: id, At: now, WabaID: "1", Field: "f", Event: "E",
			IncidentIDs: []string{"inc-1"}, Record: []byte(`{"webhook_id":1}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	ro := openTest(t, path, Options{ReadOnly: true})
	ds, err := ro.Decisions(ctx, store.DecisionFilter{IncidentID: "inc-1"})
	if err != nil || len(ds) != 1 || ds[0].WebhookID != id || string(ds[0].Record) != `{"webhook_id":1}` {
		t.Errorf("decisions of the stopped store: %+v, %v; want the one recorded", ds, err)
	}
	if err := ro.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !bytes.Equal(before, fileSum(t, path)) {
		t.Errorf("reading the store read-only changed its file")
	}
}
