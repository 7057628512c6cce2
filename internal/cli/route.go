package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// routedNotification is one line of `route --format json`.
type routedNotification struct {
	Payload  string `json:"payload"`
	Field    string `json:"field"`
	Event    string `json:"event"`
	Rule     string `json:"rule"`
	Sink     string `json:"sink"`
	Severity string `json:"severity"`
	Action   string `json:"action"`
	DedupKey string `json:"dedup_key"`
	Title    string `json:"title"`
	// Skipped says why the sink would not send it, e.g. its min_severity.
	Skipped string `json:"skipped,omitempty"`
}

func runRoute(_ context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *configPath == "" || fs.NArg() == 0 || (*format != "text" && *format != "json") {
		fmt.Fprintln(stdio.Err, "usage: wabarouter route --config FILE [--format text|json] PAYLOAD...")
		return ExitUsage
	}
	cfg, set, err := loadRouting(*configPath)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	minSeverity := map[string]notification.Severity{}
	for _, sc := range cfg.Sinks {
		minSeverity[sc.Name] = sc.MinSeverity
	}
	enc := json.NewEncoder(stdio.Out)
	enc.SetEscapeHTML(false)
	code := ExitOK
	for _, name := range fs.Args() {
		body, err := readInput(name, stdio.In)
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
			code = ExitFailure
			continue
		}
		events, err := event.Parse(body)
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
			code = ExitFailure
		}
		for i, ev := range events {
			matches, errs := set.Evaluate(ev)
			for _, e := range errs {
				fmt.Fprintf(stdio.Err, "%s: event %d: %v\n", name, i+1, e)
			}
			if *format == "text" {
				fmt.Fprintf(stdio.Out, "%s: event %d: %s/%s\n", name, i+1, ev.Field, ev.Event)
				if len(matches) == 0 {
					fmt.Fprintln(stdio.Out, "  no rule matched; nothing would be sent")
				}
			}
			for _, m := range matches {
				for _, n := range m.Notifications(time.Now()) {
					r := routedNotification{Payload: name, Field: ev.Field, Event: ev.Event, Rule: n.Rule, Sink: n.Sink,
						Severity: n.Severity.String(), Action: string(n.Action), DedupKey: n.DedupKey, Title: n.Title}
					if n.Severity < minSeverity[n.Sink] {
						r.Skipped = "below the sink's min_severity " + minSeverity[n.Sink].String()
					}
					if *format == "json" {
						if err := enc.Encode(r); err != nil {
							return ExitFailure
						}
						continue
					}
					skipped := ""
					if r.Skipped != "" {
						skipped = " — not sent: " + r.Skipped
					}
					fmt.Fprintf(stdio.Out, "  rule %q → %s [%s, %s] dedup %q%s\n    %s\n", r.Rule, r.Sink, r.Severity, r.Action, r.DedupKey, skipped, r.Title)
				}
			}
		}
	}
	return code
}
