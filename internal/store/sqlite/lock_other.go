//go:build !unix

package sqlite

import "os"

// lockFile is a no-op where flock does not exist: there, running two
// routers on one file is only prevented by the operator.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
