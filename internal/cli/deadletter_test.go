package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// deadStore makes a store file holding one dead row per notification id
// and a config naming it; it returns the config path and the row ids.
func deadStore(t *testing.T, notificationIDs ...string) (string, []int64) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "wabarouter.db")
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	// Closed before the command runs, as an operator's store would be
	// between router runs; the command opens it itself.
	defer st.Close()
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	wid, err := st.AppendWebhook(ctx, []byte(`{}`), created)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Process(ctx, wid, func(tx store.Tx) error {
		for _, nid := range notificationIDs {
			if err := tx.Enqueue(ctx, store.Outbound{Sink: "slack", NotificationID: nid, Payload: []byte(`{}`),
				State: store.Pending, NextAttempt: created, CreatedAt: created, AcceptedAt: created}); err != nil {
				return fmt.Errorf("enqueue %s: %w", nid, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Lease(ctx, "slack", "test", created, 10, time.Minute)
	if err != nil || len(rows) != len(notificationIDs) {
		t.Fatalf("lease: %d rows, %v", len(rows), err)
	}
	var ids []int64
	for _, r := range rows {
		if err := st.Retry(ctx, r.ID, r.Lease, created, store.Outcome{Err: "HTTP 503"}); err != nil {
			t.Fatal(err)
		}
		again, err := st.Lease(ctx, "slack", "test", created, 1, time.Minute)
		if err != nil || len(again) != 1 {
			t.Fatalf("lease again: %v, %v", again, err)
		}
		if err := st.DeadLetter(ctx, again[0].ID, again[0].Lease, store.Outcome{Err: "slack sink: HTTP 400 Bad Request:\ninvalid_payload"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	cfg := fmt.Sprintf("server:\n  verify_token: vt\n  app_secrets: [s3cret]\nstore: {path: %q}\n", dbPath)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, ids
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, IO{Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestDeadletterCommand(t *testing.T) {
	cfg, ids := deadStore(t, "n-replay", "n-drop")
	replayID, dropID := ids[0], ids[1]

	code, out, errOut := runCLI("deadletter", "list", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	want := fmt.Sprintf("%d\tslack\tn-replay\tattempts=2\tcreated=2026-03-04T05:06:07Z\terror=slack sink: HTTP 400 Bad Request: invalid_payload\n", replayID)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || lines[0]+"\n" != want {
		t.Fatalf("list printed\n%s\nwant two lines, the first\n%s", out, want)
	}

	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"replay", []string{"replay", fmt.Sprint(replayID)}, ExitOK, fmt.Sprintf("replayed %d", replayID), ""},
		{"drop", []string{"drop", fmt.Sprint(dropID)}, ExitOK, fmt.Sprintf("dropped %d", dropID), ""},
		{"replay unknown", []string{"replay", "999"}, ExitFailure, "", "no dead-lettered row with id 999"},
		// The replayed row is pending again: drop must not discard it.
		{"drop a pending row", []string{"drop", fmt.Sprint(replayID)}, ExitFailure, "", fmt.Sprintf("no dead-lettered row with id %d", replayID)},
		{"bad id", []string{"drop", "abc"}, ExitUsage, "", `id "abc"`},
		{"replay without ids", []string{"replay"}, ExitUsage, "", "usage:"},
		{"unknown action", []string{"purge", "1"}, ExitUsage, "", `unknown action "purge"`},
	}
	for _, s := range steps {
		args := append([]string{"deadletter", s.args[0], "--config", cfg}, s.args[1:]...)
		code, out, errOut := runCLI(args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("%s: exit %d stdout %q stderr %q; want exit %d, %q, %q", s.name, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}

	// The config flag may also come before the action.
	code, out, _ = runCLI("deadletter", "--config", cfg, "list")
	if code != ExitOK || out != "" {
		t.Errorf("list after replay and drop: exit %d, %q; want nothing dead", code, out)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(cfg), "wabarouter.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Lease(ctx, "slack", "test", time.Now().Add(time.Second), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != replayID || rows[0].Attempts != 0 || rows[0].State != store.Pending {
		t.Fatalf("leasable rows %+v, want only the replayed row, pending with attempts reset", rows)
	}
}

func TestDeadletterWithoutAStore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("server:\n  verify_token: vt\n  app_secrets: [s]\nstore: {path: gone/w.db}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("deadletter", "list", "--config", cfgPath)
	if code != ExitFailure || out != "" || !strings.Contains(errOut, "no store at "+filepath.Join(dir, "gone/w.db")) {
		t.Errorf("exit %d, stdout %q, stderr %q; want a failure naming the missing store", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("deadletter created the store's folder: %v", err)
	}
}

// TestDeadletterParkedWebhooks: a webhook whose routing kept failing is
// listed with its error, and can be replayed (routed again) or dropped.
func TestDeadletterParkedWebhooks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "wabarouter.db")
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var parked []int64
	for range 2 {
		id, err := st.AppendWebhook(ctx, []byte(`{"object":"whatsapp_business_account"}`), received)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := st.FailWebhook(ctx, id, "encoding notification:\nyear outside of range", received, 0, 3); err != nil {
				t.Fatal(err)
			}
		}
		parked = append(parked, id)
	}
	st.Close()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("server:\n  verify_token: vt\n  app_secrets: [s3cret]\nstore: {path: %q}\n", dbPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("deadletter", "list", "--config", cfgPath)
	want := fmt.Sprintf("w%d\twebhook\treceived=2026-03-04T05:06:07Z\tattempts=3\tparked=2026-03-04T05:06:07Z\terror=encoding notification: year outside of range\n", parked[0])
	if code != ExitOK || !strings.HasPrefix(out, want) || strings.Count(out, "\twebhook\t") != 2 {
		t.Fatalf("list: exit %d, stdout\n%s\nstderr %s; want two parked webhooks, the first\n%s", code, out, errOut, want)
	}
	steps := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{[]string{"replay", fmt.Sprintf("w%d", parked[0])}, ExitOK, fmt.Sprintf("replayed w%d", parked[0]), ""},
		{[]string{"drop", fmt.Sprintf("w%d", parked[1])}, ExitOK, fmt.Sprintf("dropped w%d", parked[1]), ""},
		{[]string{"drop", fmt.Sprintf("w%d", parked[0])}, ExitFailure, "", fmt.Sprintf("no parked webhook with id w%d", parked[0])},
		{[]string{"replay", "wx"}, ExitUsage, "", `id "wx"`},
	}
	for _, s := range steps {
		args := append([]string{"deadletter", s.args[0], "--config", cfgPath}, s.args[1:]...)
		code, out, errOut := runCLI(args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("%v: exit %d stdout %q stderr %q; want exit %d, %q, %q", s.args, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}
	st, err = sqlite.Open(ctx, dbPath, sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, err := st.PendingWebhooks(ctx, time.Now(), 10)
	if err != nil || len(ws) != 1 || ws[0].ID != parked[0] || ws[0].Attempts != 0 {
		t.Fatalf("pending after replay and drop: %+v, %v; want only the replayed webhook, attempts reset", ws, err)
	}
}
