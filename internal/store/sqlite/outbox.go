package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// outboxCols are an outbox row's columns as scanOutbound reads them; the
// payload comes from its own table.
const outboxCols = `id, sink, notification_id, (SELECT payload FROM outbox_payloads p WHERE p.id = outbox.id),
	state, attempts, next_attempt, created_at, accepted_at, last_error, receipt`

type scanner interface{ Scan(dest ...any) error }

func scanOutbound(sc scanner) (store.Outbound, error) {
	var o store.Outbound
	var state string
	var next, created, accepted int64
	err := sc.Scan(&o.ID, &o.Sink, &o.NotificationID, &o.Payload, &state, &o.Attempts,
		&next, &created, &accepted, &o.LastError, &o.Receipt)
	o.State = store.State(state)
	o.NextAttempt, o.CreatedAt, o.AcceptedAt = fromDB(next), fromDB(created), fromDB(accepted)
	return o, err
}

func collectOutbound(rows *sql.Rows) ([]store.Outbound, error) {
	defer rows.Close()
	var out []store.Outbound
	for rows.Next() {
		o, err := scanOutbound(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Lease claims due, unleased (or lease-expired) pending rows of sink.
func (s *Store) Lease(ctx context.Context, sink string, now time.Time, limit int, leaseFor time.Duration) ([]store.Outbound, error) {
	var out []store.Outbound
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		rows, err := s.query(ctx, tx, sqlLease,
			toDB(now.Add(leaseFor)), sink, toDB(now), toDB(now), limit)
		if err != nil {
			return 0, err
		}
		out, err = collectOutbound(rows)
		return int64(len(out)), err
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: lease sink %s (limit %d): %w", sink, limit, err)
	}
	// RETURNING order is unspecified; workers expect oldest due first.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttempt.Equal(out[j].NextAttempt) {
			return out[i].NextAttempt.Before(out[j].NextAttempt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ErrNotExclusive is returned by ReleaseLeases on a store not opened with
// Exclusive: another process may be sending the leased rows right now.
var ErrNotExclusive = errors.New("store/sqlite: leases can only be released by the process that holds the store exclusively")

// ReleaseLeases frees every lease so the rows a previous run had leased
// (in flight or merely queued in its memory when it died or stopped) are
// delivered now rather than when their lease would run out. Only the
// owner of the file may do this, which Exclusive guarantees.
func (s *Store) ReleaseLeases(ctx context.Context) (int64, error) {
	if !s.opts.Exclusive {
		return 0, ErrNotExclusive
	}
	var n int64
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = 0 WHERE state = 'pending' AND lease_until > 0`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store/sqlite: release leases: %w", err)
	}
	return n, nil
}

// execRow runs one write statement and maps "no row changed" to ErrNotFound.
// With GroupCommit, concurrent acks and retries share a transaction (and
// its fsync) the way appends do; a row that is not found does not fail its
// neighbours, since that is a count of zero, not an error.
func (s *Store) execRow(ctx context.Context, op string, id int64, query string, args ...any) error {
	n, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := s.exec(ctx, tx, query, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store/sqlite: %s %d: %w", op, id, err)
	}
	return nil
}

// Ack marks a row sent.
func (s *Store) Ack(ctx context.Context, id int64, receipt string, now time.Time) error {
	return s.execRow(ctx, "ack", id, sqlAck, receipt, toDB(now), id)
}

// Retry schedules another attempt and releases the lease.
func (s *Store) Retry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return s.execRow(ctx, "retry", id, sqlRetry, toDB(next), lastErr, id)
}

// DeadLetter parks a row for an operator.
func (s *Store) DeadLetter(ctx context.Context, id int64, lastErr string) error {
	return s.execRow(ctx, "dead-letter", id, sqlDeadLetter, lastErr, id)
}

// Replay returns a dead row to pending with attempts reset.
func (s *Store) Replay(ctx context.Context, id int64, now time.Time) error {
	return s.execRow(ctx, "replay", id, sqlReplay, toDB(now), id)
}

// Drop deletes a row.
func (s *Store) Drop(ctx context.Context, id int64) error {
	return s.execRow(ctx, "drop", id, sqlDrop, id)
}

// ListDead returns dead rows, oldest first.
func (s *Store) ListDead(ctx context.Context, limit int) ([]store.Outbound, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = 'dead' ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list dead (limit %d): %w", limit, err)
	}
	out, err := collectOutbound(rows)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list dead: %w", err)
	}
	return out, nil
}

// Stats reports pending count and oldest pending CreatedAt per sink.
func (s *Store) Stats(ctx context.Context, now time.Time) (map[string]store.SinkStats, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT sink, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY sink`)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: stats: %w", err)
	}
	defer rows.Close()
	out := map[string]store.SinkStats{}
	for rows.Next() {
		var sink string
		var n int
		var oldest int64
		if err := rows.Scan(&sink, &n, &oldest); err != nil {
			return nil, fmt.Errorf("store/sqlite: stats: scan: %w", err)
		}
		out[sink] = store.SinkStats{Pending: n, OldestPending: fromDB(oldest)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: stats: %w", err)
	}
	return out, nil
}

// GC deletes expired fingerprints and dedup keys, and processed webhooks
// and sent rows older than keepSent.
func (s *Store) GC(ctx context.Context, now time.Time, keepSent time.Duration) error {
	cutoff := toDB(now.Add(-keepSent))
	stmts := []struct {
		what  string
		query string
		arg   int64
	}{
		{"fingerprints", `DELETE FROM fingerprints WHERE expires_at <= ?`, toDB(now)},
		{"dedup keys", `DELETE FROM dedup WHERE expires_at <= ?`, toDB(now)},
		{"webhooks", `DELETE FROM webhooks WHERE processed_at IS NOT NULL AND received_at < ?`, cutoff},
		{"sent rows", `DELETE FROM outbox WHERE state = 'sent' AND sent_at < ?`, cutoff},
	}
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.query, st.arg); err != nil {
				return fmt.Errorf("store/sqlite: gc %s (now %s): %w", st.what, now.Format(time.RFC3339), err)
			}
		}
		return nil
	})
}
