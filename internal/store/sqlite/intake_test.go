package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
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
	// The first is imported (the router read it); the others are not.
	if _, err := s.PendingWebhooks(t.Context(), time.Unix(200, 0), 10); err != nil {
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
