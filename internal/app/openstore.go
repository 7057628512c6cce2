package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/postgres"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// StoreMode says what a command opens the store for.
type StoreMode int

// Store modes.
const (
	// ForServing is serve's: the store is created and migrated if need
	// be; a SQLite file is claimed for this process alone (one serve per
	// file) and group-commits, while a Postgres database is shared with
	// every other serve on it.
	ForServing StoreMode = iota
	// ForEditing is a command that changes a few rows beside a running
	// serve (deadletter replay, silence add): nothing is claimed, and the
	// store must already exist.
	ForEditing
	// ForReading is a command that only reads (incidents, why, deadletter
	// list): nothing is created, migrated or changed.
	ForReading
)

// listener is a store that tells of work another replica made: a
// webhook it accepted, a row it queued (postgres.Store.Listen).
type listener interface {
	Listen(ctx context.Context, wake func(postgres.Wake), lost func(error))
}

// ErrNoStore means a command that does not create the store found none:
// serve has not run with this config.
var ErrNoStore = errors.New("no store")

// OpenStore opens the store cfg names for mode: the SQLite file, or the
// Postgres database at store.url.
func OpenStore(ctx context.Context, cfg config.Store, mode StoreMode) (store.Store, error) {
	if cfg.IsPostgres() {
		if cfg.URL == "" {
			return nil, errors.New("store.url is empty: the store is a Postgres database, and its URL (usually ${DATABASE_URL}) is not set here")
		}
		st, err := postgres.Open(ctx, cfg.URL.Reveal(), postgres.Options{PoolSize: cfg.PoolSize, ReadOnly: mode == ForReading, PollOnly: cfg.PollOnly})
		if errors.Is(err, postgres.ErrSchema) && mode != ForServing {
			return nil, fmt.Errorf("%w at %s: %w", ErrNoStore, cfg.Where(), err)
		}
		if err != nil {
			return nil, fmt.Errorf("opening store %s: %w", cfg.Where(), err)
		}
		return st, nil
	}
	switch mode {
	case ForServing:
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
			return nil, fmt.Errorf("creating the store's folder for %s: %w", cfg.Path, err)
		}
		st, err := sqlite.Open(ctx, cfg.Path, sqlite.Options{GroupCommit: true, Exclusive: true})
		if err != nil {
			return nil, fmt.Errorf("opening store %s: %w", cfg.Path, err)
		}
		return st, nil
	case ForEditing:
		// Opening would create an empty store: a wrong path must not look
		// like a store with nothing in it.
		if _, err := os.Stat(cfg.Path); err != nil {
			return nil, fmt.Errorf("%w at %s: %w", ErrNoStore, cfg.Path, err)
		}
		return sqlite.Open(ctx, cfg.Path, sqlite.DefaultOptions())
	default:
		st, err := sqlite.Open(ctx, cfg.Path, sqlite.Options{ReadOnly: true})
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: %w", ErrNoStore, cfg.Path, err)
		}
		return st, err
	}
}
