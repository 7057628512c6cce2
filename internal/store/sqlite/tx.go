package sqlite

import (
	"context"
	"database/sql"
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

// Enqueue inserts an outbox row; a duplicate (NotificationID, Sink) is ignored.
func (t *txn) Enqueue(ctx context.Context, o store.Outbound) error {
	_, err := t.s.enqueue(ctx, t.tx, o)
	return err
}

// enqueue inserts an outbox row unless its (NotificationID, Sink) is
// queued already; added says whether it was new.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, o store.Outbound) (added bool, err error) {
	state := o.State
	if state == "" {
		state = store.Pending
	}
	res, err := s.exec(ctx, tx, sqlEnqueue,
		o.Sink, o.NotificationID, string(state), o.Attempts, toDB(o.NextAttempt),
		toDB(o.CreatedAt), toDB(o.AcceptedAt), o.LastError, o.Receipt, o.IncidentID, o.Seq)
	var n, id int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 1 {
		// Only when a row was added: after a no-op insert the last id is
		// some earlier row's.
		if id, err = res.LastInsertId(); err == nil {
			_, err = s.exec(ctx, tx, sqlEnqueuePayload, id, o.Payload)
		}
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s for sink %s: %w", o.NotificationID, o.Sink, err)
	}
	return n == 1, nil
}
