package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// routerProc is a wabarouter serve process the tool started. Its stderr
// goes to a file, not a pipe, so the tool spends no CPU reading the
// router's per-notification log lines while it measures; the file is
// scanned for the listening address at start and for warnings at the end.
type routerProc struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{}
	waitErr error

	mu      sync.Mutex
	rssMax  int64 // kB, sampled
	samples int
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// routerConfig is the YAML the tool runs the router on: the catch-all rule
// sends every event, with no dedup, to the fake sink.
func routerConfig(dir, verifyToken, appSecret, sinkURL, sinkSecret string) (string, error) {
	rulesPath := filepath.Join(dir, "rules.yaml")
	rules := `rules:
  - name: wabaload-every-event
    description: every event, so each webhook is one notification per event
    when: "true"
    to: [fake]
`
	if err := os.WriteFile(rulesPath, []byte(rules), 0o600); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%s]
store:
  path: %s
rules: [%s]
sinks:
  - name: fake
    type: webhook
    url: %s
    secret: %s
`, strconv.Quote(verifyToken), strconv.Quote(appSecret), strconv.Quote(filepath.Join(dir, "router.db")),
		strconv.Quote(rulesPath), strconv.Quote(sinkURL), strconv.Quote(sinkSecret))
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return "", err
	}
	return cfgPath, nil
}

// startRouter runs bin serve --config cfgPath and waits for its address.
func startRouter(ctx context.Context, bin, cfgPath, dir string) (*routerProc, error) {
	logPath := filepath.Join(dir, "router.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r := &routerProc{cmd: exec.Command(bin, "serve", "--config", cfgPath), logPath: logPath, done: make(chan struct{})}
	r.cmd.Stdout = logFile
	r.cmd.Stderr = logFile
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.done)
	}()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := r.findAddr(); addr != "" {
			r.addr = addr
			return r, nil
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("router exited before listening (%v):\n%s", r.waitErr, r.tail(20))
		case <-deadline.C:
			r.kill()
			return nil, fmt.Errorf("router did not log its address within 20s:\n%s", r.tail(20))
		case <-ctx.Done():
			r.kill()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func (r *routerProc) findAddr() string {
	f, err := os.Open(r.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

func (r *routerProc) tail(n int) string {
	b, _ := os.ReadFile(r.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r *routerProc) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// stop sends SIGTERM and waits up to grace for a clean exit, then kills.
func (r *routerProc) stop(grace time.Duration) string {
	select {
	case <-r.done:
		return fmt.Sprintf("had already exited: %v", r.waitErr)
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		if r.waitErr != nil {
			return fmt.Sprintf("SIGTERM: %v", r.waitErr)
		}
		return "SIGTERM: exited 0"
	case <-time.After(grace):
		r.kill()
		return fmt.Sprintf("did not exit within %v of SIGTERM; killed", grace)
	}
}

// sampleMemory records the router's VmRSS every interval until ctx ends.
func (r *routerProc) sampleMemory(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if rss, _ := procStatusKB(r.cmd.Process.Pid, "VmRSS"); rss > 0 {
			r.mu.Lock()
			r.rssMax = max(r.rssMax, rss)
			r.samples++
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// procStatusKB reads one "Key:   123 kB" line of /proc/PID/status.
func procStatusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// procCPU returns user+system CPU time of pid from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields are counted after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const clkTck = 100 // USER_HZ on every Linux ABI Go supports
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// selfCPU is the tool's own user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// logSummary counts the router's log lines by level, and its warnings and
// errors by message, keeping the first line of each kind as an example.
func (r *routerProc) logSummary(keep int) (map[string]int, []string) {
	f, err := os.Open(r.logPath)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	counts := map[string]int{}
	type kind struct {
		n     int
		first string
	}
	kinds := map[string]*kind{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		level := "other"
		if _, rest, ok := strings.Cut(line, " level="); ok {
			level, _, _ = strings.Cut(rest, " ")
		}
		counts[level]++
		if level != "WARN" && level != "ERROR" {
			continue
		}
		msg := line
		if _, rest, ok := strings.Cut(line, " msg="); ok {
			msg = rest
			if strings.HasPrefix(rest, `"`) {
				if end := strings.Index(rest[1:], `"`); end >= 0 {
					msg = rest[:end+2]
				}
			} else {
				msg, _, _ = strings.Cut(rest, " ")
			}
		}
		key := level + " " + msg
		k, ok := kinds[key]
		if !ok {
			k = &kind{first: line}
			kinds[key] = k
			order = append(order, key)
		}
		k.n++
	}
	var notable []string
	for _, key := range order {
		if len(notable) == keep {
			notable = append(notable, fmt.Sprintf("… and %d more kinds of warning or error", len(order)-keep))
			break
		}
		k := kinds[key]
		notable = append(notable, fmt.Sprintf("%d× %s", k.n, truncate(k.first, 400)))
	}
	return counts, notable
}

// scrapeMetrics returns the wabarouter_* samples of /metrics, if served.
func scrapeMetrics(client *http.Client, base string) []string {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "wabarouter_") {
			out = append(out, line)
		}
	}
	return out
}

// pipelineView is where the router's own counters say the work is, read
// from /metrics when it serves these series (zero values when it does not).
type pipelineView struct {
	At                   string  `json:"at"`
	WebhooksAccepted     float64 `json:"webhooks_accepted"`
	NotificationsCreated float64 `json:"notifications_created"`
	NotificationsSent    float64 `json:"notifications_sent"`
	OutboxPending        float64 `json:"outbox_pending"`
}

func viewOf(at string, samples []string) *pipelineView {
	v := &pipelineView{At: at}
	found := false
	for _, line := range samples {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		found = true
		switch {
		case name == "wabarouter_webhooks_accepted_total":
			v.WebhooksAccepted = f
		case strings.HasPrefix(name, "wabarouter_notifications_total{") && strings.Contains(name, `outcome="created"`):
			v.NotificationsCreated += f
		case strings.HasPrefix(name, "wabarouter_notifications_total{") && strings.Contains(name, `outcome="sent"`):
			v.NotificationsSent += f
		case strings.HasPrefix(name, "wabarouter_outbox_pending{"):
			v.OutboxPending += f
		}
	}
	if !found {
		return nil
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
