//go:build unix

package sqlite

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFilesAreOwnerOnly: the database and its -wal and -shm files hold
// every webhook body; whatever the umask, only the owner may read them,
// and files an older version left readable are tightened.
func TestFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	loose := filepath.Join(dir, "loose.db")
	for _, p := range []string{loose, loose + "-wal", loose + "-shm"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{fresh, loose} {
		s := openTest(t, path, DefaultOptions())
		if _, err := s.AppendWebhook(t.Context(), []byte(`{}`), time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s has mode %v, want 0600", filepath.Base(p), perm)
			}
		}
		s.Close()
	}
}
