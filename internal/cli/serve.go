package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

func runServe(ctx context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *configPath == "" {
		fmt.Fprintln(stdio.Err, "serve: --config FILE is required")
		return ExitUsage
	}
	cfg, set, err := loadRouting(*configPath)
	if err != nil {
		for _, line := range errorLines(err) {
			fmt.Fprintln(stdio.Err, line)
		}
		return ExitFailure
	}
	logger := newLogger(stdio.Err, cfg.Log)
	pipeline, err := app.NewPipeline(ctx, cfg, set, logger)
	if err != nil {
		for _, line := range errorLines(err) {
			fmt.Fprintln(stdio.Err, line)
		}
		return ExitFailure
	}
	load := func() (*rules.Set, []string, error) {
		cfg, set, err := loadRouting(*configPath)
		if err != nil {
			return nil, nil, err
		}
		return set, append([]string{*configPath}, cfg.RuleFiles...), nil
	}
	reloader := app.NewReloader(pipeline.Registry(), load, append([]string{*configPath}, cfg.RuleFiles...),
		pipeline.SetRules, logger.With("component", "reload"))
	go reloader.Run(ctx, time.Second)
	if err := pipeline.Run(ctx); err != nil {
		logger.Error("router stopped", "err", err)
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
