package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
)

// outboxCols are an outbox row's columns as scanOutbound reads them.
const outboxCols = `o.id, o.sink, o.notification_id, o.payload, o.state, o.attempts, o.next_attempt, o.created_at,
	o.accepted_at, o.last_error, o.receipt, o.incident_id, o.seq, o.resent`

func scanOutbound(row pgx.Row, extra ...any) (store.Outbound, error) {
	var o store.Outbound
	var state string
	var next, created, accepted int64
	err := row.Scan(append([]any{&o.ID, &o.Sink, &o.NotificationID, &o.Payload, &state, &o.Attempts,
		&next, &created, &accepted, &o.LastError, &o.Receipt, &o.IncidentID, &o.Seq, &o.Resent}, extra...)...)
	o.State = store.State(state)
	o.NextAttempt, o.CreatedAt, o.AcceptedAt = fromDB(next), fromDB(created), fromDB(accepted)
	o.Sink, o.NotificationID, o.LastError = unText(o.Sink), unText(o.NotificationID), unText(o.LastError)
	o.Receipt, o.IncidentID = unText(o.Receipt), unText(o.IncidentID)
	return o, err
}

// sqlLease is Lease's statement. Its inner query repeats that
// e.incident_id is not empty because only then can Postgres use
// outbox_incident, whose predicate says so: without it the check scanned
// every pending row of the sink for each candidate, and under a backlog
// of 18,000 rows a lease took three seconds and more (6 ms with it),
// holding locks on the rows it had claimed while acks and renewals of
// those rows queued behind it.
const sqlLease = `WITH due AS (
				SELECT o.id FROM outbox o
				WHERE o.sink = $1 AND o.state = 'pending' AND o.next_attempt <= $2 AND o.lease_until <= $2
					AND (o.incident_id = '' OR NOT EXISTS (SELECT 1 FROM outbox e
						WHERE e.sink = o.sink AND e.incident_id = o.incident_id AND e.incident_id <> '' AND e.state = 'pending' AND e.seq < o.seq))
				ORDER BY o.next_attempt, o.id
				LIMIT $3
				FOR UPDATE SKIP LOCKED)
			UPDATE outbox o SET lease_until = $4, lease_owner = $5, lease_token = (SELECT nextval('lease_tokens')),
				resent = o.resent OR o.lease_until > 0
			FROM due WHERE o.id = due.id
			RETURNING ` + outboxCols + `, (SELECT t.thread FROM incident_threads t WHERE t.incident_id = o.incident_id AND t.sink = o.sink),
				o.lease_token`

// Lease claims due, unleased (or lease-expired) pending rows of sink for
// owner under one token from the lease_tokens sequence, in one statement
// of its own (one round trip, where a transaction around it took four).
// The candidates
// are locked FOR UPDATE SKIP LOCKED: two replicas leasing at once take
// different rows, neither waits for the other, and a row the other just
// leased is seen leased once its lock is had (Postgres rechecks the
// conditions on the row's latest version). Of the pending rows of one
// sink and incident only the first transition is leased; the earlier
// ones stay pending while leased, so a second replica never takes the
// next transition of an incident whose previous one is in flight.
func (s *Store) Lease(ctx context.Context, sink, owner string, now time.Time, limit int, leaseFor time.Duration) ([]store.Outbound, error) {
	if owner == "" {
		return nil, fmt.Errorf("store/postgres: lease sink %s: owner is empty", sink)
	}
	until := now.Add(leaseFor)
	var out []store.Outbound
	// One statement, so one round trip: the token is drawn in it, once
	// (an uncorrelated subquery), and it commits on its own.
	err := s.retrying(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, sqlLease,
			text(sink), toDB(now), limit, toDB(until), text(owner))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var thread *string
			var token int64
			o, err := scanOutbound(rows, &thread, &token)
			o.Lease = store.Lease{Owner: owner, Token: token, Until: until}
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			if thread != nil {
				o.Thread = unText(*thread)
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: lease sink %s for %s (limit %d): %w", sink, owner, limit, err)
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

// sqlReleaseLeases reads the pending rows through outbox_due: the table
// holds the sent rows of the whole history kept.
const sqlReleaseLeases = `UPDATE outbox SET lease_until = 0, lease_owner = '', lease_token = 0, resent = true
		WHERE state = 'pending' AND lease_until > 0 AND lease_owner = $1`

// ReleaseLeases frees owner's leases, so the rows a previous run of the
// same owner left leased are delivered now.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int64, error) {
	tag, err := s.pool.Exec(ctx, sqlReleaseLeases, text(owner))
	if err != nil {
		return 0, fmt.Errorf("store/postgres: release leases of %s: %w", owner, err)
	}
	return tag.RowsAffected(), nil
}

// The results of an attempt in the delivery log.
const (
	resultSent  = "sent"
	resultRetry = "retry"
	resultDead  = "dead"
)

// fenced is the condition every outcome and renewal is fenced by: the row
// carries the lease it was made under. $1 is the row, $2 and $3 the
// lease's owner and token.
const fenced = `id = $1 AND state = 'pending' AND lease_owner = $2 AND lease_token = $3`

// lostOrGone tells, after a fenced statement changed no row, whether the
// row is gone (ErrNotFound) or carries another lease or none
// (ErrLeaseLost).
func lostOrGone(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return store.ErrLeaseLost
}

// outcome records an outcome: set (whose own arguments are numbered from
// $4) changes the row only while it carries lease, and then the attempt
// is logged as result and, for a success, the outcome's thread kept for
// the sink's later sends about the incident, and then runs (when set),
// all in one transaction; then is not run for a refused outcome. The
// change, the log and the thread are one statement, so an outcome
// without then costs one round trip rather than five.
func (s *Store) outcome(ctx context.Context, op string, id int64, lease store.Lease, result string, o store.Outcome,
	then func(pgx.Tx) error, set string, args ...any) error {
	q, args := outcomeStatement(id, lease, result, o, set, args...)
	var err error
	if then == nil {
		err = s.recordInRound(ctx, q, args, id)
	} else {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			if err := recordOutcome(ctx, tx, q, args, id); err != nil {
				return err
			}
			return then(tx)
		})
	}
	if err != nil {
		return fmt.Errorf("store/postgres: %s %d (lease of %s): %w", op, id, lease.Owner, err)
	}
	return nil
}

// outcomeStatement is the one statement of an outcome (see outcome).
func outcomeStatement(id int64, lease store.Lease, result string, o store.Outcome, set string, args ...any) (string, []any) {
	n := 4 + len(args)
	q := fmt.Sprintf(`WITH done AS (
			UPDATE outbox SET `+set+`, lease_until = 0, lease_owner = '', lease_token = 0
			WHERE `+fenced+` RETURNING notification_id, incident_id, sink, attempts),
		logged AS (
			INSERT INTO attempts (outbox_id, notification_id, incident_id, sink, attempt, result, at, receipt, err, err_class, retry_after)
			SELECT $1, notification_id, incident_id, sink, attempts, $%d::text, $%d::bigint, $%d::text, $%d::text, $%d::text, $%d::bigint
			FROM done RETURNING 1),
		kept AS (
			INSERT INTO incident_threads (incident_id, sink, thread)
			SELECT incident_id, sink, $%d::text FROM done WHERE $%d::boolean AND incident_id <> ''
			ON CONFLICT DO NOTHING RETURNING 1)
		SELECT count(*) FROM done`, n, n+1, n+2, n+3, n+4, n+5, n+6, n+7)
	args = append([]any{id, text(lease.Owner), lease.Token}, args...)
	args = append(args, result, toDB(o.At), text(o.Receipt), text(o.Err), text(o.ErrClass), int64(o.RetryAfter),
		text(o.Thread), result == resultSent && o.Thread != "")
	return q, args
}

// recordOutcome runs an outcome's statement; no row changed is the row
// gone or under another lease.
func recordOutcome(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string, args []any, id int64) error {
	var changed int
	if err := q.QueryRow(ctx, sql, args...).Scan(&changed); err != nil {
		return err
	}
	if changed == 0 {
		return lostOrGone(ctx, q, id)
	}
	return nil
}

// Outcomes without a hand-over are group-committed: the outcomes
// recorded at the same moment are sent as one batch, which Postgres runs
// as one implicit transaction, so they cost one round trip and one WAL
// flush between them. One commit each had every sender's ack wait for a
// flush of its own, and those flushes were what a webhook's 200 waited
// behind.
const (
	outcomeWorkers  = 2
	maxOutcomeBatch = 64
)

type outcomeReq struct {
	ctx  context.Context
	sql  string
	args []any
	id   int64
	resp chan error // buffered(1)
}

// recordInRound records one outcome in the next round and waits for it.
func (s *Store) recordInRound(ctx context.Context, sql string, args []any, id int64) error {
	req := outcomeReq{ctx: ctx, sql: sql, args: args, id: id, resp: make(chan error, 1)}
	if err := s.outcomes.hand(ctx, req); err != nil {
		return err
	}
	return <-req.resp
}

// outcomeRound records batch in one batch of statements. Should the batch
// fail, nothing of it was committed, and each outcome is recorded on its
// own instead, under its caller's context, as before rounds: one bad
// outcome, or a dropped connection, fails only what it fails.
func (s *Store) outcomeRound(batch []outcomeReq) {
	var b pgx.Batch
	for _, r := range batch {
		b.Queue(r.sql, r.args...)
	}
	changed := make([]int, len(batch))
	ctx, cancel := roundContext(batch)
	defer cancel()
	br := s.pool.SendBatch(ctx, &b)
	var err error
	for i := range batch {
		if err = br.QueryRow().Scan(&changed[i]); err != nil {
			break
		}
	}
	if err = errors.Join(err, br.Close()); err != nil {
		for _, r := range batch {
			r.resp <- s.retrying(r.ctx, func() error { return recordOutcome(r.ctx, s.pool, r.sql, r.args, r.id) })
		}
		return
	}
	for i, r := range batch {
		if changed[i] == 0 {
			r.resp <- lostOrGone(r.ctx, s.pool, r.id)
			continue
		}
		r.resp <- nil
	}
}

// roundContext lasts as long as the longest-lived of the callers'
// contexts: one caller that gave up must not abort its neighbours'
// outcomes, and a database that stopped answering must not hold the
// round past the time every caller allowed.
func roundContext(batch []outcomeReq) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// RenewAll extends the leases still held among held in one statement, so
// a worker's renewals cost one round trip a tick however many rows it
// holds: one statement a row, under load, took longer than the lease
// they were renewing.
func (s *Store) RenewAll(ctx context.Context, held []store.HeldLease, until time.Time) ([]int64, error) {
	if len(held) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(held))
	owners := make([]string, len(held))
	tokens := make([]int64, len(held))
	for i, h := range held {
		ids[i], owners[i], tokens[i] = h.ID, text(h.Lease.Owner), h.Lease.Token
	}
	rows, err := s.pool.Query(ctx, `UPDATE outbox o SET lease_until = $1
		FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS l(id, owner, token)
		WHERE o.id = l.id AND o.state = 'pending' AND o.lease_owner = l.owner AND o.lease_token = l.token
		RETURNING o.id`, toDB(until), ids, owners, tokens)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: renew %d leases from row %d: %w", len(held), held[0].ID, err)
	}
	kept, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store/postgres: renew %d leases from row %d: %w", len(held), held[0].ID, err)
	}
	renewed := make(map[int64]bool, len(kept))
	for _, id := range kept {
		renewed[id] = true
	}
	var lost []int64
	for _, id := range ids {
		if !renewed[id] {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// What each outcome sets, its arguments numbered from $4.
const (
	setSent  = `state = 'sent', attempts = attempts + 1, receipt = $4, sent_at = $5`
	setRetry = `attempts = attempts + 1, next_attempt = $4, last_error = $5, resent = true`
	setDead  = `state = 'dead', attempts = attempts + 1, last_error = $4`
)

// Ack marks a row sent.
func (s *Store) Ack(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	return s.outcome(ctx, "ack", id, lease, resultSent, o, nil,
		setSent, text(o.Receipt), toDB(o.At))
}

// Retry schedules another attempt and releases the lease.
func (s *Store) Retry(ctx context.Context, id int64, lease store.Lease, next time.Time, o store.Outcome) error {
	return s.outcome(ctx, "retry", id, lease, resultRetry, o, nil,
		setRetry, toDB(next), text(o.Err))
}

// DeadLetter parks a row for an operator.
func (s *Store) DeadLetter(ctx context.Context, id int64, lease store.Lease, o store.Outcome) error {
	return s.outcome(ctx, "dead-letter", id, lease, resultDead, o, nil,
		setDead, text(o.Err))
}

// FailOver records a failure as DeadLetter or Retry do and enqueues the
// hand-over rows in the same transaction; see store.Store.
func (s *Store) FailOver(ctx context.Context, id int64, lease store.Lease, dead bool, next time.Time, o store.Outcome,
	handOver []store.Outbound) ([]store.Outbound, error) {
	var added []store.Outbound
	enqueueAll := func(tx pgx.Tx) error {
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
		err = s.outcome(ctx, "dead-letter", id, lease, resultDead, o, enqueueAll,
			setDead, text(o.Err))
	} else {
		err = s.outcome(ctx, "retry", id, lease, resultRetry, o, enqueueAll,
			setRetry, toDB(next), text(o.Err))
	}
	if err != nil {
		return nil, err
	}
	return added, nil
}

// Replay returns a dead row to pending with attempts reset.
// The sink's workers are told, so a replay from the command line goes out
// at once.
func (s *Store) Replay(ctx context.Context, id int64, now time.Time) error {
	q := `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = $1, resent = true,
		lease_until = 0, lease_owner = '', lease_token = 0
		WHERE id = $2 AND state = 'dead' RETURNING sink`
	if !s.opts.PollOnly {
		q = `WITH r AS (` + q + `) SELECT pg_notify('` + s.channel(channelOutbox) + `', r.sink) FROM r`
	}
	return s.execRow(ctx, "replay", id, q, toDB(now), id)
}

// Drop deletes a row.
func (s *Store) Drop(ctx context.Context, id int64) error {
	return s.execRow(ctx, "drop", id, `DELETE FROM outbox WHERE id = $1`, id)
}

// ListDead returns dead rows, oldest first.
func (s *Store) ListDead(ctx context.Context, limit int) ([]store.Outbound, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+outboxCols+` FROM outbox o WHERE o.state = 'dead' ORDER BY o.id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list dead (limit %d): %w", limit, err)
	}
	defer rows.Close()
	var out []store.Outbound
	for rows.Next() {
		o, err := scanOutbound(rows)
		if err != nil {
			return nil, fmt.Errorf("store/postgres: list dead: scan: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: list dead: %w", err)
	}
	return out, nil
}

// Stats reports pending count and oldest pending CreatedAt per sink.
func (s *Store) Stats(ctx context.Context, now time.Time) (map[string]store.SinkStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT sink, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY sink`)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: stats: %w", err)
	}
	defer rows.Close()
	out := map[string]store.SinkStats{}
	for rows.Next() {
		var sink string
		var n int
		var oldest int64
		if err := rows.Scan(&sink, &n, &oldest); err != nil {
			return nil, fmt.Errorf("store/postgres: stats: scan: %w", err)
		}
		out[unText(sink)] = store.SinkStats{Pending: n, OldestPending: fromDB(oldest)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: stats: %w", err)
	}
	return out, nil
}

// The collections of the two largest histories, each through the index
// of its own rows (TestWholeHistoryStatementsUseTheirIndexes).
const (
	sqlGCWebhooks = `DELETE FROM webhooks WHERE id IN
			(SELECT id FROM webhooks WHERE processed_at IS NOT NULL AND received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
	sqlGCSent = `DELETE FROM outbox WHERE id IN
			(SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`
)

// GC deletes expired fingerprints, processed webhooks and sent rows older
// than keepSent, and decisions, delivery attempts and incidents older
// than keepRecords, GCBatch rows per statement, each its own short
// transaction. Replicas collecting at once skip each other's rows.
func (s *Store) GC(ctx context.Context, now time.Time, keepSent, keepRecords time.Duration) error {
	cutoff := toDB(now.Add(-keepSent))
	records := toDB(now.Add(-keepRecords))
	stmts := []struct {
		what  string
		query string
		arg   int64
	}{
		{"fingerprints", `DELETE FROM fingerprints WHERE fp IN
			(SELECT fp FROM fingerprints WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, toDB(now)},
		{"webhooks", sqlGCWebhooks, cutoff},
		{"sent rows", sqlGCSent, cutoff},
		{"decisions", `DELETE FROM decisions WHERE id IN
			(SELECT id FROM decisions WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, records},
		{"delivery attempts", `DELETE FROM attempts WHERE id IN
			(SELECT id FROM attempts WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, records},
		// An incident untouched for so long; one with a timer still to
		// fire stays. Its threads go with it (a trigger, migration 6).
		{"incidents", `DELETE FROM incidents WHERE id IN
			(SELECT id FROM incidents i WHERE updated_at < $1
				AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.incident_id = i.id) LIMIT $2 FOR UPDATE SKIP LOCKED)`, records},
		// Buckets no rule's window reaches any more.
		{"counts", `DELETE FROM counts WHERE (rule, key, bucket) IN
			(SELECT rule, key, bucket FROM counts WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, toDB(now)},
	}
	for _, st := range stmts {
		for {
			tag, err := s.pool.Exec(ctx, st.query, st.arg, s.opts.GCBatch)
			if err != nil {
				return fmt.Errorf("store/postgres: gc %s (now %s): %w", st.what, now.Format(time.RFC3339), err)
			}
			if tag.RowsAffected() < int64(s.opts.GCBatch) {
				break
			}
		}
	}
	return nil
}
