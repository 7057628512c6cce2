package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
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
	logger := slog.New(slog.NewTextHandler(stdio.Err, nil))
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
