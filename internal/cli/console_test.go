package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestConsoleHashPassword: the hash printed is bcrypt's of the line read,
// at the cost asked for; no password, or no action, is refused.
func TestConsoleHashPassword(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		args     []string
		code     int
		cost     int
	}{
		{"typed and Enter", "s3cret pass\n", []string{"console", "hash-password", "--cost", "4"}, ExitOK, 4},
		{"piped without a newline", "s3cret pass", []string{"console", "hash-password", "--cost", "5"}, ExitOK, 5},
		{"nothing on standard input", "", []string{"console", "hash-password"}, ExitFailure, 0},
		{"an empty line", "\n", []string{"console", "hash-password"}, ExitFailure, 0},
		{"no action", "x\n", []string{"console"}, ExitUsage, 0},
		{"a cost out of range", "x\n", []string{"console", "hash-password", "--cost", "2"}, ExitUsage, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tc.args, IO{In: strings.NewReader(tc.in), Out: &out, Err: &errOut})
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut.String())
			}
			if tc.code != ExitOK {
				return
			}
			hash := []byte(strings.TrimSpace(out.String()))
			if err := bcrypt.CompareHashAndPassword(hash, []byte("s3cret pass")); err != nil {
				t.Fatalf("%q is not the password's hash: %v", hash, err)
			}
			if cost, _ := bcrypt.Cost(hash); cost != tc.cost {
				t.Errorf("cost %d, want %d", cost, tc.cost)
			}
		})
	}
}
