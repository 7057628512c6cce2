package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
)

// notifyTestTimeout bounds the whole send so a silent peer cannot hang a
// person waiting at a terminal.
const notifyTestTimeout = 30 * time.Second

func runNotifyTest(ctx context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("notify-test", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	name := fs.String("sink", "", "name of the sink to test (required)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if *configPath == "" || *name == "" || fs.NArg() != 0 {
		fmt.Fprintln(stdio.Err, "usage: wabarouter notify-test --config FILE --sink NAME")
		return ExitUsage
	}
	// Only the config is loaded, and only the named sink must be
	// complete: a sink can be checked while the rules are still being
	// written, without the server's or the other sinks' secrets.
	cfg, warnings, err := config.LoadFor(*configPath, config.Options{Purpose: config.ForSink, Sink: *name})
	printWarnings(stdio.Err, warnings)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	var sc *config.Sink
	for i := range cfg.Sinks {
		if cfg.Sinks[i].Name == *name {
			sc = &cfg.Sinks[i]
		}
	}
	if sc == nil {
		defined := "none"
		if names := cfg.SinkNames(); len(names) > 0 {
			defined = strings.Join(names, ", ")
		}
		fmt.Fprintf(stdio.Err, "notify-test: no sink named %q in %s; defined sinks: %s\n", *name, *configPath, defined)
		return ExitUsage
	}
	// Build only the named sink, so another sink's bad settings (or a log
	// file it would open) do not get in the way. Its min_severity is
	// lifted: a test held back by it would prove nothing about the sink.
	only := *cfg
	one := *sc
	one.MinSeverity = notification.Info
	only.Sinks = []config.Sink{one}
	built, err := app.BuildSinks(&only)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	sink := built[*name]
	defer closeQuietly(stdio, "sink "+*name, sink)
	n, err := testNotification(*name, time.Now().UTC())
	if err != nil {
		fmt.Fprintf(stdio.Err, "notify-test: %v\n", err)
		return ExitFailure
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTestTimeout)
	defer cancel()
	receipt, err := sink.Send(ctx, sinks.Delivery{Notification: n})
	if err != nil {
		// Sinks keep secrets out of their errors, so err is printed as is.
		fmt.Fprintf(stdio.Err, "sink %s failed: %v\n", *name, err)
		explainFailure(stdio.Err, err)
		return ExitFailure
	}
	fmt.Fprintf(stdio.Out, "sink %s answered: %s %s\n", *name, receipt.Ref, receipt.Detail)
	if typ, _ := registry.Lookup(sc.Type); typ.Capabilities == nil || !typ.Capabilities(sc.Given).StaysOpen {
		return ExitOK
	}
	// The trigger opened an incident that pages whoever is on call until
	// someone closes it; close it now, under the same dedup key.
	resolve := n
	resolve.ID = n.ID + "-resolve"
	resolve.Action = notification.Resolve
	resolve.CreatedAt = time.Now().UTC()
	receipt, err = sink.Send(ctx, sinks.Delivery{Notification: resolve})
	if err != nil {
		fmt.Fprintf(stdio.Err, "sink %s took the test trigger but failed to resolve it: %v\n", *name, err)
		explainFailure(stdio.Err, err)
		fmt.Fprintf(stdio.Err, "resolve the incident with dedup key %q in PagerDuty by hand\n", n.DedupKey)
		return ExitFailure
	}
	fmt.Fprintf(stdio.Out, "sink %s resolved the test incident: %s %s\n", *name, receipt.Ref, receipt.Detail)
	return ExitOK
}

// explainFailure says whether serve would retry a failed send.
func explainFailure(w io.Writer, err error) {
	if retry, after := sinks.IsRetryable(err); retry {
		wait := ""
		if after > 0 {
			wait = fmt.Sprintf(" (it asked to wait %s)", after)
		}
		fmt.Fprintf(w, "the error is retryable: serve would try again later%s\n", wait)
	} else {
		fmt.Fprintln(w, "the error is permanent: retrying will not help; check the sink's settings")
	}
}

// testNotification is what notify-test sends; Test marks it so every sink
// can label it as a test and no receiver mistakes it for an incident.
func testNotification(sink string, now time.Time) (notification.Notification, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return notification.Notification{}, fmt.Errorf("random id: %w", err)
	}
	return notification.Notification{
		ID:       hex.EncodeToString(id),
		Sink:     sink,
		Rule:     "notify-test",
		Severity: notification.Info,
		Action:   notification.Trigger,
		Title:    fmt.Sprintf("wabarouter test notification: if you can read this, sink %s works", sink),
		Body: fmt.Sprintf("This is a test notification sent by `wabarouter notify-test` to check the settings of sink %s. "+
			"No WhatsApp Business Account event caused it and no action is needed.", sink),
		DedupKey:  "wabarouter-notify-test/" + sink,
		Test:      true,
		CreatedAt: now,
		Event:     event.Event{Object: event.ObjectWABA, WabaID: "0", Time: now, Field: "test", Event: "NOTIFY_TEST"},
	}, nil
}
