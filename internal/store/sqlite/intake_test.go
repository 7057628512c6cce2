package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// die stops s as a killed process would: its committers stop after what
// they hold, the files are closed, and nothing staged is imported.
func die(t *testing.T, s *Store) {
	t.Helper()
	close(s.closing)
	s.wg.Wait()
	s.closeStatements()
	_ = s.read.Close()
	_ = s.intake.close()
	_ = s.write.Close()
	closeLock(s.lock)
}

// TestStagedWebhooksSurviveACrash: webhooks accepted into the intake
// file and not yet imported when the process died are imported at the
// next open, with the ids their appends returned, once each.
func TestStagedWebhooksSurviveACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	first, err := s.AppendWebhook(t.Context(), []byte(`{"n":0}`), time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	// The first is imported (as any reader of webhooks imports them); the
	// others are not.
	if err := s.importStaged(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := []int64{first}
	for i := 1; i < 4; i++ {
		id, err := s.AppendWebhook(t.Context(), fmt.Appendf(nil, `{"n":%d}`, i), time.Unix(100+int64(i), 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	die(t, s)
	again := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer again.Close()
	pending, err := again.PendingWebhooks(t.Context(), time.Unix(200, 0), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(ids) {
		t.Fatalf("%d pending after the crash, want %d: %+v", len(pending), len(ids), pending)
	}
	for i, w := range pending {
		if w.ID != ids[i] || string(w.Body) != fmt.Sprintf(`{"n":%d}`, i) || !w.ReceivedAt.Equal(time.Unix(100+int64(i), 0)) {
			t.Errorf("pending[%d] = id %d %q at %v; want id %d {\"n\":%d}", i, w.ID, w.Body, w.ReceivedAt, ids[i], i)
		}
	}
	var staged int
	if err := again.intake.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM staged WHERE id > ?`, ids[len(ids)-1]).Scan(&staged); err != nil || staged != 0 {
		t.Errorf("%d rows staged after the last id (%v), want none", staged, err)
	}
}

// TestRoutingImportsWhatItRoutes: the router reads webhooks still staged
// in the intake file, and routing them imports them in the same
// transaction, up to the newest it routes: one that fails is imported
// all the same and stays to be routed, one not routed yet stays staged,
// and after a crash each is pending once, in order.
func TestRoutingImportsWhatItRoutes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	var ids []int64
	for i := range 3 {
		id, err := s.AppendWebhook(ctx, fmt.Appendf(nil, `{"n":%d}`, i), time.Unix(100+int64(i), 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	inMain := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	pendingIDs := func(s *Store) []int64 {
		t.Helper()
		ws, err := s.PendingWebhooks(ctx, time.Unix(200, 0), 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, w := range ws {
			if want := fmt.Sprintf(`{"n":%d}`, slices.Index(ids, w.ID)); string(w.Body) != want {
				t.Errorf("webhook %d reads %q, want %s", w.ID, w.Body, want)
			}
			out = append(out, w.ID)
		}
		return out
	}
	if got := pendingIDs(s); !slices.Equal(got, ids) {
		t.Fatalf("pending %v, want %v", got, ids)
	}
	if n := inMain(s); n != 0 {
		t.Fatalf("reading what to route imported %d webhooks; routing imports them", n)
	}
	errs, err := s.ProcessBatch(ctx, ids[:2], func(id int64, _ store.Tx) error {
		if id == ids[1] {
			return errors.New("rule failed")
		}
		return nil
	})
	if err != nil || errs[0] != nil || errs[1] == nil {
		t.Fatalf("ProcessBatch: %v, %v; want the second alone to fail", errs, err)
	}
	if n := inMain(s); n != 2 {
		t.Errorf("%d webhooks in the main file after routing two, want 2", n)
	}
	if got := pendingIDs(s); !slices.Equal(got, ids[1:]) {
		t.Errorf("pending %v after routing, want %v", got, ids[1:])
	}
	if _, err := s.FailWebhook(ctx, ids[1], "rule failed", time.Unix(200, 0), 0, 5); err != nil {
		t.Errorf("FailWebhook of the imported webhook that failed: %v", err)
	}
	die(t, s)
	again := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer again.Close()
	if got := pendingIDs(again); !slices.Equal(got, ids[1:]) {
		t.Errorf("pending %v after a crash, want %v", got, ids[1:])
	}
	if errs, err := again.ProcessBatch(ctx, ids[1:], func(int64, store.Tx) error { return nil }); err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("ProcessBatch after the crash: %v, %v", errs, err)
	}
	if got := pendingIDs(again); len(got) != 0 {
		t.Errorf("pending %v once all were routed, want none", got)
	}
	if n := inMain(again); n != 3 {
		t.Errorf("%d webhooks in the main file, want 3", n)
	}
}

// TestABacklogIsImportedInBulk: with more staged than a batch takes,
// reading what to route imports the backlog into the main file at once,
// as many transactions of importBatch as it takes, and returns the oldest.
func TestABacklogIsImportedInBulk(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), Options{GroupCommit: true, CheckpointEvery: -1})
	defer s.Close()
	var ids []int64
	for i := range 5 {
		id, err := s.AppendWebhook(ctx, fmt.Appendf(nil, `{"n":%d}`, i), time.Unix(100, 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	ws, err := s.PendingWebhooks(ctx, time.Unix(200, 0), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].ID != ids[0] || ws[1].ID != ids[1] {
		t.Fatalf("pending %+v, want the oldest two of %v", ws, ids)
	}
	var inMain int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks`).Scan(&inMain); err != nil {
		t.Fatal(err)
	}
	if inMain != len(ids) {
		t.Errorf("%d webhooks in the main file, want the whole backlog of %d", inMain, len(ids))
	}
}

// TestIntakeIDsFollowTheMainFile: an intake file that is new beside a
// store that has webhooks (an upgrade, or the intake file lost) hands
// out ids after the main file's, never one of its own again.
func TestIntakeIDsFollowTheMainFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	var last int64
	for i := range 5 {
		id, err := s.AppendWebhook(t.Context(), []byte(`{}`), time.Unix(int64(i), 0))
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	if err := s.Process(t.Context(), last, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(IntakePath(path) + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	again := openTest(t, path, Options{GroupCommit: true, CheckpointEvery: -1})
	defer again.Close()
	id, err := again.AppendWebhook(t.Context(), []byte(`{"after":"loss"}`), time.Unix(10, 0))
	if err != nil {
		t.Fatal(err)
	}
	if id <= last {
		t.Fatalf("append after the intake file was lost got id %d, want one after the main file's %d", id, last)
	}
	w, found, err := again.Webhook(t.Context(), id)
	if err != nil || !found || string(w.Body) != `{"after":"loss"}` {
		t.Errorf("webhook %d: %q found=%v %v", id, w.Body, found, err)
	}
}

// TestAppendDoesNotWaitForTheMainFile: an append is stored and answered
// while the main file's writer is held by a long transaction (routing),
// since it goes to the intake file.
func TestAppendDoesNotWaitForTheMainFile(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "w.db"), Options{GroupCommit: true, CheckpointEvery: -1})
	defer s.Close()
	release := make(chan struct{})
	holding := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(t.Context(), func(store.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	appended := make(chan error, 1)
	go func() {
		_, err := s.AppendWebhook(t.Context(), []byte(`{}`), time.Now())
		appended <- err
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("the main file's transaction ended (%v) before the append was answered", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the append waited for the main file's writer")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
