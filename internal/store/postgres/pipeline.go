package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Routing a webhook makes a dozen statements, and each was a round trip
// to the server, which on Postgres was what bounded routing. Most are
// writes whose result nobody reads (saving an incident, appending a
// decision, queueing a notification), so a txn holds them back and sends
// them in one pgx batch with the next statement whose result it needs, or
// when the webhook's work is done: a webhook costs three or four round
// trips instead. The statements still run in the order they were made, so
// a read sees every write before it. What changes is only where a failed
// write is reported: by the call that sent it, with the write's own
// message, and the webhook fails as it did before.

// queued is a statement held back until the next round trip.
type queued struct {
	// what names the statement in its error, as its call would have.
	what string
	sql  string
	args []any
}

// later holds back a statement whose result is not needed.
func (t *txn) later(what, sql string, args ...any) {
	t.queue = append(t.queue, queued{what: what, sql: sql, args: args})
}

// send sends what is held back, then sql when it is not empty, in one
// batch, and checks the held statements' results. The caller reads sql's
// result from br and closes it; with sql empty, send closes it itself.
func (t *txn) send(ctx context.Context, sql string, args ...any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	held := t.queue
	t.queue = nil
	for _, q := range held {
		b.Queue(q.sql, q.args...)
	}
	if sql != "" {
		b.Queue(sql, args...)
	}
	if len(b.QueuedQueries) == 0 {
		return nil, nil
	}
	t.sent = true
	br := t.tx.SendBatch(ctx, b)
	for _, q := range held {
		if _, err := br.Exec(); err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", q.what, err), br.Close())
		}
	}
	if sql == "" {
		return nil, br.Close()
	}
	return br, nil
}

// flush sends what is held back.
func (t *txn) flush(ctx context.Context) error {
	_, err := t.send(ctx, "")
	return err
}

// exec runs sql after what is held back, in the same round trip.
func (t *txn) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(t.queue) == 0 {
		t.sent = true
		return t.tx.Exec(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

// queryRow is pgx's QueryRow after what is held back, in the same round
// trip.
func (t *txn) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(t.queue) == 0 {
		t.sent = true
		return t.tx.QueryRow(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args...)
	return batchRow{br: br, err: err}
}

// query is pgx's Query after what is held back, in the same round trip;
// closing the rows ends the batch.
func (t *txn) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if len(t.queue) == 0 {
		t.sent = true
		return t.tx.Query(ctx, sql, args...)
	}
	br, err := t.send(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// batchRows are the rows of a batch's last statement; closing them ends
// the batch.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	closeErr error
	closed   bool
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.closeErr = r.br.Close()
	}
}

func (r *batchRows) Err() error { return errors.Join(r.Rows.Err(), r.closeErr) }

// batchRow is the row of a batch's last statement; reading it ends the
// batch.
type batchRow struct {
	br  pgx.BatchResults
	err error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.br.QueryRow().Scan(dest...)
	return errors.Join(err, r.br.Close())
}
