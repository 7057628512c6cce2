package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// fileMode is the mode of the database and its -wal and -shm files: they
// hold every webhook body, so only the router's user may read them.
const fileMode fs.FileMode = 0o600

// privateFiles creates the database file with fileMode before SQLite
// opens it (SQLite gives the -wal and -shm files the database file's
// mode), and takes group and other permissions away from those files
// where an older version or the umask left them readable.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if fi.Mode().Perm()&^fileMode != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&fileMode); err != nil {
				return fmt.Errorf("restricting %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}
