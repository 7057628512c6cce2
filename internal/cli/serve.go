package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/wabarouter/wabarouter/internal/app"
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
	go reloadOnHangup(ctx, *configPath, pipeline, logger.With("component", "reload"))
	if err := pipeline.Run(ctx); err != nil {
		logger.Error("router stopped", "err", err)
		return ExitFailure
	}
	return ExitOK
}

// reloadOnHangup reloads the rules on SIGHUP. Rules that fail to load are
// reported line by line and the running rules stay in force, so a broken
// edit never stops routing.
func reloadOnHangup(ctx context.Context, path string, p *app.Pipeline, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		_, set, err := loadRouting(path)
		if err != nil {
			for _, line := range errorLines(err) {
				log.Error("reload failed; keeping the running rules", "problem", line)
			}
			continue
		}
		p.SetRules(set)
		log.Info("rules reloaded", "rules", len(set.Rules))
	}
}
