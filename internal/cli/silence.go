package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/silences"
)

// parseTime reads a silence's --from or --until: RFC 3339, or a date and
// time of day in UTC.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time; write 2026-12-24T18:00:00+01:00, or 2026-12-24 17:00 for UTC", s)
}

// runSilence adds, lists, previews and expires silences in the store the
// config names; it may run beside serve, which applies a change with its
// next routing batch.
func runSilence(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("silence", stdio)
	configPath := fs.String("config", "", "the YAML config whose store to use (default: the built-in copy of config.example.yaml)")
	when := fs.String("when", "", "the condition of the events to silence, written as a rule's when")
	forFlag := fs.Duration("for", 0, "how long the silence lasts from its start, such as 2h")
	until := fs.String("until", "", "when the silence ends (instead of --for)")
	from := fs.String("from", "", "when the silence starts (default: now)")
	author := fs.String("author", "", "who adds the silence (required)")
	comment := fs.String("comment", "", "why, for whoever reads the log later (required)")
	preview := fs.Bool("preview", false, "add: list what the silence would have hidden in the last 7 days, and add nothing")
	all := fs.Bool("all", false, "list: every silence, ended ones too")
	format := fs.String("format", "text", "text or json (one object per line)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if code, ok := checkFormat(stdio, "silence", *format); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageFailure(stdio, "silence", "say add, list or expire")
	}
	action, rest := fs.Arg(0), fs.Args()[1:]
	switch {
	case action != "add" && action != "list" && action != "expire":
		return usageFailure(stdio, "silence", fmt.Sprintf("unknown action %q; want add, list or expire", action))
	case action == "expire" && len(rest) != 1:
		return usageFailure(stdio, "silence", "expire takes one silence id (from silence list)")
	case action != "expire" && len(rest) != 0:
		return usageFailure(stdio, "silence", action+" takes no arguments")
	}
	now := time.Now()
	req := silences.Request{When: *when, For: *forFlag, Author: *author, Comment: *comment}
	var err error
	if *until != "" {
		if req.EndsAt, err = parseTime(*until); err != nil {
			return usageFailure(stdio, "silence", "--until: "+err.Error())
		}
	}
	if *from != "" {
		if req.StartsAt, err = parseTime(*from); err != nil {
			return usageFailure(stdio, "silence", "--from: "+err.Error())
		}
	}
	cfg, _, err := readConfig(*configPath, config.Options{Purpose: config.ForRules})
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	mode := app.ForEditing
	if action == "list" || *preview {
		mode = app.ForReading
	}
	st, err := app.OpenStore(ctx, cfg.Store, mode)
	if errors.Is(err, app.ErrNoStore) {
		fmt.Fprintf(stdio.Err, "silence: %v; has serve run with this config?\n", err)
		return ExitFailure
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "silence: %v\n", err)
		return ExitFailure
	}
	defer closeQuietly(stdio, "the store", st)
	out := func(v any, line string) {
		if *format == "json" {
			b, _ := json.Marshal(v)
			fmt.Fprintln(stdio.Out, string(b))
			return
		}
		fmt.Fprintln(stdio.Out, line)
	}
	switch {
	case action == "list":
		views, err := silences.List(ctx, st, !*all, now)
		if err != nil {
			fmt.Fprintf(stdio.Err, "silence list: %v\n", err)
			return ExitFailure
		}
		if *format == "json" {
			for _, v := range views {
				out(v, "")
			}
			return ExitOK
		}
		tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tSTARTS\tENDS\tAUTHOR\tWHEN\tCOMMENT")
		for _, v := range views {
			ends := v.EndsAt
			if !v.ExpiredAt.IsZero() && v.ExpiredAt.Before(ends) {
				ends = v.ExpiredAt
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.State, stampOf(v.StartsAt), stampOf(ends), v.Author, v.When, v.Comment)
		}
		_ = tw.Flush()
		return ExitOK
	case action == "expire":
		s, err := silences.Expire(ctx, st, rest[0], now)
		if err != nil {
			fmt.Fprintf(stdio.Err, "silence expire: %v\n", err)
			return ExitFailure
		}
		out(silences.ViewOf(s, now), fmt.Sprintf("silence %s expired at %s; what it hid and is still open is sent now", s.ID, stampOf(s.ExpiredAt)))
		return ExitOK
	case *preview:
		if _, warnings, err := silences.Check(req, now); err != nil {
			return silenceProblems(stdio, err, warnings)
		}
		hits, err := silences.Preview(ctx, st, req.When, cfg.Accounts, now.Add(-silences.PreviewWindow))
		if err != nil {
			return silenceProblems(stdio, err, nil)
		}
		for _, h := range hits {
			var sent []string
			for _, n := range h.Notifications {
				sent = append(sent, fmt.Sprintf("%s → %s %q", n.Rule, n.Sink, n.Title))
			}
			out(h, fmt.Sprintf("%s  webhook %d  %s  %s/%s  %s", stampOf(h.At), h.WebhookID, h.WabaID, h.Field, h.Event, strings.Join(sent, "; ")))
		}
		if *format == "text" {
			fmt.Fprintf(stdio.Err, "silence: it would have hidden %d event(s) of the last 7 days; nothing was added (run again without --preview)\n", len(hits))
		}
		return ExitOK
	}
	s, warnings, err := silences.Add(ctx, st, req, now)
	if err != nil {
		return silenceProblems(stdio, err, warnings)
	}
	for _, w := range warnings {
		fmt.Fprintln(stdio.Err, w)
	}
	out(silences.ViewOf(s, now), fmt.Sprintf("silence %s added: %s from %s until %s (%s: %s)", s.ID, s.When, stampOf(s.StartsAt), stampOf(s.EndsAt), s.Author, s.Comment))
	return ExitOK
}

func silenceProblems(stdio IO, err error, warnings []string) int {
	for _, w := range warnings {
		fmt.Fprintln(stdio.Err, w)
	}
	var inv *silences.Invalid
	if errors.As(err, &inv) {
		for _, p := range inv.Problems {
			fmt.Fprintln(stdio.Err, "silence: "+p)
		}
		return ExitUsage
	}
	fmt.Fprintf(stdio.Err, "silence: %v\n", err)
	return ExitFailure
}

func stampOf(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
