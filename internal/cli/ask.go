package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/store"
)

// openToRead opens the store cfgPath names read-only, as incidents and why
// do beside a running serve. Only store.path matters, so the config is
// read without the secrets serve needs: an unset ${VAR} does not stop it.
func openToRead(ctx context.Context, name, cfgPath string, stdio IO) (store.Store, int) {
	cfg, _, err := readConfig(cfgPath, config.Options{Purpose: config.ForRules})
	if err != nil {
		printErrors(stdio.Err, err)
		return nil, ExitFailure
	}
	st, err := app.OpenStore(ctx, cfg.Store, app.ForReading)
	if errors.Is(err, app.ErrNoStore) {
		where := "store.path in " + cfgPath
		switch {
		case cfg.Store.IsPostgres():
			where = "store.url in " + cfgPath
		case cfgPath == "":
			where = "the built-in config's store, under the working folder"
		}
		fmt.Fprintf(stdio.Err, "%s: no store at %s (%s); has serve run with this config?\n", name, cfg.Store.Where(), where)
		return nil, ExitFailure
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
		return nil, ExitFailure
	}
	return st, ExitOK
}

// checkFormat refuses an output format other than text and json.
func checkFormat(stdio IO, name, format string) (int, bool) {
	if format != "text" && format != "json" {
		return usageFailure(stdio, name, fmt.Sprintf("--format %q is not text or json", format)), false
	}
	return ExitOK, true
}

func runIncidents(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("incidents", stdio)
	configPath := fs.String("config", "", "the YAML config whose store to read (default: the built-in copy of config.example.yaml)")
	state := fs.String("state", audit.StateOpen, "open, resolved or all")
	waba := fs.String("waba", "", "only this WhatsApp Business Account's incidents")
	format := fs.String("format", "text", "text (a table) or json (one object per line)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "incidents", "incidents takes no arguments")
	}
	if err := audit.CheckState(*state); err != nil || *state == "" {
		return usageFailure(stdio, "incidents", fmt.Sprintf("--state %q is not open, resolved or all", *state))
	}
	if code, ok := checkFormat(stdio, "incidents", *format); !ok {
		return code
	}
	st, code := openToRead(ctx, "incidents", *configPath, stdio)
	if st == nil {
		return code
	}
	defer closeQuietly(stdio, "the store", st)
	incs, err := audit.Incidents(ctx, st, audit.IncidentQuery{State: *state, WabaID: *waba})
	if err != nil {
		fmt.Fprintf(stdio.Err, "incidents: %v\n", err)
		return ExitFailure
	}
	if *format == "json" {
		err = audit.WriteJSONLines(stdio.Out, incs)
	} else if len(incs) > 0 {
		err = audit.WriteIncidents(stdio.Out, incs)
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "incidents: %v\n", err)
		return ExitFailure
	}
	if len(incs) == 0 {
		what := map[string]string{audit.StateOpen: "no open incidents", audit.StateResolved: "no resolved incidents", audit.StateAll: "no incidents"}[*state]
		if *waba != "" {
			what += " of WABA " + *waba
		}
		fmt.Fprintln(stdio.Err, what)
	}
	return ExitOK
}

func runWhy(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("why", stdio)
	configPath := fs.String("config", "", "the YAML config whose store to read (default: the built-in copy of config.example.yaml)")
	waba := fs.String("waba", "", "explain this WhatsApp Business Account's events")
	webhook := fs.String("webhook", "", "explain this webhook's events (its id, as in the log: 12 or w12)")
	incident := fs.String("incident", "", "explain the events of this incident (its id, from incidents)")
	since := fs.String("since", "", "only events routed within this long, such as 90m, 24h or 7d, or since a time (2026-03-04T05:00:00Z); default 24h with --waba, all with --webhook or --incident")
	format := fs.String("format", "text", "text (sentences) or json (one object per event and line)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "why", "why takes no arguments; name what to explain with --waba, --webhook or --incident")
	}
	q := audit.WhyQuery{WabaID: *waba, IncidentID: *incident}
	if *webhook != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(*webhook, "w"), 10, 64)
		if err != nil || id <= 0 {
			return usageFailure(stdio, "why", fmt.Sprintf("--webhook %q is not a webhook's id (12, or w12)", *webhook))
		}
		q.WebhookID = id
	}
	if err := q.Check(); err != nil {
		return usageFailure(stdio, "why", err.Error()+" (--waba, --webhook or --incident)")
	}
	now := time.Now()
	switch {
	case *since != "":
		t, err := audit.ParseSince(*since, now)
		if err != nil {
			return usageFailure(stdio, "why", "--"+err.Error())
		}
		q.Since = t
	case q.WabaID != "":
		q.Since = now.Add(-audit.DefaultSince)
	}
	if code, ok := checkFormat(stdio, "why", *format); !ok {
		return code
	}
	st, code := openToRead(ctx, "why", *configPath, stdio)
	if st == nil {
		return code
	}
	defer closeQuietly(stdio, "the store", st)
	var inc audit.Incident
	var found bool
	if q.IncidentID != "" {
		var err error
		if inc, found, err = audit.GetIncident(ctx, st, q.IncidentID); err != nil {
			fmt.Fprintf(stdio.Err, "why: %v\n", err)
			return ExitFailure
		}
	}
	entries, err := audit.Why(ctx, st, q)
	if err != nil {
		fmt.Fprintf(stdio.Err, "why: %v\n", err)
		return ExitFailure
	}
	if q.IncidentID != "" && !found && len(entries) == 0 {
		fmt.Fprintf(stdio.Err, "why: no incident %s (`wabarouter incidents --state all` lists their ids)\n", q.IncidentID)
		return ExitFailure
	}
	if *format == "json" {
		err = audit.WriteJSONLines(stdio.Out, entries)
	} else {
		if found {
			err = audit.WriteIncident(stdio.Out, inc)
		}
		if err == nil {
			err = audit.WriteWhy(stdio.Out, entries)
		}
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "why: %v\n", err)
		return ExitFailure
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdio.Err, nothingRecorded(q))
	}
	return ExitOK
}

// nothingRecorded says what an empty answer means.
func nothingRecorded(q audit.WhyQuery) string {
	since := ""
	if !q.Since.IsZero() {
		since = " since " + q.Since.UTC().Format(time.RFC3339)
	}
	switch {
	case q.WabaID != "":
		return fmt.Sprintf("no events of WABA %s were routed%s", q.WabaID, since)
	case q.WebhookID != 0:
		return fmt.Sprintf("no decision is recorded on webhook %d%s: it is not routed yet (parked ones are in deadletter list), or older than store.retention", q.WebhookID, since)
	}
	return fmt.Sprintf("no events of incident %s were routed%s", q.IncidentID, since)
}
