package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// incidentCols are an incident's columns as scanIncident reads them and
// sqlSaveIncident writes them.
const incidentCols = `id, rule, key, episode, waba_id, state, severity, title, events, seq,
	opened_at, updated_at, resolved_at, reason, detail, sinks`

func scanIncident(sc scanner) (store.Incident, error) {
	var inc store.Incident
	var opened, updated, resolved int64
	var sinks string
	err := sc.Scan(&inc.ID, &inc.Rule, &inc.Key, &inc.Episode, &inc.WabaID, &inc.State, &inc.Severity, &inc.Title,
		&inc.Events, &inc.Seq, &opened, &updated, &resolved, &inc.Reason, &inc.Detail, &sinks)
	if err != nil {
		return inc, err
	}
	inc.OpenedAt, inc.UpdatedAt, inc.ResolvedAt = fromDB(opened), fromDB(updated), fromDB(resolved)
	if err := json.Unmarshal([]byte(sinks), &inc.Sinks); err != nil {
		return inc, fmt.Errorf("the sinks of incident %s (%q): %w", inc.ID, sinks, err)
	}
	return inc, nil
}

func collectIncidents(rows *sql.Rows) ([]store.Incident, error) {
	defer rows.Close()
	var out []store.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// oneIncident reads at most one incident; found is false for none.
func oneIncident(row *sql.Row) (store.Incident, bool, error) {
	inc, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Incident{}, false, nil
	}
	if err != nil {
		return store.Incident{}, false, err
	}
	return inc, true, nil
}

// Incident returns the latest episode of rule's incident under key.
func (t *txn) Incident(ctx context.Context, rule, key string) (store.Incident, bool, error) {
	inc, found, err := oneIncident(t.s.queryRow(ctx, t.tx, sqlIncident, rule, key))
	if err != nil {
		return inc, false, fmt.Errorf("read incident of rule %q under %q: %w", rule, key, err)
	}
	return inc, found, nil
}

// IncidentByID returns an incident by its ID.
func (t *txn) IncidentByID(ctx context.Context, id string) (store.Incident, bool, error) {
	inc, found, err := oneIncident(t.s.queryRow(ctx, t.tx, sqlIncidentByID, id))
	if err != nil {
		return inc, false, fmt.Errorf("read incident %s: %w", id, err)
	}
	return inc, found, nil
}

// OpenIncidents returns the open incidents under key, of any rule.
func (t *txn) OpenIncidents(ctx context.Context, key string) ([]store.Incident, error) {
	rows, err := t.s.query(ctx, t.tx, sqlOpenIncidents, key)
	if err != nil {
		return nil, fmt.Errorf("read open incidents under %q: %w", key, err)
	}
	out, err := collectIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("read open incidents under %q: %w", key, err)
	}
	return out, nil
}

// SaveIncident inserts or replaces an incident by its ID.
func (t *txn) SaveIncident(ctx context.Context, inc store.Incident) error {
	sinks := []byte("[]")
	if len(inc.Sinks) > 0 {
		var err error
		if sinks, err = json.Marshal(inc.Sinks); err != nil {
			return fmt.Errorf("save incident %s: its sinks: %w", inc.ID, err)
		}
	}
	_, err := t.s.exec(ctx, t.tx, sqlSaveIncident, inc.ID, inc.Rule, inc.Key, inc.Episode, inc.WabaID, inc.State,
		inc.Severity, inc.Title, inc.Events, inc.Seq, toDB(inc.OpenedAt), toDB(inc.UpdatedAt), toDB(inc.ResolvedAt),
		inc.Reason, inc.Detail, string(sinks))
	if err != nil {
		return fmt.Errorf("save incident %s: %w", inc.ID, err)
	}
	return nil
}

// AppendDecision adds one event's routing record.
func (t *txn) AppendDecision(ctx context.Context, d store.Decision) error {
	for _, id := range d.IncidentIDs {
		if id == "" || strings.ContainsAny(id, " \t\n") {
			return fmt.Errorf("append the decision on event %d of webhook %d: incident id %q is empty or has a space", d.Index, d.WebhookID, id)
		}
	}
	_, err := t.s.exec(ctx, t.tx, sqlAddDecision, d.WebhookID, d.Index, toDB(d.At), d.WabaID, d.Field, d.Event,
		strings.Join(d.IncidentIDs, " "), d.Record)
	if err != nil {
		return fmt.Errorf("append the decision on event %d of webhook %d: %w", d.Index, d.WebhookID, err)
	}
	return nil
}

// SetTimer sets the incident's timer of its kind.
func (t *txn) SetTimer(ctx context.Context, tm store.Timer) error {
	if _, err := t.s.exec(ctx, t.tx, sqlSetTimer, tm.IncidentID, tm.Kind, toDB(tm.Due)); err != nil {
		return fmt.Errorf("set the %s timer of incident %s: %w", tm.Kind, tm.IncidentID, err)
	}
	return nil
}

// ClearTimers removes all of an incident's timers.
func (t *txn) ClearTimers(ctx context.Context, incidentID string) error {
	if _, err := t.s.exec(ctx, t.tx, sqlClearTimers, incidentID); err != nil {
		return fmt.Errorf("clear the timers of incident %s: %w", incidentID, err)
	}
	return nil
}

// Update runs fn in a write transaction of its own.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	var fnErr error
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		// A savepoint of its own, and fn's failure kept beside the op's:
		// it must not fail the writes group-committed in the same round.
		fnErr = nil
		if _, err := s.exec(ctx, tx, sqlSavepoint); err != nil {
			return 0, err
		}
		if fnErr = fn(&txn{tx: tx, s: s}); fnErr != nil {
			if _, err := s.exec(ctx, tx, sqlRollbackTo); err != nil {
				return 0, err
			}
		}
		_, err := s.exec(ctx, tx, sqlRelease)
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("store/sqlite: update: %w", err)
	}
	return fnErr
}

// DueTimers returns timers due at now, soonest first.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]store.Timer, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT incident_id, kind, due FROM timers WHERE due <= ? ORDER BY due LIMIT ?`, toDB(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: due timers: %w", err)
	}
	defer rows.Close()
	var out []store.Timer
	for rows.Next() {
		var tm store.Timer
		var due int64
		if err := rows.Scan(&tm.IncidentID, &tm.Kind, &due); err != nil {
			return nil, fmt.Errorf("store/sqlite: due timers: %w", err)
		}
		tm.Due = fromDB(due)
		out = append(out, tm)
	}
	return out, rows.Err()
}

// DeleteTimer removes one timer.
func (t *txn) DeleteTimer(ctx context.Context, tm store.Timer) error {
	if _, err := t.s.exec(ctx, t.tx, sqlDeleteTimer, tm.IncidentID, tm.Kind); err != nil {
		return fmt.Errorf("delete the %s timer of incident %s: %w", tm.Kind, tm.IncidentID, err)
	}
	return nil
}

// Incidents lists incidents, newest first.
func (s *Store) Incidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	var where []string
	var args []any
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.WabaID != "" {
		where, args = append(where, "waba_id = ?"), append(args, f.WabaID)
	}
	if f.Key != "" {
		where, args = append(where, "key = ?"), append(args, f.Key)
	}
	q := `SELECT ` + incidentCols + ` FROM incidents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY updated_at DESC, id LIMIT ?`
	args = append(args, limitOf(f.Limit))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list incidents: %w", err)
	}
	out, err := collectIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list incidents: %w", err)
	}
	return out, nil
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (store.Incident, bool, error) {
	inc, found, err := oneIncident(s.read.QueryRowContext(ctx, sqlIncidentByID, id))
	if err != nil {
		return inc, false, fmt.Errorf("store/sqlite: read incident %s: %w", id, err)
	}
	return inc, found, nil
}

// limitOf is a query's limit: all rows (bounded) when none is asked for.
func limitOf(n int) int {
	if n <= 0 {
		return 100_000
	}
	return n
}

// Decisions lists routing records, oldest first.
func (s *Store) Decisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	var where []string
	var args []any
	if f.WabaID != "" {
		where, args = append(where, "d.waba_id = ?"), append(args, f.WabaID)
	}
	if f.WebhookID != 0 {
		where, args = append(where, "d.webhook_id = ?"), append(args, f.WebhookID)
	}
	if f.IncidentID != "" {
		// An incident's decisions were made while it was open, so only
		// those are looked through (decisions_at), not the whole log.
		where = append(where, `d.at >= (SELECT opened_at FROM incidents WHERE id = ?)`,
			`d.at <= (SELECT CASE WHEN resolved_at > 0 THEN resolved_at ELSE 9223372036854775807 END FROM incidents WHERE id = ?)`,
			`instr(' ' || d.incidents || ' ', ' ' || ? || ' ') > 0`)
		args = append(args, f.IncidentID, f.IncidentID, f.IncidentID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "d.at >= ?"), append(args, toDB(f.Since))
	}
	q := `SELECT d.id, d.webhook_id, d.idx, d.at, d.waba_id, d.field, d.event, d.record, d.incidents FROM decisions d`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY d.id LIMIT ?`
	args = append(args, limitOf(f.Limit))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list decisions: %w", err)
	}
	defer rows.Close()
	var out []store.Decision
	for rows.Next() {
		var d store.Decision
		var at int64
		var incidents string
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Index, &at, &d.WabaID, &d.Field, &d.Event, &d.Record, &incidents); err != nil {
			return nil, fmt.Errorf("store/sqlite: list decisions: %w", err)
		}
		d.At = fromDB(at)
		d.IncidentIDs = strings.Fields(incidents)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Attempts lists the delivery attempts of the notifications named.
func (s *Store) Attempts(ctx context.Context, notificationIDs []string) ([]store.Attempt, error) {
	if len(notificationIDs) == 0 {
		return nil, nil
	}
	q := `SELECT outbox_id, notification_id, incident_id, sink, attempt, result, at, receipt, err, err_class, retry_after
		FROM attempts WHERE notification_id IN (?` + strings.Repeat(", ?", len(notificationIDs)-1) + `) ORDER BY id`
	args := make([]any, len(notificationIDs))
	for i, id := range notificationIDs {
		args[i] = id
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list delivery attempts: %w", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var a store.Attempt
		var at, after int64
		if err := rows.Scan(&a.OutboxID, &a.NotificationID, &a.IncidentID, &a.Sink, &a.Attempt, &a.Result, &at,
			&a.Outcome.Receipt, &a.Outcome.Err, &a.Outcome.ErrClass, &after); err != nil {
			return nil, fmt.Errorf("store/sqlite: list delivery attempts: %w", err)
		}
		a.Outcome.At, a.Outcome.RetryAfter = fromDB(at), time.Duration(after)
		out = append(out, a)
	}
	return out, rows.Err()
}
