package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// readOnlyConns bounds the reader pool of a store opened ReadOnly: a
// command or an API request reads a few queries at a time.
const readOnlyConns = 4

// openReadOnly opens an existing, migrated store only to read it. It
// creates nothing (a missing file is an error rather than an empty store
// that looks like one where nothing happened), changes nothing (no
// migration, no journal mode, no checkpoint) and holds no lock beyond
// what a SQLite reader holds, so a running serve goes on undisturbed and
// its writes are seen as they commit. Like any reader of a WAL database,
// SQLite makes the -wal and -shm files beside a stopped store's file if
// they are gone, with the file's mode, and leaves them for serve.
func openReadOnly(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Exclusive {
		return nil, fmt.Errorf("store/sqlite: open %s: ReadOnly and Exclusive exclude each other", path)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("store/sqlite: open %s read-only: no such file (serve creates it when it first starts): %w", path, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("store/sqlite: open %s read-only: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("store/sqlite: open %s read-only: it is a folder, not a store file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	// Refused by SQLite itself, whatever a query tries.
	q.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s read-only: %w", path, err)
	}
	read.SetMaxOpenConns(readOnlyConns)
	if err := checkSchema(ctx, read); err != nil {
		_ = read.Close()
		return nil, fmt.Errorf("store/sqlite: open %s read-only: %w", path, err)
	}
	return &Store{read: read, opts: opts, closing: make(chan struct{}), reads: newReadCache(read)}, nil
}

// checkSchema refuses a file whose schema is not the one this binary
// reads: reading it anyway would fail later, on some query, with a
// message about a missing column rather than about the store.
func checkSchema(ctx context.Context, db *sql.DB) error {
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables); err != nil {
		return fmt.Errorf("reading it as a SQLite database: %w", err)
	}
	if tables == 0 {
		return fmt.Errorf("%w: it has no schema version (not a wabarouter store, or serve never started on it)", ErrSchema)
	}
	var version int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: its schema version is not recorded (serve never finished starting on it)", ErrSchema)
	case err != nil:
		return fmt.Errorf("reading its schema version: %w", err)
	case version < len(migrations):
		return fmt.Errorf("%w: its schema is version %d, this binary reads version %d; start this version's serve on it once to upgrade it", ErrSchema, version, len(migrations))
	case version > len(migrations):
		return fmt.Errorf("%w: its schema is version %d, newer than this binary's %d; use the wabarouter version that serve runs", ErrSchema, version, len(migrations))
	}
	return nil
}
