package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
)

// txn is the store.Tx handed to Process and Update callbacks: one
// webhook's savepoint, or an Update's transaction.
type txn struct {
	tx pgx.Tx
	s  *Store
	// queue holds the writes not sent yet (see pipeline.go); sent says
	// whether anything was sent since the txn began.
	queue []queued
	sent  bool
}

// MarkChange records fingerprint in one upsert; false means it was seen
// within window. Two replicas marking one fingerprint at once queue on
// its unique key, and the second finds the first's mark.
func (t *txn) MarkChange(ctx context.Context, fingerprint string, now time.Time, window time.Duration) (bool, error) {
	tag, err := t.exec(ctx, `INSERT INTO fingerprints (fp, seen_at, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (fp) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at
		WHERE fingerprints.seen_at <= $4`,
		text(fingerprint), toDB(now), toDB(now.Add(window)), toDB(now.Add(-window)))
	if err != nil {
		return false, fmt.Errorf("mark change %q: %w", fingerprint, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Enqueue inserts an outbox row; a duplicate (NotificationID, Sink) is
// ignored by the unique key.
func (t *txn) Enqueue(ctx context.Context, o store.Outbound) error {
	q, args := enqueueStatement(o)
	t.later(fmt.Sprintf("enqueue %s for sink %s", o.NotificationID, o.Sink), q, args...)
	return nil
}

// enqueue inserts an outbox row unless its (NotificationID, Sink) is
// queued already; added says whether it was new.
func (s *Store) enqueue(ctx context.Context, tx pgx.Tx, o store.Outbound) (added bool, err error) {
	q, args := enqueueStatement(o)
	rows, err := tx.Query(ctx, q, args...)
	if err == nil {
		added = rows.Next()
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s for sink %s: %w", o.NotificationID, o.Sink, err)
	}
	return added, nil
}

// enqueueStatement is the insert of o, returning the sink when the row
// was new. It notifies no one, for the reason appendRound does not: the
// replica that routed wakes its own sink workers, and the others' find
// the row at their next poll.
func enqueueStatement(o store.Outbound) (string, []any) {
	state := o.State
	if state == "" {
		state = store.Pending
	}
	q := `INSERT INTO outbox
		(sink, notification_id, payload, state, attempts, next_attempt, created_at, accepted_at, last_error, receipt, incident_id, seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (notification_id, sink) DO NOTHING
		RETURNING sink`
	return q, []any{text(o.Sink), text(o.NotificationID), o.Payload, string(state), o.Attempts, toDB(o.NextAttempt),
		toDB(o.CreatedAt), toDB(o.AcceptedAt), text(o.LastError), text(o.Receipt), text(o.IncidentID), o.Seq}
}

// lockKey takes the transaction's advisory lock on a problem key: the
// router reads a key's incidents and then writes what it decided, and a
// second replica routing a change of the same problem must wait for that
// and read what the first wrote, not decide beside it (two open pages of
// one incident). The lock ends with the transaction.
//
// It is held back until the read that follows it, which waits for it in
// the same round trip.
func (t *txn) lockKey(key string) {
	t.later(fmt.Sprintf("lock incidents under %q", key), `SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, "incident key "+text(key))
}

// Incident returns the latest episode of rule's incident under key.
func (t *txn) Incident(ctx context.Context, rule, key string) (store.Incident, bool, error) {
	t.lockKey(key)
	inc, found, err := oneIncident(t.queryRow(ctx, `SELECT `+incidentCols+` FROM incidents
		WHERE key = $1 AND rule = $2 ORDER BY episode DESC LIMIT 1`, text(key), text(rule)))
	if err != nil {
		return inc, false, fmt.Errorf("read incident of rule %q under %q: %w", rule, key, err)
	}
	return inc, found, nil
}

// IncidentByID returns an incident by its ID, under its key's lock.
func (t *txn) IncidentByID(ctx context.Context, id string) (store.Incident, bool, error) {
	var key string
	err := t.queryRow(ctx, `SELECT key FROM incidents WHERE id = $1`, text(id)).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Incident{}, false, nil
	}
	var inc store.Incident
	var found bool
	if err == nil {
		t.lockKey(unText(key))
		inc, found, err = oneIncident(t.queryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1`, text(id)))
	}
	if err != nil {
		return inc, false, fmt.Errorf("read incident %s: %w", id, err)
	}
	return inc, found, nil
}

// OpenIncidents returns the open incidents under key, of any rule.
func (t *txn) OpenIncidents(ctx context.Context, key string) ([]store.Incident, error) {
	t.lockKey(key)
	rows, err := t.query(ctx, `SELECT `+incidentCols+` FROM incidents WHERE key = $1 AND state = 'open' ORDER BY rule, episode`, text(key))
	if err != nil {
		return nil, fmt.Errorf("read open incidents under %q: %w", key, err)
	}
	out, err := collectIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("read open incidents under %q: %w", key, err)
	}
	return out, nil
}

// SaveIncident inserts or replaces an incident by its ID, in one upsert.
func (t *txn) SaveIncident(ctx context.Context, inc store.Incident) error {
	t.later(fmt.Sprintf("save incident %s", inc.ID), `INSERT INTO incidents (`+incidentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, title = excluded.title,
			events = excluded.events, seq = excluded.seq, updated_at = excluded.updated_at,
			resolved_at = excluded.resolved_at, reason = excluded.reason, detail = excluded.detail, sinks = excluded.sinks`,
		text(inc.ID), text(inc.Rule), text(inc.Key), inc.Episode, text(inc.WabaID), text(inc.State), inc.Severity, text(inc.Title),
		inc.Events, inc.Seq, toDB(inc.OpenedAt), toDB(inc.UpdatedAt), toDB(inc.ResolvedAt), text(inc.Reason), inc.Detail, texts(inc.Sinks))
	return nil
}

// AppendDecision adds one event's routing record.
func (t *txn) AppendDecision(ctx context.Context, d store.Decision) error {
	for _, id := range d.IncidentIDs {
		if id == "" || strings.ContainsAny(id, " \t\n") {
			return fmt.Errorf("append the decision on event %d of webhook %d: incident id %q is empty or has a space", d.Index, d.WebhookID, id)
		}
	}
	t.later(fmt.Sprintf("append the decision on event %d of webhook %d", d.Index, d.WebhookID),
		`INSERT INTO decisions (webhook_id, idx, at, waba_id, field, event, incidents, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.WebhookID, d.Index, toDB(d.At), text(d.WabaID), text(d.Field), text(d.Event), texts(d.IncidentIDs), d.Record)
	return nil
}

// SetTimer sets the incident's timer of its kind.
func (t *txn) SetTimer(ctx context.Context, tm store.Timer) error {
	t.later(fmt.Sprintf("set the %s timer of incident %s", tm.Kind, tm.IncidentID), `INSERT INTO timers (incident_id, kind, due) VALUES ($1, $2, $3)
		ON CONFLICT (incident_id, kind) DO UPDATE SET due = excluded.due`, text(tm.IncidentID), text(tm.Kind), toDB(tm.Due))
	return nil
}

// ClearTimers removes all of an incident's timers.
func (t *txn) ClearTimers(ctx context.Context, incidentID string) error {
	t.later(fmt.Sprintf("clear the timers of incident %s", incidentID), `DELETE FROM timers WHERE incident_id = $1`, text(incidentID))
	return nil
}

// DeleteTimer removes one timer.
func (t *txn) DeleteTimer(ctx context.Context, tm store.Timer) error {
	t.later(fmt.Sprintf("delete the %s timer of incident %s", tm.Kind, tm.IncidentID),
		`DELETE FROM timers WHERE incident_id = $1 AND kind = $2`, text(tm.IncidentID), text(tm.Kind))
	return nil
}

// SaveSilence inserts or replaces a silence by its ID.
func (t *txn) SaveSilence(ctx context.Context, s store.Silence) error {
	_, err := t.exec(ctx, `INSERT INTO silences (`+silenceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET cond = excluded.cond, author = excluded.author, comment = excluded.comment,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at, expired_at = excluded.expired_at`,
		text(s.ID), text(s.When), text(s.Author), text(s.Comment), toDB(s.StartsAt), toDB(s.EndsAt), toDB(s.CreatedAt), toDB(s.ExpiredAt))
	if err != nil {
		return fmt.Errorf("save silence %s: %w", s.ID, err)
	}
	return nil
}

// GetSilence reads a silence in the transaction.
func (t *txn) GetSilence(ctx context.Context, id string) (store.Silence, bool, error) {
	return oneSilence(t.queryRow(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = $1`, text(id)))
}

// Update runs fn in a transaction of its own; fn's error rolls it back
// and is returned as it is.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	var fnErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t := &txn{tx: tx, s: s}
		fnErr = fn(t)
		if fnErr == nil {
			fnErr = t.flush(ctx)
		}
		if fnErr != nil && retryable(fnErr) {
			return fnErr
		}
		if fnErr != nil {
			return errRolledBack
		}
		return nil
	})
	if fnErr != nil && errors.Is(err, errRolledBack) {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("store/postgres: update: %w", err)
	}
	return nil
}

// errRolledBack makes BeginFunc roll back an Update whose fn failed.
var errRolledBack = errors.New("rolled back")
