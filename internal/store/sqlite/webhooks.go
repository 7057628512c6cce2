package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = store.ErrClosed

// AppendWebhook stores body durably before returning its id.
func (s *Store) AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error) {
	if s.write == nil {
		return 0, fmt.Errorf("store/sqlite: append webhook (%d bytes): %w", len(body), ErrReadOnly)
	}
	if body == nil {
		body = []byte{}
	}
	id, err := s.stage(ctx, body, receivedAt)
	if err != nil {
		return 0, fmt.Errorf("store/sqlite: append webhook (%d bytes): %w", len(body), err)
	}
	return id, nil
}

// webhookCols are a webhook's columns as scanWebhook reads them.
const webhookCols = `w.id, b.body, w.received_at, w.route_attempts, w.last_error, w.parked_at`

func scanWebhooks(rows *sql.Rows) ([]store.Webhook, error) {
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var w store.Webhook
		var at, parked int64
		if err := rows.Scan(&w.ID, &w.Body, &at, &w.Attempts, &w.LastError, &parked); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		w.ReceivedAt, w.ParkedAt = fromDB(at), fromDB(parked)
		out = append(out, w)
	}
	return out, rows.Err()
}

// PendingWebhooks returns unprocessed, unparked webhooks due at now,
// oldest first.
func (s *Store) PendingWebhooks(ctx context.Context, now time.Time, limit int) ([]store.Webhook, error) {
	if s.intake == nil {
		return s.unrouted(ctx, now, limit)
	}
	imported, err := s.importedUpTo(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.unrouted(ctx, now, limit)
	if err != nil || len(out) >= limit {
		return out, err
	}
	// The rest come from the intake file as they were staged, newer than
	// anything imported: ProcessBatch imports them in the transaction
	// that routes them, so a webhook costs the main file one commit, not
	// two. A reader may have imported some since the cursor was read;
	// those the main file returned are not read twice.
	after := imported
	if len(out) > 0 {
		after = max(after, out[len(out)-1].ID)
	}
	room := limit - len(out)
	staged, err := s.intake.staged(ctx, after, math.MaxInt64, room+1)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: pending webhooks: %w", err)
	}
	if len(staged) > room {
		// More is staged than this batch takes: a backlog. Routed a
		// batch at a time out of the intake file, it stayed there, read
		// twice a pass and cleaned up a batch at a time, and intake and
		// delivery slowed down by a fifth under load; imported in bulk,
		// it costs a transaction per importBatch webhooks, as before.
		if err := s.importAfterCursor(ctx); err != nil {
			return nil, err
		}
		return s.unrouted(ctx, now, limit)
	}
	for _, r := range staged {
		out = append(out, store.Webhook{ID: r.id, Body: r.body, ReceivedAt: fromDB(r.at)})
	}
	return out, nil
}

// unrouted reads up to limit webhooks of the main file due to be routed
// at now, oldest first.
func (s *Store) unrouted(ctx context.Context, now time.Time, limit int) ([]store.Webhook, error) {
	rows, err := s.reads.query(ctx,
		`SELECT `+webhookCols+` FROM webhooks w JOIN webhook_bodies b ON b.id = w.id
		WHERE w.processed_at IS NULL AND w.parked_at = 0 AND w.route_after <= ? ORDER BY w.id LIMIT CAST(? AS INTEGER)`, toDB(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: pending webhooks (limit %d): %w", limit, err)
	}
	out, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: pending webhooks: %w", err)
	}
	return out, nil
}

// FailWebhook records a failed routing attempt; see store.Store.
func (s *Store) FailWebhook(ctx context.Context, id int64, lastErr string, now time.Time, retryAfter time.Duration, parkAfter int) (bool, error) {
	if err := s.importThrough(ctx, id); err != nil {
		return false, err
	}
	var parkedAt int64
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		err := s.queryRow(ctx, tx, sqlFailWebhook, lastErr, toDB(now.Add(retryAfter)), parkAfter, toDB(now), id).Scan(&parkedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, store.ErrNotFound
		}
		return 0, err
	})
	if err != nil {
		return false, fmt.Errorf("store/sqlite: record failed routing of webhook %d: %w", id, err)
	}
	return parkedAt != 0, nil
}

// ListParked returns parked webhooks, oldest first.
func (s *Store) ListParked(ctx context.Context, limit int) ([]store.Webhook, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+webhookCols+` FROM webhooks w JOIN webhook_bodies b ON b.id = w.id
		WHERE w.parked_at > 0 AND w.processed_at IS NULL ORDER BY w.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list parked webhooks (limit %d): %w", limit, err)
	}
	out, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list parked webhooks: %w", err)
	}
	return out, nil
}

// Webhook reads one stored webhook with its body.
func (s *Store) Webhook(ctx context.Context, id int64) (store.Webhook, bool, error) {
	if err := s.importThrough(ctx, id); err != nil {
		return store.Webhook{}, false, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks w JOIN webhook_bodies b ON b.id = w.id WHERE w.id = ?`, id)
	if err != nil {
		return store.Webhook{}, false, fmt.Errorf("store/sqlite: read webhook %d: %w", id, err)
	}
	out, err := scanWebhooks(rows)
	if err != nil {
		return store.Webhook{}, false, fmt.Errorf("store/sqlite: read webhook %d: %w", id, err)
	}
	if len(out) == 0 {
		return store.Webhook{}, false, nil
	}
	return out[0], true, nil
}

// ReplayWebhook returns a parked webhook to routing.
func (s *Store) ReplayWebhook(ctx context.Context, id int64) error {
	return s.execRow(ctx, "replay parked webhook", id, `UPDATE webhooks
		SET parked_at = 0, route_attempts = 0, route_after = 0, last_error = ''
		WHERE id = ? AND parked_at > 0 AND processed_at IS NULL`, id)
}

// DropWebhook deletes a parked webhook and its body.
func (s *Store) DropWebhook(ctx context.Context, id int64) error {
	return s.execRow(ctx, "drop parked webhook", id,
		`DELETE FROM webhooks WHERE id = ? AND parked_at > 0 AND processed_at IS NULL`, id)
}

// WebhookStats counts unrouted and parked webhooks.
func (s *Store) WebhookStats(ctx context.Context) (store.WebhookStats, error) {
	if err := s.importStaged(ctx); err != nil {
		return store.WebhookStats{}, err
	}
	var st store.WebhookStats
	var oldest sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(received_at) FROM webhooks
		WHERE processed_at IS NULL AND parked_at = 0`).Scan(&st.Unrouted, &oldest)
	if err == nil {
		st.OldestUnrouted = fromDB(oldest.Int64)
		err = s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks
			WHERE parked_at > 0 AND processed_at IS NULL`).Scan(&st.Parked)
	}
	if err != nil {
		return store.WebhookStats{}, fmt.Errorf("store/sqlite: webhook stats: %w", err)
	}
	return st, nil
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
	// Webhooks still staged in the intake file, up to the newest named,
	// are imported in the transaction that routes them.
	var staged []stagedRow
	if s.intake != nil && len(webhookIDs) > 0 {
		from := s.intake.imported.Load()
		if top := slices.Max(webhookIDs); top > from {
			var err error
			if staged, err = s.intake.staged(ctx, from, top, math.MaxInt); err != nil {
				return nil, fmt.Errorf("store/sqlite: process %d webhooks: %w", len(webhookIDs), err)
			}
		}
	}
	var errs []error
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if err := s.importRows(ctx, tx, staged); err != nil {
			return 0, err
		}
		// A retried transaction starts over, results included.
		errs = make([]error, len(webhookIDs))
		routed, err := s.processAll(ctx, tx, webhookIDs, fn, errs)
		if err != nil || routed {
			return 0, err
		}
		// One of them failed, and the batch was rolled back: each is
		// routed again under a savepoint of its own, so the one that
		// fails is rolled back alone.
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
	if len(staged) > 0 {
		s.intake.noteImported(staged[len(staged)-1].id)
	}
	return errs, nil
}

// processAll runs fn for every webhook under one savepoint, and says
// whether they all succeeded. When one fails it rolls the whole batch back
// and returns false, for processOne to route them one by one. A savepoint
// per webhook was a fifth of routing's time in the store: two statements
// each, and every page a webhook changed copied aside first, the pages
// that every webhook of a batch changes once per webhook. Webhooks that
// fail are rare, so the batch pays for them only when one does.
func (s *Store) processAll(ctx context.Context, tx *sql.Tx, ids []int64, fn func(int64, store.Tx) error, errs []error) (bool, error) {
	if _, err := s.exec(ctx, tx, sqlSavepointBatch); err != nil {
		return false, fmt.Errorf("savepoint for %d webhooks: %w", len(ids), err)
	}
	routed := true
	for i, id := range ids {
		marked, err := s.markProcessed(ctx, tx, id)
		if err != nil {
			return false, err
		}
		if !marked {
			if errs[i], err = s.unmarked(ctx, tx, id); err != nil {
				return false, err
			}
			continue
		}
		if fn(id, &txn{tx: tx, s: s}) != nil {
			if _, err := s.exec(ctx, tx, sqlRollbackToBatch); err != nil {
				return false, fmt.Errorf("rolling back %d webhooks after webhook %d failed: %w", len(ids), id, err)
			}
			routed = false
			break
		}
	}
	if _, err := s.exec(ctx, tx, sqlReleaseBatch); err != nil {
		return false, fmt.Errorf("releasing the savepoint of %d webhooks: %w", len(ids), err)
	}
	return routed, nil
}

// markProcessed marks webhook id processed, and says whether it was
// waiting to be (neither processed nor parked).
func (s *Store) markProcessed(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	res, err := s.exec(ctx, tx, sqlMarkProcessed, time.Now().UnixNano(), id)
	var marked int64
	if err == nil {
		marked, err = res.RowsAffected()
	}
	if err != nil {
		return false, fmt.Errorf("mark webhook %d processed: %w", id, err)
	}
	return marked == 1, nil
}

// unmarked is the outcome for a webhook markProcessed did not mark:
// nothing to do when it was processed already, ErrNotFound when it was
// never appended.
func (s *Store) unmarked(ctx context.Context, tx *sql.Tx, id int64) (error, error) {
	var one int
	switch err := s.queryRow(ctx, tx, sqlWebhookExists, id).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound, nil
	case err != nil:
		return nil, fmt.Errorf("read webhook %d: %w", id, err)
	}
	return nil, nil
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
	marked, err := s.markProcessed(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if marked {
		failed = fn(id, &txn{tx: tx, s: s})
		if failed != nil {
			if _, err := s.exec(ctx, tx, sqlRollbackTo); err != nil {
				return nil, fmt.Errorf("rolling back webhook %d after %w: %w", id, failed, err)
			}
		}
	}
	if _, err := s.exec(ctx, tx, sqlRelease); err != nil {
		return nil, fmt.Errorf("releasing savepoint of webhook %d: %w", id, err)
	}
	if !marked {
		return s.unmarked(ctx, tx, id)
	}
	return failed, nil
}
