package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// DryRun routes payloads through the stages serve runs (intake's
// validation, redelivery, rules, dedup, each sink's min_severity, the
// outbox) against a store of its own that starts empty, and delivers
// nothing. Payloads routed one after another see each other, as they would
// in serve: a repeat is a redelivery, a second match within a dedup window
// is suppressed, and a resolve reaches a sink that heard of the problem.
type DryRun struct {
	validate func([]byte) error
	dir      string
	store    *sqlite.Store
	router   *router.Router
	now      func() time.Time
}

// DryResult is what serve would have made of one payload.
type DryResult struct {
	// Refused is why intake would answer 400; nothing else is then set.
	Refused error
	// Unreadable names the changes the parser could not read; their
	// siblings are still routed.
	Unreadable error
	// Result holds the decisions, or, in Err, why routing failed: serve
	// would retry the webhook and then park it.
	Result router.Result
}

// NewDryRun prepares a dry run under cfg's sinks and set's rules; now is
// the clock (time.Now when nil).
func NewDryRun(ctx context.Context, cfg *config.Config, set *rules.Set, now func() time.Time) (*DryRun, error) {
	if now == nil {
		now = time.Now
	}
	dir, err := os.MkdirTemp("", "wabarouter-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("dry run: making a scratch store: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "dry-run.db"), sqlite.Options{CheckpointEvery: -1})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("dry run: %w", err)
	}
	r := router.New(router.Config{Rules: set, Store: st, Log: slog.New(slog.DiscardHandler),
		Sinks: SinkPolicies(cfg), Now: now})
	return &DryRun{validate: PayloadValidator(cfg.Server.MaxChangesPerWebhook), dir: dir, store: st, router: r, now: now}, nil
}

// Route routes one payload as serve would have, had it arrived now.
func (d *DryRun) Route(ctx context.Context, body []byte) (DryResult, error) {
	if err := d.validate(body); err != nil {
		// A refusal is what the dry run found out, not its failure.
		return DryResult{Refused: err}, nil //nolint:nilerr // see above
	}
	var res DryResult
	if _, err := event.Parse(body); err != nil {
		res.Unreadable = err
	}
	at := d.now()
	id, err := d.store.AppendWebhook(ctx, body, at)
	if err != nil {
		return res, fmt.Errorf("dry run: %w", err)
	}
	ws, err := d.store.PendingWebhooks(ctx, at, 1)
	if err != nil || len(ws) != 1 || ws[0].ID != id {
		return res, errors.Join(fmt.Errorf("dry run: reading back webhook %d", id), err)
	}
	res.Result, err = d.router.Route(ctx, ws[0])
	if err != nil && res.Result.Err == nil {
		return res, fmt.Errorf("dry run: %w", err)
	}
	return res, nil
}

// Fire fires the incident timers due by the dry run's clock, as serve's
// timer loop does (a restriction expiring, a reminder), and returns what
// each decided.
func (d *DryRun) Fire(ctx context.Context) ([]router.Result, error) {
	due, err := d.store.DueTimers(ctx, d.now(), 1000)
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	var out []router.Result
	for _, t := range due {
		res, err := d.router.Fire(ctx, t)
		if err != nil {
			return out, fmt.Errorf("dry run: %w", err)
		}
		out = append(out, res)
	}
	return out, nil
}

// UseSilences copies the silences in force at the dry run's clock from the
// store at path, when there is one, so the dry run hides what serve would
// hide now. A store that is not there hides nothing; one that cannot be
// read is an error.
func (d *DryRun) UseSilences(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, nil //nolint:nilerr // no store yet: no silence either
	}
	live, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("dry run: reading the silences of %s: %w", path, err)
	}
	defer func() { _ = live.Close() }()
	sils, err := live.Silences(ctx, store.SilenceFilter{ActiveAt: d.now()})
	if err != nil {
		return 0, fmt.Errorf("dry run: reading the silences of %s: %w", path, err)
	}
	err = d.store.Update(ctx, func(tx store.Tx) error {
		for _, s := range sils {
			if err := tx.SaveSilence(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dry run: %w", err)
	}
	return len(sils), nil
}

// Close removes the scratch store.
func (d *DryRun) Close() error {
	return errors.Join(d.store.Close(), os.RemoveAll(d.dir))
}
