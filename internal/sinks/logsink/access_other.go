//go:build !unix

package logsink

// writable cannot be checked without side effects here; a file that
// cannot be written is reported at the first Send.
func writable(string, bool) error { return nil }
