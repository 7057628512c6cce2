package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/router"
)

// routeLine is one line of route's output under an event, and one object
// of `route --format json`: a notification and what serve would do with
// it (queued, or not made and why), a rule that failed on the event
// (Error, no sink), or a redelivery. Lines are built from the dry run's
// decisions in one place, and written from there.
type routeLine struct {
	Payload  string `json:"payload"`
	Field    string `json:"field"`
	Event    string `json:"event"`
	Rule     string `json:"rule,omitempty"`
	Sink     string `json:"sink,omitempty"`
	Severity string `json:"severity,omitempty"`
	Action   string `json:"action,omitempty"`
	DedupKey string `json:"dedup_key,omitempty"`
	Title    string `json:"title,omitempty"`
	// Incident and Transition say which incident the notification is
	// about and what happened to it.
	Incident   string `json:"incident,omitempty"`
	Transition string `json:"transition,omitempty"`
	// Outcome is queued, or skipped (and Skipped says why).
	Outcome string `json:"outcome,omitempty"`
	// Skipped says why the notification would not be sent.
	Skipped string `json:"skipped,omitempty"`
	// HeldUntil is when a notification a schedule holds would go out
	// (RFC 3339, on the schedule's wall clock), and Held why.
	HeldUntil string `json:"held_until,omitempty"`
	Held      string `json:"held,omitempty"`
	// heldAt is HeldUntil as the text says it, with the zone's name.
	heldAt string
	// Error says why the rule failed on the event.
	Error string `json:"error,omitempty"`
	// Redelivery marks a change already routed: nothing would be sent.
	Redelivery bool `json:"redelivery,omitempty"`
	// KeptOpen says why the event, told late, leaves Incident open
	// rather than resolve it.
	KeptOpen string `json:"kept_open,omitempty"`
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
	return r.count(func(l routeLine) bool { return l.Error != "" })
}

// keptOpen counts the incidents the event, told late, leaves open.
func (r routedEvent) keptOpen() int {
	return r.count(func(l routeLine) bool { return l.KeptOpen != "" })
}

// count counts the event's lines that are.
func (r routedEvent) count(are func(routeLine) bool) int {
	n := 0
	for _, l := range r.lines {
		if are(l) {
			n++
		}
	}
	return n
}

// routeEvent turns the dry run's decision on one event into route's lines.
func routeEvent(payload string, index int, d router.Decision) routedEvent {
	ev := d.Event
	r := routedEvent{payload: payload, index: index, ev: ev}
	base := routeLine{Payload: payload, Field: ev.Field, Event: ev.Event}
	if d.Redelivery {
		line := base
		line.Redelivery = true
		r.lines = append(r.lines, line)
		return r
	}
	for _, f := range d.RuleErrors {
		line := base
		line.Rule, line.Error = f.Rule, f.Err.Error()
		r.lines = append(r.lines, line)
	}
	for _, nd := range d.Notifications {
		n := nd.Notification
		line := base
		line.Rule, line.Sink, line.Severity, line.Action = n.Rule, n.Sink, n.Severity.String(), string(n.Action)
		line.DedupKey, line.Title, line.Outcome = n.DedupKey, n.Title, string(nd.Outcome)
		if n.Incident != nil {
			line.Incident, line.Transition = n.Incident.ID, string(n.Incident.Transition)
		}
		switch {
		case nd.Outcome != router.Queued:
			line.Skipped = nd.Reason
		case !nd.HeldUntil.IsZero():
			line.HeldUntil, line.Held, line.heldAt = nd.HeldUntil.Format(time.RFC3339), nd.Reason, router.FormatHeld(nd.HeldUntil)
		}
		r.lines = append(r.lines, line)
	}
	for _, k := range d.KeptOpen {
		line := base
		line.Rule, line.Incident, line.DedupKey, line.KeptOpen = k.Rule, k.ID, k.Key, k.Reason
		r.lines = append(r.lines, line)
	}
	return r
}

// writeText writes the event's heading and one entry per line.
func (r routedEvent) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s: event %d: %s/%s\n", r.payload, r.index, r.ev.Field, r.ev.Event)
	sent := 0
	for _, l := range r.lines {
		switch {
		case l.Redelivery:
			fmt.Fprintln(w, "  a redelivery of a change already routed; nothing would be sent")
			return
		case l.Error != "":
			// expr's errors point at the column on lines of their own;
			// indented, they stay under their rule.
			fmt.Fprintf(w, "  rule %q FAILED: %s\n", l.Rule, strings.ReplaceAll(l.Error, "\n", "\n    "))
			continue
		case l.KeptOpen != "":
			fmt.Fprintf(w, "  incident %s of rule %q stays open (key %q): %s\n", l.Incident, l.Rule, l.DedupKey, l.KeptOpen)
			continue
		}
		sent++
		skipped := ""
		switch {
		case l.Skipped != "":
			skipped = " — not sent: " + l.Skipped
		case l.HeldUntil != "":
			skipped = " — held until " + l.heldAt + ": " + l.Held
		}
		what := l.Action
		if l.Transition != "" {
			what = "incident " + l.Transition
		}
		fmt.Fprintf(w, "  rule %q → %s [%s, %s] key %q%s\n    %s\n", l.Rule, l.Sink, l.Severity, what, l.DedupKey, skipped, l.Title)
	}
	switch {
	case sent == 0 && r.keptOpen() > 0:
		fmt.Fprintln(w, "  nothing would be sent")
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

func runRoute(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("route", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	format := fs.String("format", "text", "output format: text or json")
	atFlag := fs.String("at", "", "route as if now were this RFC 3339 time, such as 2026-11-28T10:00:00+01:00 (default: now); "+
		"within, older_than, now() and the schedules all read it")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	var at time.Time
	if *atFlag != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return usageFailure(stdio, "route", fmt.Sprintf("--at %q: want an RFC 3339 time such as 2026-11-28T10:00:00+01:00", *atFlag))
		}
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
	// The stages serve runs, on a scratch store: the payloads see each
	// other as they would in serve (repeats, dedup windows, follow-ups).
	var clock func() time.Time
	if !at.IsZero() {
		clock = func() time.Time { return at }
		set.Now = clock
	}
	dry, err := app.NewDryRun(ctx, cfg, set, clock)
	if err != nil {
		fmt.Fprintf(stdio.Err, "route: %v\n", err)
		return ExitFailure
	}
	defer closeQuietly(stdio, "the dry run's scratch store", dry)
	// serve would hide what the silences in force hide: route says so.
	if n, err := dry.UseSilences(ctx, cfg.Store.Path); err != nil {
		fmt.Fprintf(stdio.Err, "route: %v\n", err)
		return ExitFailure
	} else if n > 0 {
		fmt.Fprintf(stdio.Err, "route: %d silence(s) in force in %s are applied\n", n, cfg.Store.Path)
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
		res, err := dry.Route(ctx, body)
		switch {
		case err != nil:
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
			code = ExitFailure
			continue
		case res.Refused != nil:
			fmt.Fprintf(stdio.Err, "%s: serve would refuse it (400): %v\n", name, res.Refused)
			code = ExitFailure
			continue
		case res.Unreadable != nil:
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, res.Unreadable)
			code = ExitFailure
		}
		if res.Result.Err != nil {
			fmt.Fprintf(stdio.Err, "%s: routing failed: %v\n  serve would try it again and park it after %d attempts (see deadletter list)\n",
				name, res.Result.Err, router.DefaultParkAfter)
			code = ExitFailure
			continue
		}
		if len(res.Result.Decisions) == 0 && *format == "text" {
			fmt.Fprintf(stdio.Out, "%s: no events (a webhook with no changes); nothing would be sent\n", name)
		}
		for i, d := range res.Result.Decisions {
			r := routeEvent(name, i+1, d)
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
