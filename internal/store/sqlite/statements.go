package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// The statements of the hot paths (intake, routing, delivery) are prepared
// once, on the single writer connection, at Open: parsing them anew in
// every transaction was an eighth of routing's CPU.
//
// A hot statement's LIMIT is bound as CAST(? AS INTEGER), never as a bare
// ?: SQLite plans a bare LIMIT parameter by its value, so binding another
// value expires the statement and the next step parses it again. The
// delivery workers lease as many rows as they have senders free, a
// different number each time, and every lease was parsed anew (158 µs a
// lease rather than 33, BenchmarkLeaseVaryingLimit).
const (
	// sqlMarkChange records a fingerprint unless it was seen within the
	// window (seen_at after the 4th argument); one row changed means the
	// change is fresh.
	sqlMarkChange = `INSERT INTO fingerprints (fp, seen_at, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (fp) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at
		WHERE fingerprints.seen_at <= ?`
	sqlEnqueue = `INSERT INTO outbox
		(sink, notification_id, state, attempts, next_attempt, created_at, accepted_at, last_error, receipt, incident_id, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (notification_id, sink) DO NOTHING`
	sqlEnqueuePayload = `INSERT INTO outbox_payloads (id, payload) VALUES (?, ?)`
	sqlWebhookExists  = `SELECT 1 FROM webhooks WHERE id = ?`
	// The import from the intake file keeps the intake's ids; a webhook
	// imported before a crash that kept the cursor back is left as it is.
	sqlImportWebhook = `INSERT INTO webhooks (id, received_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`
	sqlImportBody    = `INSERT INTO webhook_bodies (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`
	sqlMoveCursor    = `UPDATE intake_cursor SET imported = MAX(imported, ?) WHERE id = 1`
	sqlSavepoint     = `SAVEPOINT webhook`
	sqlMarkProcessed = `UPDATE webhooks SET processed_at = ? WHERE id = ? AND processed_at IS NULL AND parked_at = 0`
	sqlRollbackTo    = `ROLLBACK TO webhook`
	sqlRelease       = `RELEASE webhook`
	// The savepoint of a whole batch, which processAll routes under.
	sqlSavepointBatch  = `SAVEPOINT batch`
	sqlRollbackToBatch = `ROLLBACK TO batch`
	sqlReleaseBatch    = `RELEASE batch`
	// sqlLease leases due rows, but of the pending rows of one sink and
	// incident only the first transition: a later one waits until the
	// earlier one is sent or dead.
	sqlLease = `UPDATE outbox SET lease_until = ?, lease_owner = ?, lease_token = ?,
			resent = CASE WHEN lease_until > 0 THEN 1 ELSE resent END
			WHERE id IN (SELECT o.id FROM outbox o
				WHERE o.sink = ? AND o.state = 'pending' AND o.next_attempt <= ? AND o.lease_until <= ?
					AND (o.incident_id = '' OR NOT EXISTS (SELECT 1 FROM outbox e
						WHERE e.sink = o.sink AND e.incident_id = o.incident_id AND e.incident_id <> '' AND e.state = 'pending' AND e.seq < o.seq))
				ORDER BY o.next_attempt, o.id LIMIT CAST(? AS INTEGER))
			RETURNING ` + outboxCols + `, (SELECT thread FROM incident_threads t WHERE t.incident_id = outbox.incident_id AND t.sink = outbox.sink)`
	// sqlReleaseLeases goes through the pending rows' index: the table
	// holds the sent rows of the whole history kept.
	sqlReleaseLeases = `UPDATE outbox INDEXED BY outbox_due SET lease_until = 0, lease_owner = '', lease_token = 0, resent = 1
		WHERE state = 'pending' AND lease_until > 0 AND lease_owner = ?`
	sqlOutboxStats = `SELECT sink, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY sink`
	sqlListDead    = `SELECT ` + outboxCols + ` FROM outbox WHERE state = 'dead' ORDER BY id LIMIT ?`
	sqlGCWebhooks  = `DELETE FROM webhooks WHERE id IN
		(SELECT id FROM webhooks WHERE processed_at IS NOT NULL AND received_at < ? LIMIT ?)`
	sqlGCSent = `DELETE FROM outbox WHERE id IN
		(SELECT id FROM outbox WHERE state = 'sent' AND sent_at < ? LIMIT ?)`
	// The outcomes and the renewal are fenced by the lease: they change the
	// row only while it carries the lease they were made under. Finishing
	// clears the lease, so a second outcome of the same lease is refused.
	sqlRenew = `UPDATE outbox SET lease_until = ?
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?`
	sqlAck = `UPDATE outbox SET state = 'sent', attempts = attempts + 1, receipt = ?, sent_at = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?
		RETURNING ` + attemptCols
	sqlRetry = `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?, resent = 1,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?
		RETURNING ` + attemptCols
	sqlDeadLetter = `UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'pending' AND lease_owner = ? AND lease_token = ?
		RETURNING ` + attemptCols
	// attemptCols are what an outcome's row says for the delivery log.
	attemptCols   = `notification_id, incident_id, sink, attempts`
	sqlAddAttempt = `INSERT INTO attempts
		(outbox_id, notification_id, incident_id, sink, attempt, result, at, receipt, err, err_class, retry_after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlKeepThread   = `INSERT INTO incident_threads (incident_id, sink, thread) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	sqlOutboxExists = `SELECT 1 FROM outbox WHERE id = ?`
	sqlReplay       = `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?, resent = 1,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = ? AND state = 'dead'`
	sqlFailWebhook = `UPDATE webhooks SET route_attempts = route_attempts + 1, last_error = ?, route_after = ?,
		parked_at = CASE WHEN route_attempts + 1 >= ? THEN ? ELSE 0 END
		WHERE id = ? AND processed_at IS NULL AND parked_at = 0
		RETURNING parked_at`
	sqlIncident     = `SELECT ` + incidentCols + ` FROM incidents WHERE rule = ? AND key = ? ORDER BY episode DESC LIMIT 1`
	sqlIncidentByID = `SELECT ` + incidentCols + ` FROM incidents WHERE id = ?`
	// Open or not, a key has few incidents: (key, rule, episode) finds
	// them without an index of the open ones to keep.
	sqlOpenIncidents = `SELECT ` + incidentCols + ` FROM incidents WHERE key = ? AND state = 'open' ORDER BY rule, episode`
	// sqlSaveIncident updates an incident in place rather than replacing
	// its row, which would delete and re-insert it in every index.
	sqlSaveIncident = `INSERT INTO incidents (` + incidentCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, title = excluded.title,
			events = excluded.events, seq = excluded.seq, updated_at = excluded.updated_at,
			resolved_at = excluded.resolved_at, reason = excluded.reason, detail = excluded.detail, sinks = excluded.sinks`
	sqlAddDecision = `INSERT INTO decisions (webhook_id, idx, at, waba_id, field, event, incidents, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlSetTimer    = `INSERT INTO timers (incident_id, kind, due) VALUES (?, ?, ?)
		ON CONFLICT (incident_id, kind) DO UPDATE SET due = excluded.due`
	sqlClearTimers = `DELETE FROM timers WHERE incident_id = ?`
	sqlDeleteTimer = `DELETE FROM timers WHERE incident_id = ? AND kind = ?`
	sqlHeartbeat   = `INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`
	sqlDrop        = `DELETE FROM outbox WHERE id = ?`
	// sqlAddCount adds one match to its bucket; sqlCountSince sums the
	// buckets of a window.
	sqlAddCount = `INSERT INTO counts (rule, key, bucket, n, expires_at) VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (rule, key, bucket) DO UPDATE SET n = n + 1, expires_at = max(expires_at, excluded.expires_at)`
	sqlCountSince = `SELECT COALESCE(SUM(n), 0) FROM counts WHERE rule = ? AND key = ? AND bucket >= ?`
)

var preparedStatements = []string{sqlMarkChange, sqlEnqueue, sqlEnqueuePayload, sqlWebhookExists,
	sqlImportWebhook, sqlImportBody, sqlMoveCursor, sqlSavepoint, sqlMarkProcessed, sqlRollbackTo, sqlRelease, sqlSavepointBatch, sqlRollbackToBatch, sqlReleaseBatch, sqlLease, sqlRenew, sqlAck, sqlRetry, sqlDeadLetter, sqlOutboxExists, sqlReplay, sqlDrop,
	sqlFailWebhook, sqlHeartbeat, sqlAddAttempt, sqlKeepThread, sqlIncident, sqlIncidentByID, sqlOpenIncidents,
	sqlSaveIncident, sqlAddDecision, sqlSetTimer, sqlClearTimers, sqlDeleteTimer, sqlAddCount, sqlCountSince}

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
	s.reads.close()
	for _, st := range s.prepared {
		_ = st.Close()
	}
}

// readCache prepares a read pool's hot queries once, by their text, the
// first time each runs: the router reads what to route and the active
// silences every pass, and parsing those reads anew was a seventh of the
// router's CPU at 100 webhooks a second. Only fixed texts go through it,
// so it stays small. Every Store has one, read-only ones too.
type readCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newReadCache(db *sql.DB) *readCache {
	return &readCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// query runs q on the pool, prepared. A statement that does not prepare
// runs unprepared, so its error is the query's own.
func (c *readCache) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

func (c *readCache) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

func (c *readCache) stmt(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.stmts[q] = st
	return st
}

func (c *readCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}
