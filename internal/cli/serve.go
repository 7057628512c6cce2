package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/wabarouter/wabarouter"
	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

func runServe(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("serve", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for go tool pprof)")
	blockProfile := fs.String("blockprofile", "", "write a profile of where goroutines blocked to this file at exit")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "serve", "serve takes no arguments")
	}
	stop, err := startProfiles(*cpuProfile, *blockProfile)
	if err != nil {
		fmt.Fprintf(stdio.Err, "serve: %v\n", err)
		return ExitFailure
	}
	defer func() {
		if err := stop(); err != nil {
			fmt.Fprintf(stdio.Err, "serve: %v\n", err)
		}
	}()
	// The same judgement as check --strict, so the two refuse alike.
	j := judge(*configPath, config.ForServe)
	if len(j.problems) > 0 {
		for _, line := range j.problems {
			fmt.Fprintln(stdio.Err, line)
		}
		return ExitFailure
	}
	cfg, set := j.cfg, j.set
	logger := newLogger(stdio.Err, cfg.Log)
	if *configPath == "" {
		logger.InfoContext(ctx, "no --config: using the built-in copy of "+wabarouter.DefaultConfig, "rules", embeddedPrefix+"rules.example.yaml", "store", cfg.Store.Path)
	}
	pipeline, err := app.NewPipeline(ctx, cfg, set, logger)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	running := cfg.SinkNames()
	load := func() (*rules.Set, []string, error) {
		cfg, set, _, err := loadRouting(*configPath, config.ForServe)
		if err != nil {
			return nil, nil, err
		}
		if err := rulesUseRunningSinks(set, running); err != nil {
			return nil, nil, err
		}
		return set, watchList(*configPath, cfg.RuleFiles, cfg.AccountsFile), nil
	}
	reloader := app.NewReloader(pipeline.Registry(), load, watchList(*configPath, cfg.RuleFiles, cfg.AccountsFile),
		pipeline.SetRules, logger.With("component", "reload"))
	go reloader.Run(ctx, time.Second)
	if err := pipeline.Run(ctx); err != nil {
		logger.ErrorContext(ctx, "router stopped", "err", err)
		return ExitFailure
	}
	return ExitOK
}

// newLogger builds the router's log from the config's log section. The
// level is fixed at start: a reload changes rules, not the log.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// rulesUseRunningSinks refuses reloaded rules that send to a sink the
// router did not start with: sinks are built once, at start, and a rule
// sending to one that is not running would queue notifications nobody
// delivers.
func rulesUseRunningSinks(set *rules.Set, running []string) error {
	var errs []error
	for _, r := range set.Rules {
		for _, sink := range r.To {
			if !slices.Contains(running, sink) {
				errs = append(errs, fmt.Errorf("%s:%d: rule %q: sink %q was added to the config after the router started; "+
					"new sinks take effect on restart", r.File, r.Line, r.Name, sink))
			}
		}
	}
	return errors.Join(errs...)
}

// watchList is what the reloader polls: the config, the rules files, the
// accounts file and their folders, whose modification time changes when a
// file is added, so a new file matching a rules glob is picked up too. The
// built-in config (no configPath) cannot change, so nothing is watched.
func watchList(configPath string, ruleFiles []string, accountsFile string) []string {
	if configPath == "" {
		return nil
	}
	files := append([]string{configPath}, ruleFiles...)
	if accountsFile != "" {
		files = append(files, accountsFile)
	}
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return append(files, dirs...)
}
