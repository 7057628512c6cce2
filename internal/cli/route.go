package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// routeLine is one line of route's output under an event, and one object
// of `route --format json`: a notification that would be sent (or that
// its sink would skip), or a rule that failed on the event, which carries
// Error and no sink. What route decides is built into these first and
// written in one place, so the deciding can change without the output.
type routeLine struct {
	Payload  string `json:"payload"`
	Field    string `json:"field"`
	Event    string `json:"event"`
	Rule     string `json:"rule"`
	Sink     string `json:"sink,omitempty"`
	Severity string `json:"severity,omitempty"`
	Action   string `json:"action,omitempty"`
	DedupKey string `json:"dedup_key,omitempty"`
	Title    string `json:"title,omitempty"`
	// Skipped says why the sink would not send it, e.g. its min_severity.
	Skipped string `json:"skipped,omitempty"`
	// Error says why the rule failed on the event.
	Error string `json:"error,omitempty"`
}

// routedEvent is one event of a payload and the lines route shows for it.
type routedEvent struct {
	payload string
	index   int // from 1, as people count
	ev      event.Event
	lines   []routeLine
}

// failedRules counts the rules that failed on the event.
func (r routedEvent) failedRules() int {
	n := 0
	for _, l := range r.lines {
		if l.Error != "" {
			n++
		}
	}
	return n
}

// routeEvent decides what route shows for one event.
func routeEvent(payload string, index int, ev event.Event, set *rules.Set, minSeverity map[string]notification.Severity, now time.Time) routedEvent {
	r := routedEvent{payload: payload, index: index, ev: ev}
	matches, errs := set.Evaluate(ev)
	for _, err := range errs {
		line := routeLine{Payload: payload, Field: ev.Field, Event: ev.Event, Error: err.Error()}
		var re *rules.RuleError
		if errors.As(err, &re) {
			line.Rule, line.Error = re.Rule, re.Err.Error()
		}
		r.lines = append(r.lines, line)
	}
	for _, m := range matches {
		for _, n := range m.Notifications(now) {
			line := routeLine{Payload: payload, Field: ev.Field, Event: ev.Event, Rule: n.Rule, Sink: n.Sink,
				Severity: n.Severity.String(), Action: string(n.Action), DedupKey: n.DedupKey, Title: n.Title}
			if n.Severity < minSeverity[n.Sink] {
				line.Skipped = "below the sink's min_severity " + minSeverity[n.Sink].String()
			}
			r.lines = append(r.lines, line)
		}
	}
	return r
}

// writeText writes the event's heading and one entry per line.
func (r routedEvent) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s: event %d: %s/%s\n", r.payload, r.index, r.ev.Field, r.ev.Event)
	sent := 0
	for _, l := range r.lines {
		if l.Error != "" {
			// expr's errors point at the column on lines of their own;
			// indented, they stay under their rule.
			fmt.Fprintf(w, "  rule %q FAILED: %s\n", l.Rule, strings.ReplaceAll(l.Error, "\n", "\n    "))
			continue
		}
		sent++
		skipped := ""
		if l.Skipped != "" {
			skipped = " — not sent: " + l.Skipped
		}
		fmt.Fprintf(w, "  rule %q → %s [%s, %s] dedup %q%s\n    %s\n", l.Rule, l.Sink, l.Severity, l.Action, l.DedupKey, skipped, l.Title)
	}
	switch {
	case sent == 0 && r.failedRules() > 0:
		fmt.Fprintln(w, "  no other rule matched; nothing would be sent")
	case sent == 0:
		fmt.Fprintln(w, "  no rule matched; nothing would be sent")
	}
}

// writeJSON writes one object per line; an event without any has none.
func (r routedEvent) writeJSON(enc *json.Encoder) error {
	for _, l := range r.lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("writing route output: %w", err)
		}
	}
	return nil
}

func runRoute(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("route", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	format := fs.String("format", "text", "output format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	switch {
	case fs.NArg() == 0:
		return usageFailure(stdio, "route", "name at least one PAYLOAD file (- for standard input)")
	case *format != "text" && *format != "json":
		return usageFailure(stdio, "route", fmt.Sprintf("--format %q: want text or json", *format))
	}
	if *configPath == "" {
		fmt.Fprintln(stdio.Err, "route: "+embeddedNote)
	}
	cfg, set, warnings, err := loadRouting(*configPath, config.ForRules)
	printWarnings(stdio.Err, warnings)
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
	failed := 0
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
			r := routeEvent(name, i+1, ev, set, minSeverity, time.Now())
			failed += r.failedRules()
			if *format == "json" {
				if err := r.writeJSON(enc); err != nil {
					fmt.Fprintf(stdio.Err, "route: %v\n", err)
					return ExitFailure
				}
				continue
			}
			r.writeText(stdio.Out)
		}
	}
	if failed > 0 {
		// serve would count these in wabarouter_rule_errors_total and
		// route around them; a dry run must not pass over them.
		where := "the FAILED lines"
		if *format == "json" {
			where = `the objects with "error"`
		}
		fmt.Fprintf(stdio.Err, "route: %s failed on an event; see %s\n", count(failed, "rule"), where)
		code = ExitFailure
	}
	return code
}
