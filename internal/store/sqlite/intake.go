package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The intake file. SQLite lets one writer at a time into a file, and the
// main file's writer carries routing, leases and acks: an append queued
// behind them made every 200 to Meta wait for routing. So webhooks are
// appended to a file of their own beside the main one (PATH-intake),
// with its own writer and group commit, fsync'd before AppendWebhook
// returns as before. Routing reads them from the intake file and imports
// them into the main file in the transaction that routes them, which also
// moves the intake cursor; any other reader of webhooks imports what is
// staged first, in a transaction of its own. A crash between the two
// files neither loses a webhook nor imports one twice. The ids are the
// intake's, kept on import, so the id an append returns is the webhook's
// id everywhere after.
type intake struct {
	path  string
	write *sql.DB // one connection: the intake's single writer
	read  *sql.DB
	reads *readCache // the hot reads, prepared on read
	c     *committer
	// imported is how far this handle knows the staged rows are in the
	// main file; cleaned is how far the intake's rows were deleted.
	// Another handle on the same files (a CLI beside serve) may have
	// imported further: the main file's cursor says so.
	imported, cleaned atomic.Int64
	mu                sync.Mutex // one import at a time
}

// intakeSchema is the intake file's whole schema: staged webhooks, and a
// row Ping writes to prove the file takes writes.
const intakeSchema = `CREATE TABLE IF NOT EXISTS staged (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		received_at INTEGER NOT NULL,
		body        BLOB    NOT NULL
	);
	CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);`

// importBatch is how many staged webhooks one import transaction moves.
const importBatch = 512

// openIntake opens (creating if needed) the intake file beside the main
// one and lines its ids up after the main file's: a new intake file, or
// one lost or restored from an older backup, never hands out an id the
// main file already holds.
func (s *Store) openIntake(ctx context.Context, path string) (*intake, error) {
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	write, err := openDB(ctx, path, s.opts, true)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	in := &intake{path: path, write: write}
	fail := func(err error) (*intake, error) {
		_ = in.close()
		return nil, fmt.Errorf("intake file %s: %w", path, err)
	}
	if _, err := write.ExecContext(ctx, intakeSchema); err != nil {
		return fail(fmt.Errorf("create its tables: %w", err))
	}
	var cursor, mainMax int64
	if err := s.write.QueryRowContext(ctx, `SELECT imported FROM intake_cursor WHERE id = 1`).Scan(&cursor); err != nil {
		return fail(fmt.Errorf("read the intake cursor: %w", err))
	}
	if err := s.write.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'webhooks'), 0),
		COALESCE((SELECT MAX(id) FROM webhooks), 0))`).Scan(&mainMax); err != nil {
		return fail(fmt.Errorf("read the main file's last webhook id: %w", err))
	}
	err = inTx(ctx, write, func(tx *sql.Tx) error {
		// Whatever the main file has is imported already; ids start
		// after the larger of the two.
		if _, err := tx.ExecContext(ctx, `DELETE FROM staged WHERE id <= ?`, cursor); err != nil {
			return err
		}
		floor := max(cursor, mainMax)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT 'staged', ?
			WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'staged')`, floor); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'staged'`, floor)
		return err
	})
	if err != nil {
		return fail(fmt.Errorf("line its ids up with the main file's: %w", err))
	}
	in.read, err = openDB(ctx, path, s.opts, false)
	if err != nil {
		return fail(err)
	}
	in.read.SetMaxOpenConns(2)
	in.reads = newReadCache(in.read)
	in.imported.Store(cursor)
	in.cleaned.Store(cursor)
	in.c = newCommitter(write, s.opts.MaxBatch)
	// Rows already imported are deleted in the next round of appends,
	// which commits anyway: the clean-up costs no fsync of its own.
	in.c.before = func(ctx context.Context, tx *sql.Tx) error {
		upTo := in.imported.Load()
		if upTo <= in.cleaned.Load() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staged WHERE id <= ?`, upTo); err != nil {
			return fmt.Errorf("delete imported webhooks up to %d: %w", upTo, err)
		}
		in.cleaned.Store(upTo)
		return nil
	}
	return in, nil
}

func (in *intake) close() error {
	var err error
	if in.reads != nil {
		in.reads.close()
	}
	if in.read != nil {
		err = in.read.Close()
	}
	return errors.Join(err, in.write.Close())
}

// stage appends one webhook to the intake file and returns its id once
// it is fsync'd.
func (s *Store) stage(ctx context.Context, body []byte, receivedAt time.Time) (int64, error) {
	return s.writeOn(ctx, s.intake.c, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO staged (received_at, body) VALUES (?, ?)`, toDB(receivedAt), body)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	})
}

// importStaged moves what was staged in the intake file into the main
// file, oldest first, importBatch at a time, each batch in one main-file
// transaction with the cursor. With nothing staged it costs one indexed
// read, so every reader of webhooks calls it first. It must not be called
// inside a write of the main file: it makes one.
func (s *Store) importStaged(ctx context.Context) error {
	if s.intake == nil {
		return nil
	}
	if _, err := s.importedUpTo(ctx); err != nil {
		return err
	}
	return s.importAfterCursor(ctx)
}

// importAfterCursor is importStaged for a caller that has just read the
// cursor (importedUpTo), as PendingWebhooks has when it finds a backlog.
func (s *Store) importAfterCursor(ctx context.Context) error {
	in := s.intake
	in.mu.Lock()
	defer in.mu.Unlock()
	for {
		n, err := s.importBatch(ctx, in)
		if err != nil {
			return fmt.Errorf("store/sqlite: import accepted webhooks from %s: %w", in.path, err)
		}
		if n < importBatch {
			return nil
		}
	}
}

// importedUpTo is how far the staged webhooks are known to be in the main
// file: this handle's own imports, or further when another handle on the
// same files (a CLI beside serve) moved the main file's cursor on.
func (s *Store) importedUpTo(ctx context.Context) (int64, error) {
	var cursor int64
	if err := s.reads.queryRow(ctx, `SELECT imported FROM intake_cursor WHERE id = 1`).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("store/sqlite: read the intake cursor: %w", err)
	}
	return s.intake.noteImported(cursor), nil
}

// noteImported records that the staged rows up to id are in the main
// file and returns how far they are now known to be. Imports run beside
// each other (a routing pass, a reader's import), so the mark only moves
// on.
func (in *intake) noteImported(id int64) int64 {
	for {
		was := in.imported.Load()
		if id <= was {
			return was
		}
		if in.imported.CompareAndSwap(was, id) {
			return id
		}
	}
}

// staged reads the staged webhooks with ids in (after, upTo], oldest
// first, at most limit of them, from the intake file's readers: what
// routing reads of webhooks not yet imported, and imports in the same
// transaction that routes them.
func (in *intake) staged(ctx context.Context, after, upTo int64, limit int) ([]stagedRow, error) {
	rows, err := in.reads.query(ctx, `SELECT id, received_at, body FROM staged WHERE id > ? AND id <= ?
		ORDER BY id LIMIT CAST(? AS INTEGER)`, after, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("read staged webhooks after %d: %w", after, err)
	}
	var batch []stagedRow
	for rows.Next() {
		var r stagedRow
		if err := rows.Scan(&r.id, &r.at, &r.body); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read staged webhooks after %d: %w", after, err)
		}
		batch = append(batch, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("read staged webhooks after %d: %w", after, err)
	}
	return batch, nil
}

// importRows copies staged rows into the main file within tx and moves
// the cursor past the last of them. The rows must run on from the cursor
// with no gap, as staged returns them; one imported already is left as it
// is.
func (s *Store) importRows(ctx context.Context, tx *sql.Tx, batch []stagedRow) error {
	for _, r := range batch {
		if _, err := s.exec(ctx, tx, sqlImportWebhook, r.id, r.at); err != nil {
			return fmt.Errorf("import webhook %d: %w", r.id, err)
		}
		if _, err := s.exec(ctx, tx, sqlImportBody, r.id, r.body); err != nil {
			return fmt.Errorf("import the body of webhook %d: %w", r.id, err)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	last := batch[len(batch)-1].id
	if _, err := s.exec(ctx, tx, sqlMoveCursor, last); err != nil {
		return fmt.Errorf("move the intake cursor to %d: %w", last, err)
	}
	return nil
}

// importThrough is importStaged for a caller that names its webhooks: it
// costs nothing when this handle imported past the highest of ids
// already, as it has once the router routed them, so a webhook read after
// it was routed is not looked up a second time.
func (s *Store) importThrough(ctx context.Context, ids ...int64) error {
	if s.intake == nil || len(ids) == 0 || slices.Max(ids) <= s.intake.imported.Load() {
		return nil
	}
	return s.importStaged(ctx)
}

type stagedRow struct {
	id, at int64
	body   []byte
}

func (s *Store) importBatch(ctx context.Context, in *intake) (int, error) {
	from := in.imported.Load()
	batch, err := in.staged(ctx, from, math.MaxInt64, importBatch)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	_, err = s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		return 0, s.importRows(ctx, tx, batch)
	})
	if err != nil {
		return 0, err
	}
	in.noteImported(batch[len(batch)-1].id)
	return len(batch), nil
}
