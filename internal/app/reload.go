package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wabarouter/wabarouter/internal/rules"
)

// LoadFunc loads the rules anew and returns them with every file they came
// from (the config file included), so the reloader knows what to watch.
type LoadFunc func() (set *rules.Set, files []string, err error)

// Reloader swaps in new rules on SIGHUP or when a watched file changes. A
// load that fails leaves the running rules in force: a broken edit is
// reported, never applied.
type Reloader struct {
	load  LoadFunc
	apply func(*rules.Set)
	log   *slog.Logger
	files []string
	seen  string // the watched files' sizes and times at the last load

	success   prometheus.Gauge
	successAt prometheus.Gauge
}

// NewReloader returns a reloader for rules loaded from files, registering
// its gauges (named as Alertmanager's, which operators already alert on).
func NewReloader(reg prometheus.Registerer, load LoadFunc, files []string, apply func(*rules.Set), log *slog.Logger) *Reloader {
	r := &Reloader{load: load, apply: apply, log: log, files: files, seen: fingerprint(files),
		success: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wabarouter_config_last_reload_successful",
			Help: "Whether the last reload of config and rules succeeded (1) or was refused (0)."}),
		successAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wabarouter_config_last_reload_success_timestamp_seconds",
			Help: "When config and rules were last loaded successfully."}),
	}
	reg.MustRegister(r.success, r.successAt)
	r.success.Set(1)
	r.successAt.SetToCurrentTime()
	return r
}

// Run reloads on SIGHUP and whenever a watched file changes, until ctx ends.
func (r *Reloader) Run(ctx context.Context, poll time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.Reload(ctx, "SIGHUP")
		case <-tick.C:
			if fp := fingerprint(r.files); fp != r.seen {
				r.seen = fp
				r.Reload(ctx, "file changed")
			}
		}
	}
}

// Reload loads and applies the rules once, reporting why it was asked to.
func (r *Reloader) Reload(ctx context.Context, why string) bool {
	set, files, err := r.load()
	if err != nil {
		r.success.Set(0)
		for _, line := range strings.Split(err.Error(), "\n") {
			r.log.ErrorContext(ctx, "reload refused; the running rules stay in force", "trigger", why, "problem", line)
		}
		return false
	}
	r.apply(set)
	r.files = files
	r.seen = fingerprint(files)
	r.success.Set(1)
	r.successAt.SetToCurrentTime()
	r.log.InfoContext(ctx, "rules reloaded", "trigger", why, "rules", len(set.Rules))
	return true
}

// fingerprint summarises files by size and modification time; polling it is
// portable and needs no watcher library, at the cost of a second's delay.
func fingerprint(files []string) string {
	var b strings.Builder
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			fmt.Fprintf(&b, "%s:missing;", f)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", f, st.Size(), st.ModTime().UnixNano())
	}
	return b.String()
}
