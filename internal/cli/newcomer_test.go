package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// everyCommand lists the commands a newcomer can type, so that a command
// added without help fails the tests below.
var everyCommand = []string{"check", "console", "deadletter", "healthcheck", "incidents", "notify-test", "parse", "route", "serve", "silence", "test", "version", "why"}

// definedFlag matches a flag in the listing flag.PrintDefaults writes.
var definedFlag = regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)

// TestHelpOfEveryCommand asks each command for help in every way a
// newcomer might: the help says what the command does, its arguments, its
// flags (every one it accepts), the environment it reads and an example,
// on standard output, with exit 0.
func TestHelpOfEveryCommand(t *testing.T) {
	if got := len(commands()); got != len(everyCommand) {
		t.Errorf("commands() has %d commands, the test knows %d: %v", got, len(everyCommand), everyCommand)
	}
	argsOf := map[string][]string{"route": {"PAYLOAD…"}, "test": {"TESTS…"}, "parse": {"FILE…"}, "deadletter": {"list", "replay ID…", "drop ID…"}, "silence": {"add", "list", "expire ID"}, "console": {"hash-password"}}
	for _, name := range everyCommand {
		t.Run(name, func(t *testing.T) {
			var first string
			for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}, {name, "x.json", "--config", "c.yaml", "-h"}} {
				var out, errOut bytes.Buffer
				code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
				if code != ExitOK || errOut.Len() != 0 {
					t.Fatalf("%q: exit %d, stderr %q; want exit 0 and the help on stdout", args, code, errOut.String())
				}
				if first == "" {
					first = out.String()
				} else if out.String() != first {
					t.Errorf("%q gives other help than %s -h", args, name)
				}
			}
			help := first
			if !strings.HasPrefix(help, "usage: wabarouter "+name) {
				t.Errorf("help does not start with its usage:\n%s", help)
			}
			for _, section := range []string{"\nEnvironment:\n", "\nExample:\n  wabarouter " + name} {
				if !strings.Contains(help, section) && !strings.Contains(help, strings.Replace(section, "  wabarouter", "  META_VERIFY_TOKEN=dev-token META_APP_SECRET=dev-secret wabarouter", 1)) {
					t.Errorf("help has no %q:\n%s", strings.TrimSpace(section), help)
				}
			}
			if want := argsOf[name]; want != nil {
				_, arguments, _ := strings.Cut(help, "\nArguments:\n")
				for _, a := range want {
					if !strings.Contains(arguments, "  "+a) {
						t.Errorf("help's Arguments do not explain %q:\n%s", a, help)
					}
				}
			}
			// An unknown flag makes the command list the flags it has.
			var out, errOut bytes.Buffer
			args := []string{name, "--no-such-flag-x"}
			if name == "deadletter" {
				args = []string{name, "list", "--no-such-flag-x"}
			}
			if code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != ExitUsage {
				t.Errorf("%q: exit %d, want %d", args, code, ExitUsage)
			}
			_, flags, _ := strings.Cut(help, "\nFlags:\n")
			for _, m := range definedFlag.FindAllStringSubmatch(errOut.String(), -1) {
				if !strings.Contains(flags, "  --"+m[1]+" ") && !strings.Contains(flags, "  --"+m[1]+"\n") {
					t.Errorf("help does not explain flag --%s under Flags:\n%s", m[1], help)
				}
			}
		})
	}
}

// TestFlagsAfterArguments writes the flags after the arguments, as people
// do when they add a flag to the command they just ran.
func TestFlagsAfterArguments(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	storeless := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(storeless, []byte("server: {verify_token: v, app_secrets: [s]}\nstore: {path: none/router.db}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{"route", []string{"route", "../../testdata/webhooks/seed_disabled_update_disable.json", "--config", "../../config.example.yaml", "--format", "json"},
			ExitOK, `"rule":"account-banned","sink":"oncall-pagerduty"`, ""},
		{"test", []string{"test", "../../testdata/rules/example_test.yaml", "--config", "../../config.example.yaml"},
			ExitOK, " passed, 0 failed", ""},
		{"parse", []string{"parse", "../../testdata/webhooks/seed_template_paused.json", "--"},
			ExitOK, `"event":"PAUSED"`, ""},
		{"check", []string{"check", "--strict", "--config", "../../config.example.yaml"},
			ExitOK, "config.example.yaml: OK", ""},
		{"deadletter", []string{"deadletter", "drop", "7", "--config", storeless},
			ExitFailure, "", "deadletter: no store at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
			if code != tt.code || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q", code, tt.code, out.String(), errOut.String(), tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut bytes.Buffer
		if code := Run(context.Background(), args, IO{Out: &out, Err: &errOut}); code != ExitOK {
			t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "wabarouter ") || !strings.HasPrefix(lines[1], "commit ") ||
			lines[2] != runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH {
			t.Errorf("%q printed:\n%s\nwant the version, the commit and the Go version", args, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer a running serve may write while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs serve in-process until the test ends, and returns its
// address once /readyz answers 200.
func startServe(t *testing.T, args []string, addr string) (stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, args, IO{Out: io.Discard, Err: stderr}) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	for {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d before it was ready: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stderr
			}
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestServeExposesBuildInfo scrapes a running serve's /metrics.
func TestServeExposesBuildInfo(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "server: {listen: %q, verify_token: v, app_secrets: [s]}\nsinks: [{name: team, type: log}]\n", addr), 0o600); err != nil {
		t.Fatal(err)
	}
	startServe(t, []string{"serve", "--config", cfg}, addr)
	_, metrics := get(t, "http://"+addr+"/metrics")
	build := regexp.MustCompile(`(?m)^wabarouter_build_info\{(.*)\} 1$`).FindStringSubmatch(metrics)
	if build == nil {
		t.Fatalf("/metrics has no wabarouter_build_info 1:\n%s", metrics)
	}
	for _, label := range []string{`version="`, `revision="`, `goversion="` + runtime.Version() + `"`} {
		if !strings.Contains(build[1], label) {
			t.Errorf("wabarouter_build_info{%s} has no %s", build[1], label)
		}
	}
}

// TestServeRunsTheBuiltInConfig runs the README's first command: serve
// with no --config and the two variables runs on the built-in copy of
// config.example.yaml, with its rules, log sinks and the store under
// ./data of the working directory.
func TestServeRunsTheBuiltInConfig(t *testing.T) {
	env, args := readmeFirstCommand(t)
	if len(args) != 1 || args[0] != "serve" || len(env) != 2 || env["META_VERIFY_TOKEN"] == "" || env["META_APP_SECRET"] == "" {
		t.Fatalf("README's first command runs %q with %v; want serve on the built-in config with META_VERIFY_TOKEN and META_APP_SECRET", args, env)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for k, v := range env {
		t.Setenv(k, v)
	}
	// The built-in config listens where the README says.
	const addr = "127.0.0.1:8080"
	if l, err := net.Listen("tcp", addr); err != nil {
		t.Skipf("%s is in use, so the built-in config cannot listen: %v", addr, err)
	} else {
		l.Close()
	}
	stderr := startServe(t, args, addr)
	if code, body := get(t, "http://"+addr+"/webhook?hub.mode=subscribe&hub.verify_token="+env["META_VERIFY_TOKEN"]+"&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Errorf("handshake: %d %q", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "wabarouter.db")); err != nil {
		t.Errorf("no store under ./data: %v", err)
	}
	if !strings.Contains(stderr.String(), "using the built-in copy of config.example.yaml") {
		t.Errorf("serve does not say which config it runs on:\n%s", stderr.String())
	}
}

// TestBuiltInConfigWithoutVariables: check, route and test judge the
// built-in config's rules without its two variables; serve, and check
// --strict, refuse it naming both.
func TestBuiltInConfigWithoutVariables(t *testing.T) {
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, v := range []string{"META_VERIFY_TOKEN", "META_APP_SECRET"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	unset := []string{
		"embedded:config.example.yaml:10:17: environment variable META_VERIFY_TOKEN is not set",
		"embedded:config.example.yaml:13:17: environment variable META_APP_SECRET is not set",
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string
		wantErr []string
	}{
		{"check", []string{"check"}, ExitOK, "embedded:config.example.yaml: OK: 7 rules in 1 file, 3 sinks; 2 warnings", []string{
			"embedded:config.example.yaml:10:17: warning: environment variable META_VERIFY_TOKEN is not set",
			"embedded:config.example.yaml:13:17: warning: environment variable META_APP_SECRET is not set"}},
		{"check --strict", []string{"check", "--strict"}, ExitFailure, "", append(unset, "embedded:config.example.yaml: 2 errors")},
		{"serve", []string{"serve"}, ExitFailure, "", unset},
		{"route", []string{"route", "-"}, ExitOK, `rule "account-restricted" → oncall-pagerduty [critical, incident opened]`, []string{"route: no --config: using the built-in copy"}},
		{"test", []string{"test", filepath.Join(testdata, "rules", "example_test.yaml")}, ExitOK, "18 passed, 0 failed", []string{"test: no --config: using the built-in copy"}},
	}
	restriction, err := os.ReadFile(filepath.Join(testdata, "webhooks", "seed_account_restriction.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, IO{In: bytes.NewReader(restriction), Out: &out, Err: &errOut})
			if code != tt.code || !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nwant %q\nstderr: %s", code, tt.code, out.String(), tt.wantOut, errOut.String())
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr:\n%s\nwant %q", errOut.String(), want)
				}
			}
		})
	}
	if _, err := os.Stat("data"); err == nil {
		t.Error("a command that refused to start, or only judged, created ./data")
	}
}
