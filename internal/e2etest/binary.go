package e2etest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BinaryEnv names a prebuilt wabarouter binary for Binary to use instead
// of building one, e.g. the static build CI makes.
const BinaryEnv = "WABAROUTER_E2E_BIN"

// mainPackage is the router's command, built by import path so that the
// build works from any folder inside the module.
const mainPackage = "github.com/wabarouter/wabarouter/cmd/wabarouter"

// built is the one binary of this process. It is package state on
// purpose: the binary is the same for every test, and building it once
// instead of once per test saves a link of several seconds each.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of a wabarouter binary built from this module's
// source, building it on the first call of the process and reusing it on
// the others; $WABAROUTER_E2E_BIN, when set, is used as it is. A build
// failure fails t (and every later caller). Call Main from TestMain to
// remove the build folder when the tests end.
func Binary(t TB) string {
	t.Helper()
	built.once.Do(func() {
		if p := os.Getenv(BinaryEnv); p != "" {
			built.path, built.err = filepath.Abs(p)
			return
		}
		built.dir, built.err = os.MkdirTemp("", "wabarouter-e2e-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "wabarouter")
		built.err = BuildBinary(context.Background(), built.path)
	})
	if built.err != nil {
		t.Fatalf("wabarouter binary: %v", built.err)
	}
	return built.path
}

// BuildBinary runs go build for the router's command, writing the binary
// to out.
func BuildBinary(ctx context.Context, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, mainPackage)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %w\n%s", out, mainPackage, err, b)
	}
	return nil
}

// Runner is what Main needs of *testing.M.
type Runner interface{ Run() int }

// Main runs the tests of m and then removes the binary Binary built, and
// returns the exit code for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(e2etest.Main(m)) }
func Main(m Runner) int {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	return code
}
