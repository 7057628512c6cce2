package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store closed")

// AppendWebhook stores body durably before returning its id.
func (s *Store) AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error) {
	id, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		return s.insertWebhook(ctx, tx, body, receivedAt)
	})
	if err != nil {
		return 0, fmt.Errorf("store/sqlite: append webhook (%d bytes): %w", len(body), err)
	}
	return id, nil
}

func (s *Store) insertWebhook(ctx context.Context, tx *sql.Tx, body []byte, at time.Time) (int64, error) {
	if body == nil {
		body = []byte{}
	}
	res, err := s.exec(ctx, tx, sqlInsertWebhook, toDB(at))
	if err != nil {
		return 0, fmt.Errorf("insert webhook: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert webhook id: %w", err)
	}
	if _, err := s.exec(ctx, tx, sqlInsertBody, id, body); err != nil {
		return 0, fmt.Errorf("insert webhook body: %w", err)
	}
	return id, nil
}

// PendingWebhooks returns unprocessed webhooks, oldest first.
func (s *Store) PendingWebhooks(ctx context.Context, limit int) ([]store.Webhook, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT w.id, b.body, w.received_at FROM webhooks w JOIN webhook_bodies b ON b.id = w.id
		WHERE w.processed_at IS NULL ORDER BY w.id LIMIT ?`, limit)
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
	errs, err := s.ProcessBatch(ctx, []int64{webhookID}, func(_ int64, tx store.Tx) error { return fn(tx) })
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		return fmt.Errorf("store/sqlite: process webhook %d: %w", webhookID, err)
	}
	return nil
}

// ProcessBatch runs fn for each webhook under a savepoint of one
// transaction; see store.Store.
func (s *Store) ProcessBatch(ctx context.Context, webhookIDs []int64, fn func(int64, store.Tx) error) ([]error, error) {
	var errs []error
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		// A retried transaction starts over, results included.
		errs = make([]error, len(webhookIDs))
		for i, id := range webhookIDs {
			failed, err := s.processOne(ctx, tx, id, fn)
			if err != nil {
				return 0, err
			}
			errs[i] = failed
		}
		return 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: process %d webhooks: %w", len(webhookIDs), err)
	}
	return errs, nil
}

// processOne runs fn for one webhook under a savepoint. failed is that
// webhook's own failure, rolled back; err is one the transaction cannot
// survive.
func (s *Store) processOne(ctx context.Context, tx *sql.Tx, id int64, fn func(int64, store.Tx) error) (failed, err error) {
	if _, err := s.exec(ctx, tx, sqlSavepoint); err != nil {
		return nil, fmt.Errorf("savepoint for webhook %d: %w", id, err)
	}
	// Marked first, in the savepoint: a failing fn rolls the mark back too,
	// and the common case costs one statement instead of a read and a write.
	res, err := s.exec(ctx, tx, sqlMarkProcessed, time.Now().UnixNano(), id)
	var marked int64
	if err == nil {
		marked, err = res.RowsAffected()
	}
	if err != nil {
		return nil, fmt.Errorf("mark webhook %d processed: %w", id, err)
	}
	if marked == 1 {
		failed = fn(id, &txn{tx: tx, s: s})
		if failed != nil {
			if _, err := s.exec(ctx, tx, sqlRollbackTo); err != nil {
				return nil, fmt.Errorf("rolling back webhook %d after %v: %w", id, failed, err)
			}
		}
	}
	if _, err := s.exec(ctx, tx, sqlRelease); err != nil {
		return nil, fmt.Errorf("releasing savepoint of webhook %d: %w", id, err)
	}
	if marked == 0 {
		// Already processed (nothing to do) or never appended.
		var one int
		switch err := s.queryRow(ctx, tx, sqlWebhookExists, id).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound, nil
		case err != nil:
			return nil, fmt.Errorf("read webhook %d: %w", id, err)
		}
	}
	return failed, nil
}
