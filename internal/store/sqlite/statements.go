package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// The statements of the hot paths (intake, routing, delivery) are prepared
// once, on the single writer connection, at Open: parsing them anew in
// every transaction was an eighth of routing's CPU.
const (
	// sqlMarkChange records a fingerprint unless it was seen within the
	// window (seen_at after the 4th argument); one row changed means the
	// change is fresh.
	sqlMarkChange = `INSERT INTO fingerprints (fp, seen_at, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (fp) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at
		WHERE fingerprints.seen_at <= ?`
	sqlDedupGet = `SELECT sent_at, suppressed, since FROM dedup WHERE key = ?`
	sqlDedupSet = `INSERT INTO dedup (key, sent_at, expires_at, suppressed, since) VALUES (?, ?, ?, 0, 0)
		ON CONFLICT (key) DO UPDATE SET sent_at = excluded.sent_at, expires_at = excluded.expires_at, suppressed = 0, since = 0`
	sqlDedupSuppress = `UPDATE dedup SET suppressed = ?, since = ? WHERE key = ?`
	sqlEnqueue       = `INSERT INTO outbox
		(sink, notification_id, state, attempts, next_attempt, created_at, accepted_at, last_error, receipt)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (notification_id, sink) DO NOTHING`
	sqlEnqueuePayload = `INSERT INTO outbox_payloads (id, payload) VALUES (?, ?)`
	sqlInsertWebhook  = `INSERT INTO webhooks (received_at) VALUES (?)`
	sqlInsertBody     = `INSERT INTO webhook_bodies (id, body) VALUES (?, ?)`
	sqlWebhookExists  = `SELECT 1 FROM webhooks WHERE id = ?`
	sqlSavepoint      = `SAVEPOINT webhook`
	sqlMarkProcessed  = `UPDATE webhooks SET processed_at = ? WHERE id = ? AND processed_at IS NULL AND parked_at = 0`
	sqlRollbackTo     = `ROLLBACK TO webhook`
	sqlRelease        = `RELEASE webhook`
	sqlLease          = `UPDATE outbox SET lease_until = ?, lease_owner = ?, lease_token = ?
			WHERE id IN (SELECT id FROM outbox
				WHERE sink = ? AND state = 'pending' AND next_attempt <= ? AND lease_until <= ?
				ORDER BY next_attempt, id LIMIT ?)
			RETURNING ` + outboxCols
	// The outcomes and the renewal are fenced by the lease: they change the
	// row only while it carries the lease they were made under. Finishing
	// clears the lease, so a second outcome of the same lease is refused.
	sqlRenew = `UPDATE outbox SET lease_until = ?
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?`
	sqlAck = `UPDATE outbox SET state = 'sent', attempts = attempts + 1, receipt = ?, sent_at = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?`
	sqlRetry = `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?`
	sqlDeadLetter = `UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?`
	sqlOutboxExists = `SELECT 1 FROM outbox WHERE id = ?`
	sqlReplay       = `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'dead'`
	sqlNotified = `INSERT INTO notified (sink, key, at) VALUES (?, ?, ?)
		ON CONFLICT (sink, key) DO UPDATE SET at = excluded.at`
	sqlWasNotified    = `SELECT 1 FROM notified WHERE sink = ? AND key = ?`
	sqlForgetNotified = `DELETE FROM notified WHERE sink = ? AND key = ?`
	sqlFailWebhook    = `UPDATE webhooks SET route_attempts = route_attempts + 1, last_error = ?, route_after = ?,
		parked_at = CASE WHEN route_attempts + 1 >= ? THEN ? ELSE 0 END
		WHERE id = ? AND processed_at IS NULL AND parked_at = 0
		RETURNING parked_at`
	sqlHeartbeat = `INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`
	sqlDrop      = `DELETE FROM outbox WHERE id = ?`
)

var preparedStatements = []string{sqlMarkChange, sqlDedupGet, sqlDedupSet, sqlDedupSuppress, sqlEnqueue, sqlEnqueuePayload, sqlInsertWebhook, sqlInsertBody, sqlWebhookExists, sqlSavepoint, sqlMarkProcessed, sqlRollbackTo, sqlRelease, sqlLease, sqlRenew, sqlAck, sqlRetry, sqlDeadLetter, sqlOutboxExists, sqlReplay, sqlDrop,
	sqlNotified, sqlWasNotified, sqlForgetNotified, sqlFailWebhook, sqlHeartbeat}

// prepare readies every hot statement on the writer.
func (s *Store) prepare(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(preparedStatements))
	for _, q := range preparedStatements {
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	return nil
}

// stmt returns q bound to tx, prepared if it is one of the hot statements.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if st, ok := s.prepared[q]; ok {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.stmt(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

func (s *Store) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, tx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

func (s *Store) closeStatements() {
	for _, st := range s.prepared {
		_ = st.Close()
	}
}
