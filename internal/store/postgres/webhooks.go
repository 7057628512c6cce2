package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
)

// AppendWebhook stores body durably (the commit is synchronous) before
// returning its id.
func (s *Store) AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error) {
	if body == nil {
		body = []byte{}
	}
	if s.appends == nil {
		return 0, fmt.Errorf("store/postgres: append webhook (%d bytes): the store was opened read-only", len(body))
	}
	id, err := s.appendWebhook(ctx, body, toDB(receivedAt))
	if err != nil {
		return 0, fmt.Errorf("store/postgres: append webhook (%d bytes): %w", len(body), err)
	}
	return id, nil
}

const webhookCols = `id, body, received_at, route_attempts, last_error, parked_at`

func scanWebhooks(rows pgx.Rows) ([]store.Webhook, error) {
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var w store.Webhook
		var at, parked int64
		if err := rows.Scan(&w.ID, &w.Body, &at, &w.Attempts, &w.LastError, &parked); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		w.ReceivedAt, w.ParkedAt, w.LastError = fromDB(at), fromDB(parked), unText(w.LastError)
		out = append(out, w)
	}
	return out, rows.Err()
}

func (s *Store) webhooks(ctx context.Context, what, q string, args ...any) ([]store.Webhook, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %s: %w", what, err)
	}
	out, err := scanWebhooks(rows)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %s: %w", what, err)
	}
	return out, nil
}

// PendingWebhooks returns unprocessed, unparked webhooks due at now,
// oldest first. Those another replica is routing at this moment (locked
// by its ProcessBatch) are skipped, so each replica plans a batch of its
// own rather than all of them the same one; the lock this statement takes
// to tell ends with it.
func (s *Store) PendingWebhooks(ctx context.Context, now time.Time, limit int) ([]store.Webhook, error) {
	return s.webhooks(ctx, fmt.Sprintf("pending webhooks (limit %d)", limit),
		`SELECT `+webhookCols+` FROM webhooks
		WHERE processed_at IS NULL AND parked_at = 0 AND route_after <= $1 ORDER BY id LIMIT $2
		FOR KEY SHARE SKIP LOCKED`, toDB(now), limit)
}

// ListParked returns parked webhooks, oldest first.
func (s *Store) ListParked(ctx context.Context, limit int) ([]store.Webhook, error) {
	return s.webhooks(ctx, fmt.Sprintf("list parked webhooks (limit %d)", limit),
		`SELECT `+webhookCols+` FROM webhooks WHERE parked_at > 0 AND processed_at IS NULL ORDER BY id LIMIT $1`, limit)
}

// Webhook reads one stored webhook with its body.
func (s *Store) Webhook(ctx context.Context, id int64) (store.Webhook, bool, error) {
	out, err := s.webhooks(ctx, fmt.Sprintf("read webhook %d", id), `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id)
	if err != nil || len(out) == 0 {
		return store.Webhook{}, false, err
	}
	return out[0], true, nil
}

// FailWebhook records a failed routing attempt; see store.Store.
func (s *Store) FailWebhook(ctx context.Context, id int64, lastErr string, now time.Time, retryAfter time.Duration, parkAfter int) (bool, error) {
	var parkedAt int64
	err := s.pool.QueryRow(ctx, `UPDATE webhooks SET route_attempts = route_attempts + 1, last_error = $1, route_after = $2,
			parked_at = CASE WHEN route_attempts + 1 >= $3::integer THEN $4::bigint ELSE 0 END
		WHERE id = $5 AND processed_at IS NULL AND parked_at = 0
		RETURNING parked_at`, text(lastErr), toDB(now.Add(retryAfter)), parkAfter, toDB(now), id).Scan(&parkedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("store/postgres: record failed routing of webhook %d: %w", id, err)
	}
	return parkedAt != 0, nil
}

// ReplayWebhook returns a parked webhook to routing.
func (s *Store) ReplayWebhook(ctx context.Context, id int64) error {
	return s.execRow(ctx, "replay parked webhook", id, `UPDATE webhooks
		SET parked_at = 0, route_attempts = 0, route_after = 0, last_error = ''
		WHERE id = $1 AND parked_at > 0 AND processed_at IS NULL`, id)
}

// DropWebhook deletes a parked webhook.
func (s *Store) DropWebhook(ctx context.Context, id int64) error {
	return s.execRow(ctx, "drop parked webhook", id,
		`DELETE FROM webhooks WHERE id = $1 AND parked_at > 0 AND processed_at IS NULL`, id)
}

// execRow runs one write statement and maps "no row changed" to
// ErrNotFound.
func (s *Store) execRow(ctx context.Context, op string, id int64, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store/postgres: %s %d: %w", op, id, err)
	}
	return nil
}

// WebhookStats counts unrouted and parked webhooks.
func (s *Store) WebhookStats(ctx context.Context) (store.WebhookStats, error) {
	var st store.WebhookStats
	var oldest *int64
	err := s.pool.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM webhooks WHERE processed_at IS NULL AND parked_at = 0),
			(SELECT MIN(received_at) FROM webhooks WHERE processed_at IS NULL AND parked_at = 0),
			(SELECT COUNT(*) FROM webhooks WHERE parked_at > 0 AND processed_at IS NULL)`).Scan(&st.Unrouted, &oldest, &st.Parked)
	if err != nil {
		return store.WebhookStats{}, fmt.Errorf("store/postgres: webhook stats: %w", err)
	}
	if oldest != nil {
		st.OldestUnrouted = fromDB(*oldest)
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
		return fmt.Errorf("store/postgres: process webhook %d: %w", webhookID, err)
	}
	return nil
}

// ProcessBatch runs fn for each webhook under a savepoint of one
// transaction; see store.Store. The webhooks are claimed first, all at
// once, with FOR UPDATE SKIP LOCKED: one another replica is routing at
// this moment is skipped at once (fn not run, no error), as one it
// already routed is, and once this transaction commits, the other
// replica's claim finds the webhook processed.
func (s *Store) ProcessBatch(ctx context.Context, webhookIDs []int64, fn func(int64, store.Tx) error) ([]error, error) {
	var errs []error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		errs = make([]error, len(webhookIDs))
		claimed, err := s.claim(ctx, tx, webhookIDs)
		if err != nil {
			return err
		}
		routed, err := s.processAll(ctx, tx, webhookIDs, claimed, fn)
		if err != nil {
			return err
		}
		if !routed {
			// One of them failed, and the batch was rolled back: each is
			// routed again under a savepoint of its own, so the one that
			// fails is rolled back alone.
			errs = make([]error, len(webhookIDs))
			for i, id := range webhookIDs {
				if !claimed[id] {
					continue
				}
				failed, err := s.processOne(ctx, tx, id, fn)
				if err != nil {
					return err
				}
				errs[i] = failed
			}
		}
		return s.unknown(ctx, tx, webhookIDs, claimed, errs)
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: process %d webhooks: %w", len(webhookIDs), err)
	}
	return errs, nil
}

// claim locks the webhooks of ids that are still to be routed and that no
// other transaction holds.
func (s *Store) claim(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]bool, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM webhooks WHERE id = ANY($1) AND processed_at IS NULL AND parked_at = 0
		ORDER BY id FOR UPDATE SKIP LOCKED`, ids)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks %s: %w", idList(ids), err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("claim webhooks %s: %w", idList(ids), err)
	}
	claimed := make(map[int64]bool, len(got))
	for _, id := range got {
		claimed[id] = true
	}
	return claimed, nil
}

// unknown sets ErrNotFound for the ids not claimed that are not stored
// at all (never appended, or dropped).
func (s *Store) unknown(ctx context.Context, tx pgx.Tx, ids []int64, claimed map[int64]bool, errs []error) error {
	var rest []int64
	for _, id := range ids {
		if !claimed[id] {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM webhooks WHERE id = ANY($1)`, rest)
	if err != nil {
		return fmt.Errorf("read webhooks %s: %w", idList(rest), err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("read webhooks %s: %w", idList(rest), err)
	}
	known := make(map[int64]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	for i, id := range ids {
		if !claimed[id] && !known[id] {
			errs[i] = store.ErrNotFound
		}
	}
	return nil
}

// processAll runs fn for every claimed webhook of ids under one
// savepoint, and says whether they all succeeded. When one fails it rolls
// the whole batch back and returns false, for processOne to route them one
// by one. A savepoint per webhook cost each webhook two statements and a
// round trip of its own: the writes a webhook holds back (see pipeline.go)
// now go out with the next webhook's first read, and the batch's last
// ones with the release. Webhooks that fail are rare, so the batch pays
// for them only when one does.
func (s *Store) processAll(ctx context.Context, tx pgx.Tx, ids []int64, claimed map[int64]bool, fn func(int64, store.Tx) error) (bool, error) {
	var mine []int64
	for _, id := range ids {
		if claimed[id] {
			mine = append(mine, id)
		}
	}
	if len(mine) == 0 {
		return true, nil
	}
	failed, err := s.routeUnder(ctx, tx, "batch", fmt.Sprintf("%d webhooks", len(mine)), mine, fn)
	return failed == nil && err == nil, err
}

// processOne runs fn for one claimed webhook under a savepoint of its
// own; see routeUnder.
func (s *Store) processOne(ctx context.Context, tx pgx.Tx, id int64, fn func(int64, store.Tx) error) (failed, err error) {
	return s.routeUnder(ctx, tx, "webhook", fmt.Sprintf("webhook %d", id), []int64{id}, fn)
}

// routeUnder runs fn for each of the claimed webhooks ids, in order, under
// the savepoint named savepoint, what naming them in errors. failed is the
// first failure of fn, with everything under the savepoint rolled back;
// err is one the transaction cannot survive. The savepoint and each mark
// go out with the next read, and the release with the last writes (see
// pipeline.go).
func (s *Store) routeUnder(ctx context.Context, tx pgx.Tx, savepoint, what string, ids []int64, fn func(int64, store.Tx) error) (failed, err error) {
	t := &txn{tx: tx, s: s}
	t.later("savepoint for "+what, `SAVEPOINT `+savepoint)
	for _, id := range ids {
		t.later(fmt.Sprintf("mark webhook %d processed", id), `UPDATE webhooks SET processed_at = `+nowNS+` WHERE id = $1`, id)
		if failed = fn(id, t); failed != nil {
			break
		}
	}
	if failed == nil {
		t.later("releasing savepoint of "+what, `RELEASE SAVEPOINT `+savepoint)
		if failed = t.flush(ctx); failed == nil {
			return nil, nil
		}
	}
	t.queue = nil
	if !t.sent {
		// Nothing of it reached the server: there is nothing to undo.
		return failed, nil
	}
	if retryable(failed) {
		// Crossed another replica's transaction: the whole batch is run
		// again, rather than these webhooks counted as failing.
		return nil, failed
	}
	if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT `+savepoint+`; RELEASE SAVEPOINT `+savepoint); err != nil {
		return nil, fmt.Errorf("rolling back %s after %w: %w", what, failed, err)
	}
	return failed, nil
}
