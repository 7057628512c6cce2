//go:build unix

package logsink

import (
	"fmt"
	"syscall"
)

// writable reports whether this process may write the file at path or,
// for a folder, create files in it.
func writable(path string, folder bool) error {
	mode := uint32(2) // W_OK
	if folder {
		mode |= 1 // X_OK: to reach the files inside
	}
	if err := syscall.Access(path, mode); err != nil {
		return fmt.Errorf("log sink: %s is not writable: %w", path, err)
	}
	return nil
}
