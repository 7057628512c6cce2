package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

type appendReq struct {
	body []byte
	at   time.Time
	resp chan appendResp // buffered(1): the committer never blocks on a gone caller
}

type appendResp struct {
	id  int64
	err error
}

// ErrClosed is returned by AppendWebhook after Close.
var ErrClosed = errors.New("store closed")

// AppendWebhook stores body durably before returning its id.
func (s *Store) AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error) {
	if !s.opts.GroupCommit {
		var id int64
		err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
			var err error
			id, err = insertWebhook(ctx, tx, body, receivedAt)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("store/sqlite: append webhook (%d bytes): %w", len(body), err)
		}
		return id, nil
	}
	req := appendReq{body: body, at: receivedAt, resp: make(chan appendResp, 1)}
	// The channel is unbuffered so a request is only ever accepted by a live
	// committer; after Close the closing case wins.
	select {
	case s.appends <- req:
	case <-s.closing:
		return 0, fmt.Errorf("store/sqlite: append webhook: %w", ErrClosed)
	case <-ctx.Done():
		return 0, fmt.Errorf("store/sqlite: append webhook: %w", ctx.Err())
	}
	// Once accepted the write will happen; wait for it even if ctx ends, so
	// the caller never answers 5xx for a body that was in fact stored.
	r := <-req.resp
	if r.err != nil {
		return 0, fmt.Errorf("store/sqlite: append webhook (%d bytes): %w", len(body), r.err)
	}
	return r.id, nil
}

// groupCommit is the single committer: it takes one request, sweeps up
// every request already waiting (up to MaxBatch), and commits them together.
func (s *Store) groupCommit() {
	defer s.wg.Done()
	for {
		select {
		case req := <-s.appends:
			s.commitBatch(s.collect(req))
		case <-s.closing:
			s.drain()
			return
		}
	}
}

// drain commits the appends whose callers are already blocked handing them
// over, so Close does not turn a request that raced it into an error when
// it could still be stored.
func (s *Store) drain() {
	for {
		select {
		case req := <-s.appends:
			s.commitBatch(s.collect(req))
		default:
			return
		}
	}
}

func (s *Store) collect(first appendReq) []appendReq {
	batch := []appendReq{first}
	for len(batch) < s.opts.MaxBatch {
		select {
		case req := <-s.appends:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch writes batch in one transaction and answers every caller. The
// context is background: callers already handed their bodies over, and a
// cancelled caller must not abort its neighbours' writes.
func (s *Store) commitBatch(batch []appendReq) {
	ctx := context.Background()
	ids := make([]int64, len(batch))
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for i, req := range batch {
			id, err := insertWebhook(ctx, tx, req.body, req.at)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			req.resp <- appendResp{err: fmt.Errorf("batch of %d: %w", len(batch), err)}
			continue
		}
		req.resp <- appendResp{id: ids[i]}
	}
}

func insertWebhook(ctx context.Context, tx *sql.Tx, body []byte, at time.Time) (int64, error) {
	if body == nil {
		body = []byte{}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO webhooks (body, received_at) VALUES (?, ?)`, body, toDB(at))
	if err != nil {
		return 0, fmt.Errorf("insert webhook: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert webhook id: %w", err)
	}
	return id, nil
}

// PendingWebhooks returns unprocessed webhooks, oldest first.
func (s *Store) PendingWebhooks(ctx context.Context, limit int) ([]store.Webhook, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, body, received_at FROM webhooks WHERE processed_at IS NULL ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: pending webhooks (limit %d): %w", limit, err)
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var w store.Webhook
		var at int64
		if err := rows.Scan(&w.ID, &w.Body, &at); err != nil {
			return nil, fmt.Errorf("store/sqlite: pending webhooks: scan: %w", err)
		}
		w.ReceivedAt = fromDB(at)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: pending webhooks: %w", err)
	}
	return out, nil
}

// Process runs fn and marks the webhook processed in the same transaction.
func (s *Store) Process(ctx context.Context, webhookID int64, fn func(store.Tx) error) error {
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var processed sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT processed_at FROM webhooks WHERE id = ?`, webhookID).Scan(&processed)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read webhook: %w", err)
		}
		if processed.Valid {
			return nil // a concurrent or earlier Process already did it
		}
		if err := fn(&txn{tx: tx}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET processed_at = ? WHERE id = ?`, time.Now().UnixNano(), webhookID)
		if err != nil {
			return fmt.Errorf("mark processed: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store/sqlite: process webhook %d: %w", webhookID, err)
	}
	return nil
}
