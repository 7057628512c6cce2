package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// memorySampler records a process's VmRSS while it runs.
type memorySampler struct {
	pid int

	mu      sync.Mutex
	rssMax  int64 // kB, sampled
	samples int
}

// run samples every interval until ctx ends.
func (s *memorySampler) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if rss, _ := procStatusKB(s.pid, "VmRSS"); rss > 0 {
			s.mu.Lock()
			s.rssMax = max(s.rssMax, rss)
			s.samples++
			s.mu.Unlock()
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

// stopSummary stops p with SIGTERM and says how it ended.
func stopSummary(p *e2etest.Process, grace time.Duration) string {
	if p.Exited() {
		return fmt.Sprintf("had already exited: %v", p.ExitErr())
	}
	err := p.Stop(grace)
	switch {
	case errors.Is(err, e2etest.ErrStopTimeout):
		return fmt.Sprintf("did not exit within %v of SIGTERM; killed", grace)
	case err != nil:
		return fmt.Sprintf("SIGTERM: %v", err)
	}
	return "SIGTERM: exited 0"
}

// logSummary counts the router's log lines by level, and its warnings and
// errors by message, keeping the first line of each kind as an example.
// It streams the log from disk: a load run's log is long.
func logSummary(p *e2etest.Process, keep int) (map[string]int, []string) {
	counts := map[string]int{}
	type kind struct {
		n     int
		first string
	}
	kinds := map[string]*kind{}
	var order []string
	err := p.ScanLog(func(line string) {
		level := "other"
		if _, rest, ok := strings.Cut(line, " level="); ok {
			level, _, _ = strings.Cut(rest, " ")
		}
		counts[level]++
		if level != "WARN" && level != "ERROR" {
			return
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
	})
	if err != nil {
		return nil, nil
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

// routerScrape is one scrape of the router's /metrics: its wabarouter_*
// sample lines as served, for the report, and the parsed values.
type routerScrape struct {
	lines  []string
	values e2etest.Metrics
}

// scrapeRouter scrapes base's /metrics with the harness's scraper; ok is
// false when the router does not serve it.
func scrapeRouter(ctx context.Context, client *http.Client, base string) (routerScrape, bool) {
	b, err := e2etest.ScrapeText(ctx, client, base)
	if err != nil {
		return routerScrape{}, false
	}
	var s routerScrape
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "wabarouter_") {
			s.lines = append(s.lines, line)
		}
	}
	if s.values, err = e2etest.ParseMetrics(bytes.NewReader(b)); err != nil {
		return s, false
	}
	return s, true
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

// viewOf is the pipeline as scrape s shows it; nil when s has no
// wabarouter samples.
func viewOf(at string, s routerScrape) *pipelineView {
	if len(s.lines) == 0 {
		return nil
	}
	m := s.values
	return &pipelineView{At: at,
		WebhooksAccepted:     m.Get("wabarouter_webhooks_accepted_total"),
		NotificationsCreated: m.SumWith("wabarouter_notifications_total", "outcome", "created"),
		NotificationsSent:    m.SumWith("wabarouter_notifications_total", "outcome", "sent"),
		OutboxPending:        m.Sum("wabarouter_outbox_pending"),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
