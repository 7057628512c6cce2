package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/webhook"
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
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stdio.Err, err)
		return ExitFailure
	}
	logger := slog.New(slog.NewTextHandler(stdio.Err, nil))
	secrets := make([]string, len(cfg.Server.AppSecrets))
	for i, s := range cfg.Server.AppSecrets {
		secrets[i] = s.Reveal()
	}
	handler := webhook.NewHandler(webhook.Options{
		VerifyToken:  cfg.Server.VerifyToken.Reveal(),
		AppSecrets:   secrets,
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Validate:     validatePayload,
		Acceptor:     eventLogger{logger: logger.With("component", "intake")},
		Logger:       logger.With("component", "webhook"),
	})
	if err := app.NewServer(cfg.Server.Listen, handler, logger).Run(ctx); err != nil {
		logger.Error("server stopped", "err", err)
		return ExitFailure
	}
	return ExitOK
}

// validatePayload refuses a body that is not a WABA webhook at all; a body
// with one unreadable change is still accepted, so its siblings are routed.
func validatePayload(body []byte) error {
	_, err := event.Parse(body)
	if errors.Is(err, event.ErrNotJSON) || errors.Is(err, event.ErrNotWebhook) || errors.Is(err, event.ErrWrongObject) {
		return err
	}
	return nil
}

// eventLogger is the acceptor until routing exists: it parses the verified
// body and logs each event, so a user sees what the router understood.
type eventLogger struct{ logger *slog.Logger }

func (a eventLogger) Accept(ctx context.Context, body []byte) error {
	events, err := event.Parse(body)
	for _, ev := range events {
		a.logger.InfoContext(ctx, "event", "waba_id", ev.WabaID, "field", ev.Field, "event", ev.Event,
			"phone_number", ev.PhoneNumber, "types", ev.Types, "warnings", len(ev.Warnings))
	}
	if err != nil {
		a.logger.WarnContext(ctx, "changes not readable", "err", err)
	}
	return nil
}
