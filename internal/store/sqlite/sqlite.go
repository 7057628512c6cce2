package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/wabarouter/wabarouter/internal/store"
)

// Options tune a Store.
type Options struct {
	// GroupCommit batches concurrent AppendWebhook calls into one
	// transaction. Off means one transaction (and fsync) per append, which
	// exists mainly to measure what group commit buys.
	GroupCommit bool
	// BusyTimeout is SQLite's busy_timeout; zero means 5s.
	BusyTimeout time.Duration
	// MaxBatch caps how many writes share one transaction; zero means 256.
	MaxBatch int
	// Exclusive claims the file for this process (a lock beside it) and
	// fails with ErrLocked when another process holds the claim: one
	// serve per SQLite file. Tools that only read or edit a few rows
	// (deadletter) open without it.
	Exclusive bool
	// CheckpointEvery is how often the WAL is copied into the database
	// (see checkpointer); zero means 250ms, negative never (tests).
	CheckpointEvery time.Duration
	// GCBatch is how many rows one housekeeping write deletes; zero
	// means 200, about two milliseconds of the writer (with 1 KB bodies).
	GCBatch int
	// ReadOnly opens an existing store only to read it, beside a running
	// serve without disturbing it (incidents, why, deadletter list): the
	// file is opened with mode=ro and query_only, nothing is created or
	// migrated, and there is no writer, committer or checkpointer. A
	// missing file fails with fs.ErrNotExist, one whose schema is not
	// this binary's with ErrSchema; every write fails with ErrReadOnly.
	ReadOnly bool
}

// ErrLocked means another process opened the store with Exclusive.
var ErrLocked = errors.New("the store is in use by another wabarouter process (one serve per SQLite file)")

// ErrReadOnly is returned by every write to a store opened ReadOnly.
var ErrReadOnly = errors.New("the store was opened read-only")

// ErrSchema means a store opened ReadOnly has not the schema this binary
// reads: serve never started on it, or it was made by another version.
var ErrSchema = errors.New("the store's schema is not this binary's")

// DefaultOptions returns the production settings: group commit on.
func DefaultOptions() Options {
	return Options{GroupCommit: true}
}

// Store is a store.Store backed by one SQLite file.
type Store struct {
	write *sql.DB // exactly one connection: the single writer
	read  *sql.DB
	opts  Options

	// main commits the main file's writes; intake is the file appends
	// go to (nil when read-only).
	main    *committer
	intake  *intake
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	lock    *os.File // held while open with Exclusive
	// prepared are the hot statements, by their text; read-only after Open.
	prepared map[string]*sql.Stmt
	// reads are the hot reads, prepared on read.
	reads *readCache
	// afterGCBatch, when set (tests), is told of each housekeeping write.
	afterGCBatch func(what string, deleted int64)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates its
// schema.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.GCBatch <= 0 {
		opts.GCBatch = 200
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = defaultCheckpointEvery
	}
	if opts.ReadOnly {
		return openReadOnly(ctx, path, opts)
	}
	var lock *os.File
	if opts.Exclusive {
		l, err := lockFile(path + ".lock")
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
		}
		lock = l
	}
	if err := privateFiles(path); err != nil {
		closeLock(lock)
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	write, err := openDB(ctx, path, opts, true)
	if err != nil {
		closeLock(lock)
		return nil, err
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		_ = write.Close()
		closeLock(lock)
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	read, err := openDB(ctx, path, opts, false)
	if err != nil {
		_ = write.Close()
		closeLock(lock)
		return nil, err
	}
	read.SetMaxOpenConns(4)
	s := &Store{write: write, read: read, opts: opts, lock: lock,
		main: newCommitter(write, opts.MaxBatch), closing: make(chan struct{}), reads: newReadCache(read)}
	if err := s.prepare(ctx); err != nil {
		s.closeStatements()
		_ = write.Close()
		_ = read.Close()
		closeLock(lock)
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	in, err := s.openIntake(ctx, IntakePath(path))
	if err != nil {
		s.closeStatements()
		_ = write.Close()
		_ = read.Close()
		closeLock(lock)
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	s.intake = in
	if opts.GroupCommit {
		for _, c := range []*committer{s.main, in.c} {
			s.wg.Go(func() { c.run(s.closing) })
		}
	}
	if opts.CheckpointEvery >= 0 {
		s.wg.Add(1)
		go s.checkpointer()
	}
	// What a previous run accepted and did not import is imported now,
	// before anyone reads the main file alone (a read-only CLI).
	if err := s.importStaged(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// IntakePath is the intake file of the store at path: it holds the
// webhooks accepted and not yet imported, and goes with the store when it
// is copied or moved (see docs/operations.md, Backups).
func IntakePath(path string) string { return path + "-intake" }

// openDB opens one pool with the durability pragmas applied on every
// connection. The writer takes immediate transactions so a read-then-write
// transaction never has to upgrade its lock (the classic SQLITE_BUSY trap).
func openDB(ctx context.Context, path string, opts Options, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Set("_txlock", "immediate")
		// The committer must not copy the WAL into the database itself:
		// checkpointer does that beside it, off the path of every write.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// Savepoints (one per routed webhook) journal the pages they
		// change; on disk that was a write syscall per page. In memory it
		// loses nothing durable: a savepoint only matters inside its
		// transaction.
		q.Add("_pragma", "temp_store(MEMORY)")
	} else {
		// A reader's page cache is dropped whenever the writer has
		// committed since its last read, which under load is every read:
		// the default 2 MiB per reader was memory held for nothing.
		q.Add("_pragma", "cache_size(-256)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// closeLock gives up the Exclusive claim; closing the file drops the flock.
func closeLock(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// Ping checks the reader and commits a write through the writer, as an
// append would: a full disk or a lost file fails it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store/sqlite: ping reader: %w", err)
	}
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := s.exec(ctx, tx, sqlHeartbeat, time.Now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("store/sqlite: ping writer: %w", err)
	}
	if s.intake == nil {
		return nil
	}
	_, err = s.writeOn(ctx, s.intake.c, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		_, err := tx.ExecContext(ctx, sqlHeartbeat, time.Now().UnixNano())
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("store/sqlite: ping the intake file's writer: %w", err)
	}
	return nil
}

// Close stops the group-commit goroutine after it has written every append
// already handed to it, then closes both pools.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		// What is staged is moved into the main file first, so that a
		// store closed cleanly is whole in its main file (a copy of it
		// alone is a backup). What cannot be moved now is moved at the
		// next open.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		importErr := s.importStaged(ctx)
		cancel()
		close(s.closing)
		s.wg.Wait()
		s.closeStatements()
		err = s.read.Close()
		if s.intake != nil {
			err = errors.Join(err, s.intake.close())
		}
		if s.write != nil {
			err = errors.Join(err, s.write.Close())
		}
		closeLock(s.lock)
		err = errors.Join(importErr, err)
		if err != nil {
			err = fmt.Errorf("store/sqlite: close: %w", err)
		}
	})
	return err
}

// inTx runs fn in one write transaction of db, retrying the whole thing
// a few times with growing backoff when another process holds the lock
// beyond busy_timeout.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	backoff := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := writeTxOnce(ctx, db, fn)
		if err == nil || !isBusy(err) || attempt >= 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func writeTxOnce(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isBusy reports SQLITE_BUSY/SQLITE_LOCKED (primary codes 5 and 6).
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == 5 || code == 6
}

// Times are stored as Unix nanoseconds; the zero time is stored as 0 so it
// round-trips (time.Time{}.UnixNano() is out of range).
func toDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromDB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
