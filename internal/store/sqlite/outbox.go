package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// outboxCols are an outbox row's columns as scanOutbound reads them; the
// payload comes from its own table.
const outboxCols = `id, sink, notification_id, (SELECT payload FROM outbox_payloads p WHERE p.id = outbox.id),
	state, attempts, next_attempt, created_at, accepted_at, last_error, receipt, incident_id, seq, resent`

type scanner interface{ Scan(dest ...any) error }

func scanOutbound(sc scanner, extra ...any) (store.Outbound, error) {
	var o store.Outbound
	var state string
	var next, created, accepted int64
	err := sc.Scan(append([]any{&o.ID, &o.Sink, &o.NotificationID, &o.Payload, &state, &o.Attempts,
		&next, &created, &accepted, &o.LastError, &o.Receipt, &o.IncidentID, &o.Seq, &o.Resent}, extra...)...)
	o.State = store.State(state)
	o.NextAttempt, o.CreatedAt, o.AcceptedAt = fromDB(next), fromDB(created), fromDB(accepted)
	return o, err
}

// collectLeased reads the rows Lease returns: an outbox row and the
// thread of its incident at its sink.
func collectLeased(rows *sql.Rows) ([]store.Outbound, error) {
	defer rows.Close()
	var out []store.Outbound
	for rows.Next() {
		var thread sql.NullString
		o, err := scanOutbound(rows, &thread)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		o.Thread = thread.String
		out = append(out, o)
	}
	return out, rows.Err()
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

// Lease claims due, unleased (or lease-expired) pending rows of sink for
// owner, under one new token.
func (s *Store) Lease(ctx context.Context, sink, owner string, now time.Time, limit int, leaseFor time.Duration) ([]store.Outbound, error) {
	if owner == "" {
		return nil, fmt.Errorf("store/sqlite: lease sink %s: owner is empty", sink)
	}
	lease := store.Lease{Owner: owner, Token: newToken(), Until: now.Add(leaseFor)}
	var out []store.Outbound
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		rows, err := s.query(ctx, tx, sqlLease,
			toDB(lease.Until), lease.Owner, lease.Token, sink, toDB(now), toDB(now), limit)
		if err != nil {
			return 0, err
		}
		out, err = collectLeased(rows)
		return int64(len(out)), err
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: lease sink %s for %s (limit %d): %w", sink, owner, limit, err)
	}
	for i := range out {
		out[i].Lease = lease
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

// newToken returns a positive random lease token: unique per lease call
// without a shared counter, so replicas need not coordinate.
func newToken() int64 { return rand.Int64N(math.MaxInt64-1) + 1 }

// ReleaseLeases frees owner's leases, so the rows a previous run of the
// same owner had leased (in flight or merely queued in its memory when it
// died or stopped) are delivered now rather than when their lease would
// run out.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int64, error) {
	n, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, sqlReleaseLeases, owner)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if err != nil {
		return 0, fmt.Errorf("store/sqlite: release leases of %s: %w", owner, err)
	}
	return n, nil
}

// fencedRow records an outcome: it runs one statement fenced by a lease
// (its last two arguments are the lease's owner and token) and, when the
// row was changed, logs the attempt as result and, for a success, keeps
// the outcome's thread for the sink's later sends about the incident. No
// row changed means the row is gone (ErrNotFound) or carries another lease
// or none (ErrLeaseLost); which is read in the same transaction. With
// GroupCommit, concurrent outcomes share a transaction (and its fsync) the
// way appends do; a refused outcome does not fail its neighbours.
func (s *Store) fencedRow(ctx context.Context, op string, id int64, lease store.Lease, result string, o store.Outcome, query string, args ...any) error {
	return s.fencedRowThen(ctx, op, id, lease, result, o, nil, query, args...)
}

// fencedRowThen is fencedRow that also runs then in the same transaction
// once the outcome is recorded; then is not run for a refused outcome.
func (s *Store) fencedRowThen(ctx context.Context, op string, id int64, lease store.Lease, result string, o store.Outcome,
	then func(ctx context.Context, tx *sql.Tx) error, query string, args ...any) error {
	args = append(args, id, lease.Owner, lease.Token)
	const gone = -1
	n, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		var a store.Attempt
		err := s.queryRow(ctx, tx, query, args...).Scan(&a.NotificationID, &a.IncidentID, &a.Sink, &a.Attempt)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			switch err := s.queryRow(ctx, tx, sqlOutboxExists, id).Scan(&one); {
			case errors.Is(err, sql.ErrNoRows):
				return gone, nil
			case err != nil:
				return 0, err
			}
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if _, err := s.exec(ctx, tx, sqlAddAttempt, id, a.NotificationID, a.IncidentID, a.Sink, a.Attempt, result,
			toDB(o.At), o.Receipt, o.Err, o.ErrClass, int64(o.RetryAfter)); err != nil {
			return 0, err
		}
		if result == resultSent && a.IncidentID != "" && o.Thread != "" {
			if _, err := s.exec(ctx, tx, sqlKeepThread, a.IncidentID, a.Sink, o.Thread); err != nil {
				return 0, err
			}
		}
		if then != nil {
			if err := then(ctx, tx); err != nil {
				return 0, err
			}
		}
		return 1, nil
	})
	switch {
	case err != nil:
	case n == gone:
		err = store.ErrNotFound
	case n == 0:
		err = store.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("store/sqlite: %s %d (lease of %s): %w", op, id, lease.Owner, err)
	}
	return nil
}

// The results of an attempt in the delivery log.
const (
	resultSent  = "sent"
	resultRetry = "retry"
	resultDead  = "dead"
)

// execRow runs one write statement and maps "no row changed" to ErrNotFound.
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

// RenewAll extends the leases still held among held, in one transaction
// of one statement per row: on one connection, statements are cheap and
// commits are what cost.
func (s *Store) RenewAll(ctx context.Context, held []store.HeldLease, until time.Time) ([]int64, error) {
	if len(held) == 0 {
		return nil, nil
	}
	var lost []int64
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		lost = lost[:0] // a retried transaction starts over
		for _, h := range held {
			res, err := s.exec(ctx, tx, sqlRenew, toDB(until), h.ID, h.Lease.Owner, h.Lease.Token)
			if err != nil {
				return 0, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return 0, err
			}
			if n == 0 {
				lost = append(lost, h.ID)
			}
		}
		return 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: renew %d leases from row %d: %w", len(held), held[0].ID, err)
	}
	return lost, nil
}

// Ack marks a row sent.
func (s *Store) Ack(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	return s.fencedRow(ctx, "ack", id, lease, resultSent, o, sqlAck, o.Receipt, toDB(o.At))
}

// Retry schedules another attempt and releases the lease.
func (s *Store) Retry(ctx context.Context, id int64, lease store.Lease, next time.Time, o store.Outcome) error {
	return s.fencedRow(ctx, "retry", id, lease, resultRetry, o, sqlRetry, toDB(next), o.Err)
}

// DeadLetter parks a row for an operator.
func (s *Store) DeadLetter(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	return s.fencedRow(ctx, "dead-letter", id, lease, resultDead, o, sqlDeadLetter, o.Err)
}

// FailOver records a failure as DeadLetter or Retry do and enqueues the
// hand-over rows in the same transaction.
func (s *Store) FailOver(ctx context.Context, id int64, lease store.Lease, dead bool, next time.Time, o store.Outcome,
	handOver []store.Outbound) ([]store.Outbound, error) {
	var added []store.Outbound
	enqueue := func(ctx context.Context, tx *sql.Tx) error {
		added = added[:0] // the transaction may be run again
		for _, row := range handOver {
			ok, err := s.enqueue(ctx, tx, row)
			if err != nil {
				return fmt.Errorf("hand over to sink %s: %w", row.Sink, err)
			}
			if ok {
				added = append(added, row)
			}
		}
		return nil
	}
	var err error
	if dead {
		err = s.fencedRowThen(ctx, "dead-letter", id, lease, resultDead, o, enqueue, sqlDeadLetter, o.Err)
	} else {
		err = s.fencedRowThen(ctx, "retry", id, lease, resultRetry, o, enqueue, sqlRetry, toDB(next), o.Err)
	}
	if err != nil {
		return nil, err
	}
	return added, nil
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
	rows, err := s.read.QueryContext(ctx, sqlListDead, limit)
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
	rows, err := s.read.QueryContext(ctx, sqlOutboxStats)
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

// GC deletes expired fingerprints, processed webhooks and sent rows older
// than keepSent, and decisions, delivery attempts and resolved incidents
// older than keepRecords, GCBatch rows per write: each batch is one small
// write of its own, between which intake's appends go through, rather than
// one DELETE that holds the only writer for seconds.
func (s *Store) GC(ctx context.Context, now time.Time, keepSent, keepRecords time.Duration) error {
	cutoff := toDB(now.Add(-keepSent))
	records := toDB(now.Add(-keepRecords))
	stmts := []struct {
		what  string
		query string
		arg   int64
	}{
		{"fingerprints", `DELETE FROM fingerprints WHERE fp IN
			(SELECT fp FROM fingerprints WHERE expires_at <= ? LIMIT ?)`, toDB(now)},
		// Bodies go with their webhooks (ON DELETE CASCADE), payloads
		// with their rows.
		{"webhooks", sqlGCWebhooks, cutoff},
		{"sent rows", sqlGCSent, cutoff},
		{"decisions", `DELETE FROM decisions WHERE id IN
			(SELECT id FROM decisions WHERE at < ? LIMIT ?)`, records},
		{"delivery attempts", `DELETE FROM attempts WHERE id IN
			(SELECT id FROM attempts WHERE at < ? LIMIT ?)`, records},
		// An incident untouched for so long: resolved long ago, or a
		// problem the schema gives no end (a violation) that nothing has
		// mentioned since; one with a timer still to fire stays. Its
		// threads go with it (a trigger, migration 14).
		{"incidents", `DELETE FROM incidents WHERE row IN
			(SELECT row FROM incidents i WHERE updated_at < ?
				AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.incident_id = i.id) LIMIT ?)`, records},
		// Buckets no rule's window reaches any more.
		{"counts", `DELETE FROM counts WHERE (rule, key, bucket) IN
			(SELECT rule, key, bucket FROM counts WHERE expires_at <= ? LIMIT ?)`, toDB(now)},
	}
	for _, st := range stmts {
		for {
			n, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
				res, err := tx.ExecContext(ctx, st.query, st.arg, s.opts.GCBatch)
				if err != nil {
					return 0, err
				}
				return res.RowsAffected()
			})
			if err != nil {
				return fmt.Errorf("store/sqlite: gc %s (now %s): %w", st.what, now.Format(time.RFC3339), err)
			}
			if s.afterGCBatch != nil {
				s.afterGCBatch(st.what, n)
			}
			if n < int64(s.opts.GCBatch) {
				break
			}
		}
	}
	return nil
}
