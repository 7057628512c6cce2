package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// txn is the store.Tx handed to Process callbacks.
type txn struct {
	tx *sql.Tx
	s  *Store
}

// MarkChange records fingerprint; false means it was seen within window.
func (t *txn) MarkChange(ctx context.Context, fingerprint string, now time.Time, window time.Duration) (bool, error) {
	res, err := t.s.exec(ctx, t.tx, sqlMarkChange, fingerprint, toDB(now), toDB(now.Add(window)), toDB(now.Add(-window)))
	if err != nil {
		return false, fmt.Errorf("mark change %q: %w", fingerprint, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mark change %q: %w", fingerprint, err)
	}
	return n == 1, nil
}

// Dedup counts one occurrence under key; see store.Tx.
func (t *txn) Dedup(ctx context.Context, key string, now time.Time, window time.Duration) (store.DedupResult, error) {
	var sentAt, suppressed, since int64
	err := t.s.queryRow(ctx, t.tx, sqlDedupGet, key).
		Scan(&sentAt, &suppressed, &since)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.DedupResult{}, fmt.Errorf("dedup %q: %w", key, err)
	}
	if err == nil && now.Sub(fromDB(sentAt)) < window {
		return t.suppress(ctx, key, now, suppressed, since)
	}
	res := store.DedupResult{Suppressed: int(suppressed), Since: fromDB(since)}
	// The key lives for one window after a notification so a repeat can
	// still be suppressed; GC drops it afterwards, losing only a count that
	// no later notification would have reported anyway within the window.
	_, err = t.s.exec(ctx, t.tx, sqlDedupSet,
		key, toDB(now), toDB(now.Add(window)))
	if err != nil {
		return store.DedupResult{}, fmt.Errorf("dedup %q: %w", key, err)
	}
	return res, nil
}

func (t *txn) suppress(ctx context.Context, key string, now time.Time, suppressed, since int64) (store.DedupResult, error) {
	if suppressed == 0 {
		since = toDB(now)
	}
	suppressed++
	_, err := t.s.exec(ctx, t.tx, sqlDedupSuppress, suppressed, since, key)
	if err != nil {
		return store.DedupResult{}, fmt.Errorf("dedup %q: suppress: %w", key, err)
	}
	return store.DedupResult{Suppress: true, Suppressed: int(suppressed), Since: fromDB(since)}, nil
}

// Enqueue inserts an outbox row; a duplicate (NotificationID, Sink) is ignored.
func (t *txn) Enqueue(ctx context.Context, o store.Outbound) error {
	state := o.State
	if state == "" {
		state = store.Pending
	}
	res, err := t.s.exec(ctx, t.tx, sqlEnqueue,
		o.Sink, o.NotificationID, string(state), o.Attempts, toDB(o.NextAttempt),
		toDB(o.CreatedAt), toDB(o.AcceptedAt), o.LastError, o.Receipt)
	var added, id int64
	if err == nil {
		added, err = res.RowsAffected()
	}
	if err == nil && added == 1 {
		// Only when a row was added: after a no-op insert the last id is
		// some earlier row's.
		if id, err = res.LastInsertId(); err == nil {
			_, err = t.s.exec(ctx, t.tx, sqlEnqueuePayload, id, o.Payload)
		}
	}
	if err != nil {
		return fmt.Errorf("enqueue %s for sink %s: %w", o.NotificationID, o.Sink, err)
	}
	return nil
}

// Notified remembers that sink heard of the problem key.
func (t *txn) Notified(ctx context.Context, sink, key string, now time.Time) error {
	if _, err := t.s.exec(ctx, t.tx, sqlNotified, sink, key, toDB(now)); err != nil {
		return fmt.Errorf("remember sink %s heard of %q: %w", sink, key, err)
	}
	return nil
}

// WasNotified reports whether sink heard of the problem key.
func (t *txn) WasNotified(ctx context.Context, sink, key string) (bool, error) {
	var one int
	switch err := t.s.queryRow(ctx, t.tx, sqlWasNotified, sink, key).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("did sink %s hear of %q: %w", sink, key, err)
	}
	return true, nil
}

// ForgetNotified ends what Notified remembered.
func (t *txn) ForgetNotified(ctx context.Context, sink, key string) error {
	if _, err := t.s.exec(ctx, t.tx, sqlForgetNotified, sink, key); err != nil {
		return fmt.Errorf("forget sink %s heard of %q: %w", sink, key, err)
	}
	return nil
}
