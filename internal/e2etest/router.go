package e2etest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartTimeout bounds how long Launch waits for a serve process to log the
// address it listens on.
const StartTimeout = 30 * time.Second

// CommandTimeout bounds one run of a subcommand.
const CommandTimeout = 60 * time.Second

// ErrStopTimeout is wrapped by Process.Stop when the process did not exit
// within its grace period after SIGTERM and was killed.
var ErrStopTimeout = errors.New("did not exit after SIGTERM")

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// Options describe an installation of the router.
type Options struct {
	// Binary is the wabarouter binary to run. Setup defaults it to
	// Binary(t).
	Binary string
	// Dir holds the config file and the processes' logs, and is where a
	// test usually puts the store. Setup defaults it to t.TempDir().
	Dir string
	// Config is the YAML written to Dir/config.yaml.
	Config string
	// Env is added to this process's environment for every serve process
	// and subcommand, e.g. "META_APP_SECRET=x".
	Env []string
}

// Router is one installation of wabarouter: a binary, a folder, a config
// file and an environment. Its serve processes are started one at a time
// on the same config and store, so a test can stop or kill one and start
// the next.
type Router struct {
	bin, dir, cfgPath string
	env               []string

	mu      sync.Mutex
	runs    int
	current *Process
}

// New writes o.Config to o.Dir/config.yaml and returns the installation.
// o.Binary and o.Dir are required.
func New(o Options) (*Router, error) {
	if o.Binary == "" || o.Dir == "" {
		return nil, errors.New("e2etest.New: Options.Binary and Options.Dir are required")
	}
	r := &Router{bin: o.Binary, dir: o.Dir, cfgPath: filepath.Join(o.Dir, "config.yaml"), env: o.Env}
	if err := r.WriteConfig(o.Config); err != nil {
		return nil, err
	}
	return r, nil
}

// Setup is New for a test: it builds or reuses the binary (Binary),
// defaults the folder to a fresh t.TempDir() and fails t on an error.
// Processes started with Router.Start are killed when the test ends.
func Setup(t TB, o Options) *Router {
	t.Helper()
	if o.Binary == "" {
		o.Binary = Binary(t)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	r, err := New(o)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return r
}

// Dir is the installation's folder.
func (r *Router) Dir() string { return r.dir }

// ConfigPath is the config file every process and subcommand is given.
func (r *Router) ConfigPath() string { return r.cfgPath }

// BinaryPath is the wabarouter binary the installation runs.
func (r *Router) BinaryPath() string { return r.bin }

// WriteConfig replaces the config file, e.g. to test a reload.
func (r *Router) WriteConfig(yaml string) error {
	if err := os.WriteFile(r.cfgPath, []byte(yaml), 0o600); err != nil {
		return fmt.Errorf("writing the router config %s: %w", r.cfgPath, err)
	}
	return nil
}

// Launch starts `wabarouter serve --config ConfigPath()` and waits until it
// logs its listening address. Its stdout and stderr go to a file of their
// own in Dir (router-1.log, router-2.log, … one per process), which the
// Process reads line by line; the harness spends no CPU on the lines until
// they are asked for. Launch refuses to start a second process while the
// previous one runs, since both would open one store. ctx bounds only the
// wait for the address; the process lives until stopped or killed.
func (r *Router) Launch(ctx context.Context) (*Process, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != nil && !r.current.Exited() {
		return nil, fmt.Errorf("the previous serve process (pid %d) still runs; stop or kill it before starting another on the same store", r.current.PID())
	}
	r.runs++
	logPath := filepath.Join(r.dir, fmt.Sprintf("router-%d.log", r.runs))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the router log: %w", err)
	}
	// The child holds its own copy of the descriptor.
	defer func() { _ = logFile.Close() }()
	p := &Process{cmd: exec.Command(r.bin, "serve", "--config", r.cfgPath), log: logReader{path: logPath}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), r.env...)
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s serve: %w", r.bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	r.current = p

	deadline := time.NewTimer(StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := p.findAddr(); addr != "" {
			p.addr = addr
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("router exited before listening (%s):\n%s", exitText(p.waitErr), p.Tail(20))
		case <-deadline.C:
			_ = p.Kill()
			return nil, fmt.Errorf("router did not log its address within %v:\n%s", StartTimeout, p.Tail(20))
		case <-ctx.Done():
			_ = p.Kill()
			return nil, fmt.Errorf("waiting for the router's address: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Start is Launch for a test: it fails t if the process does not come up,
// and kills it when the test ends if it still runs then.
func (r *Router) Start(t TB) *Process {
	t.Helper()
	p, err := r.Launch(context.Background())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if !p.Exited() {
			_ = p.Kill()
		}
		if t.Failed() {
			t.Logf("log of router pid %d (%s), last lines:\n%s", p.PID(), p.LogPath(), p.Tail(60))
		}
	})
	return p
}

// CommandResult is how a subcommand ended and what it printed.
type CommandResult struct {
	Code           int
	Stdout, Stderr string
}

// Output is the subcommand's stdout and stderr together, for messages.
func (c CommandResult) Output() string { return c.Stdout + c.Stderr }

// Command runs `wabarouter SUBCOMMAND --config ConfigPath() ARGS…` (args[0]
// is the subcommand) with the installation's environment. A non-zero exit
// is a result, not an error; the error is for a command that could not
// run.
func (r *Router) Command(ctx context.Context, args ...string) (CommandResult, error) {
	if len(args) == 0 {
		return CommandResult{}, errors.New("e2etest: Command needs a subcommand")
	}
	full := append([]string{args[0], "--config", r.cfgPath}, args[1:]...)
	return r.CommandBare(ctx, full...)
}

// CommandBare runs the binary with exactly args and the installation's
// environment, for commands that take no config (healthcheck, version).
func (r *Router) CommandBare(ctx context.Context, args ...string) (CommandResult, error) {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = append(os.Environ(), r.env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := CommandResult{Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || ctx.Err() != nil {
			return res, fmt.Errorf("running wabarouter %s: %w", strings.Join(args, " "), err)
		}
		res.Code = exit.ExitCode()
	}
	return res, nil
}

// Run is Command for a test; it fails t only if the command could not run.
func (r *Router) Run(t TB, args ...string) CommandResult {
	t.Helper()
	res, err := r.Command(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output())
	}
	return res
}

// RunBare is CommandBare for a test.
func (r *Router) RunBare(t TB, args ...string) CommandResult {
	t.Helper()
	res, err := r.CommandBare(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output())
	}
	return res
}

// Process is one running (or exited) serve process of a Router.
type Process struct {
	cmd     *exec.Cmd
	addr    string
	log     logReader
	done    chan struct{}
	waitErr error
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Addr is the host:port the process listens on.
func (p *Process) Addr() string { return p.addr }

// URL is the process's base URL followed by path, e.g. URL("/webhook").
func (p *Process) URL(path string) string { return "http://" + p.addr + path }

// LogPath is the file the process's stdout and stderr go to.
func (p *Process) LogPath() string { return p.log.path }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is how the process exited (nil for status 0), once Done is
// closed; before that it is nil.
func (p *Process) ExitErr() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling router pid %d: %w", p.PID(), err)
	}
	return nil
}

// Stop sends SIGTERM and waits up to grace for the process to exit. It
// returns the exit error (nil for status 0); if the process had exited
// already, that earlier exit's error; if it did not exit in time, it is
// killed and the error wraps ErrStopTimeout.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return p.waitErr
	}
	if err := p.Signal(syscall.SIGTERM); err != nil && !p.Exited() {
		return err
	}
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(grace):
		_ = p.Kill()
		return fmt.Errorf("%w: router pid %d did not exit within %v of SIGTERM; killed", ErrStopTimeout, p.PID(), grace)
	}
}

// Kill sends SIGKILL, as a crash would, and waits for the process to be
// gone.
func (p *Process) Kill() error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !p.Exited() {
		return fmt.Errorf("killing router pid %d: %w", p.PID(), err)
	}
	<-p.done
	return nil
}

func (p *Process) findAddr() string {
	for _, line := range p.log.lines() {
		if m := listeningRE.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

// exitText says how a process ended: its exit error, or "exit 0".
func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}
