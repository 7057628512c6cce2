package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/store"
)

// deadListLimit bounds `deadletter list`; a backlog larger than this is a
// sink problem to fix first, not a list to read line by line.
const deadListLimit = 10000

const deadletterUsage = "usage: wabarouter deadletter list|replay|drop --config FILE [ID...]\n" +
	"  ID is a dead-lettered notification's row id (12), or a parked webhook's id with a w (w7)"

// runDeadletter lists, replays or drops dead-lettered outbox rows and
// parked webhooks (those whose routing kept failing). It opens the same
// store file as serve; SQLite's locking lets it run beside a running
// router, which then delivers replayed rows and routes replayed webhooks.
func runDeadletter(ctx context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("deadletter", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	// Flags may come anywhere, before the action too.
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stdio.Err, deadletterUsage)
		return ExitUsage
	}
	action := fs.Arg(0)
	ids, err := parseIDs(fs.Args()[1:])
	switch {
	case *configPath == "":
		fmt.Fprintln(stdio.Err, deadletterUsage)
		return ExitUsage
	case err != nil:
		fmt.Fprintf(stdio.Err, "deadletter %s: %v\n", action, err)
		return ExitUsage
	case action == "list" && len(ids) > 0, (action == "replay" || action == "drop") && len(ids) == 0:
		fmt.Fprintln(stdio.Err, deadletterUsage)
		return ExitUsage
	case action != "list" && action != "replay" && action != "drop":
		fmt.Fprintf(stdio.Err, "deadletter: unknown action %q\n%s\n", action, deadletterUsage)
		return ExitUsage
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	// list only reads, and so changes nothing of a running serve's
	// store: no migration, no checkpoint.
	mode := app.ForEditing
	if action == "list" {
		mode = app.ForReading
	}
	st, err := app.OpenStore(ctx, cfg.Store, mode)
	if errors.Is(err, app.ErrNoStore) {
		key := "store.path"
		if cfg.Store.IsPostgres() {
			key = "store.url"
		}
		fmt.Fprintf(stdio.Err, "deadletter: %v (%s in %s)\n", err, key, *configPath)
		return ExitFailure
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "deadletter: %v\n", err)
		return ExitFailure
	}
	defer closeQuietly(stdio, "the store", st)
	if action == "list" {
		if err := listDead(ctx, st, stdio); err != nil {
			fmt.Fprintf(stdio.Err, "deadletter list: %v\n", err)
			return ExitFailure
		}
		return ExitOK
	}
	// Every id is tried, so one typo does not leave the rest undone; the
	// exit code still reports the failure.
	code := ExitOK
	for _, id := range ids {
		if err := changeDead(ctx, st, action, id); err != nil {
			fmt.Fprintf(stdio.Err, "deadletter %s: %v\n", action, err)
			code = ExitFailure
			continue
		}
		fmt.Fprintf(stdio.Out, "%s %s\n", pastTense[action], id)
	}
	return code
}

var pastTense = map[string]string{"replay": "replayed", "drop": "dropped"}

// deadID names a dead-lettered notification (its outbox row) or, with
// webhook set, a parked webhook.
type deadID struct {
	id      int64
	webhook bool
}

func (d deadID) String() string {
	if d.webhook {
		return fmt.Sprintf("w%d", d.id)
	}
	return strconv.FormatInt(d.id, 10)
}

func parseIDs(args []string) ([]deadID, error) {
	ids := make([]deadID, 0, len(args))
	for _, a := range args {
		digits, webhook := strings.CutPrefix(a, "w")
		id, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("id %q is neither a row id (12) nor a parked webhook's id (w7) from `deadletter list`", a)
		}
		ids = append(ids, deadID{id: id, webhook: webhook})
	}
	return ids, nil
}

func listDead(ctx context.Context, st store.Store, stdio IO) error {
	rows, err := st.ListDead(ctx, deadListLimit)
	if err != nil {
		return fmt.Errorf("listing dead rows: %w", err)
	}
	for _, r := range rows {
		// One line per row, tab-separated so it cuts and greps; the last
		// error is flattened because a service's answer may span lines.
		fmt.Fprintf(stdio.Out, "%d\t%s\t%s\tattempts=%d\tcreated=%s\terror=%s\n", r.ID, r.Sink, r.NotificationID,
			r.Attempts, r.CreatedAt.UTC().Format(time.RFC3339), strings.Join(strings.Fields(r.LastError), " "))
	}
	parked, err := st.ListParked(ctx, deadListLimit)
	if err != nil {
		return fmt.Errorf("listing parked webhooks: %w", err)
	}
	for _, w := range parked {
		fmt.Fprintf(stdio.Out, "w%d\twebhook\treceived=%s\tattempts=%d\tparked=%s\terror=%s\n", w.ID,
			w.ReceivedAt.UTC().Format(time.RFC3339), w.Attempts, w.ParkedAt.UTC().Format(time.RFC3339),
			strings.Join(strings.Fields(w.LastError), " "))
	}
	if len(rows) == 0 && len(parked) == 0 {
		fmt.Fprintln(stdio.Err, "no dead-lettered notifications and no parked webhooks")
	}
	return nil
}

// changeDead replays or drops one row. Drop is checked against the dead
// list first: the store's Drop deletes any row, and this command must not
// discard a notification that is still pending delivery.
func changeDead(ctx context.Context, st store.Store, action string, d deadID) error {
	if d.webhook {
		return changeParked(ctx, st, action, d.id)
	}
	id := d.id
	var err error
	switch action {
	case "replay":
		err = st.Replay(ctx, id, time.Now())
	case "drop":
		var dead bool
		if dead, err = isDead(ctx, st, id); err == nil {
			if !dead {
				err = store.ErrNotFound
			} else {
				err = st.Drop(ctx, id)
			}
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no dead-lettered row with id %d", id)
	}
	if err != nil {
		return fmt.Errorf("row %d: %w", id, err)
	}
	return nil
}

func isDead(ctx context.Context, st store.Store, id int64) (bool, error) {
	rows, err := st.ListDead(ctx, deadListLimit)
	if err != nil {
		return false, fmt.Errorf("listing dead rows: %w", err)
	}
	for _, r := range rows {
		if r.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// changeParked replays or drops one parked webhook.
func changeParked(ctx context.Context, st store.Store, action string, id int64) error {
	var err error
	switch action {
	case "replay":
		err = st.ReplayWebhook(ctx, id)
	case "drop":
		err = st.DropWebhook(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no parked webhook with id w%d", id)
	}
	if err != nil {
		return fmt.Errorf("webhook w%d: %w", id, err)
	}
	return nil
}
