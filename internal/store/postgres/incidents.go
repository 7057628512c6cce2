package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
)

// incidentCols are an incident's columns as scanIncident reads them and
// SaveIncident writes them.
const incidentCols = `id, rule, key, episode, waba_id, state, severity, title, events, seq,
	opened_at, updated_at, resolved_at, reason, detail, sinks`

func scanIncident(row pgx.Row) (store.Incident, error) {
	var inc store.Incident
	var opened, updated, resolved int64
	err := row.Scan(&inc.ID, &inc.Rule, &inc.Key, &inc.Episode, &inc.WabaID, &inc.State, &inc.Severity, &inc.Title,
		&inc.Events, &inc.Seq, &opened, &updated, &resolved, &inc.Reason, &inc.Detail, &inc.Sinks)
	if err != nil {
		return inc, err
	}
	inc.OpenedAt, inc.UpdatedAt, inc.ResolvedAt = fromDB(opened), fromDB(updated), fromDB(resolved)
	inc.ID, inc.Rule, inc.Key, inc.WabaID = unText(inc.ID), unText(inc.Rule), unText(inc.Key), unText(inc.WabaID)
	inc.State, inc.Title, inc.Reason, inc.Sinks = unText(inc.State), unText(inc.Title), unText(inc.Reason), unTexts(inc.Sinks)
	return inc, nil
}

func collectIncidents(rows pgx.Rows) ([]store.Incident, error) {
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
func oneIncident(row pgx.Row) (store.Incident, bool, error) {
	inc, err := scanIncident(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Incident{}, false, nil
	}
	if err != nil {
		return store.Incident{}, false, err
	}
	return inc, true, nil
}

// where builds a query's conditions with numbered placeholders.
type where struct {
	conds []string
	args  []any
}

// add appends cond, whose placeholders are written as $; each takes the
// next argument.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "$?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit appends the LIMIT clause's argument and returns the clause.
func (w *where) limit(n int) string {
	w.args = append(w.args, limitOf(n))
	return " LIMIT $" + strconv.Itoa(len(w.args))
}

// Incidents lists incidents, newest first.
func (s *Store) Incidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	var w where
	if f.State != "" {
		w.add("state = $?", text(f.State))
	}
	if f.WabaID != "" {
		w.add("waba_id = $?", text(f.WabaID))
	}
	if f.Key != "" {
		w.add("key = $?", text(f.Key))
	}
	q := `SELECT ` + incidentCols + ` FROM incidents` + w.String() + ` ORDER BY updated_at DESC, id`
	q += w.limit(f.Limit)
	rows, err := s.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list incidents: %w", err)
	}
	out, err := collectIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list incidents: %w", err)
	}
	return out, nil
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (store.Incident, bool, error) {
	inc, found, err := oneIncident(s.pool.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1`, text(id)))
	if err != nil {
		return inc, false, fmt.Errorf("store/postgres: read incident %s: %w", id, err)
	}
	return inc, found, nil
}

// Decisions lists routing records, oldest first.
func (s *Store) Decisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	var w where
	if f.WabaID != "" {
		w.add("d.waba_id = $?", text(f.WabaID))
	}
	if f.WebhookID != 0 {
		w.add("d.webhook_id = $?", f.WebhookID)
	}
	if f.IncidentID != "" {
		// Made while the incident was open, and naming it; an incident
		// the store does not know (never, or collected) selects none.
		id := text(f.IncidentID)
		w.add(`d.at >= (SELECT opened_at FROM incidents WHERE id = $?)`, id)
		w.add(`d.at <= (SELECT CASE WHEN resolved_at > 0 THEN resolved_at ELSE 9223372036854775807 END FROM incidents WHERE id = $?)`, id)
		w.add(`d.incidents @> ARRAY[$?::text]`, id)
	}
	if !f.Since.IsZero() {
		w.add("d.at >= $?", toDB(f.Since))
	}
	q := `SELECT d.id, d.webhook_id, d.idx, d.at, d.waba_id, d.field, d.event, d.record, d.incidents FROM decisions d` +
		w.String() + ` ORDER BY d.id`
	q += w.limit(f.Limit)
	rows, err := s.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list decisions: %w", err)
	}
	defer rows.Close()
	var out []store.Decision
	for rows.Next() {
		var d store.Decision
		var at int64
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Index, &at, &d.WabaID, &d.Field, &d.Event, &d.Record, &d.IncidentIDs); err != nil {
			return nil, fmt.Errorf("store/postgres: list decisions: %w", err)
		}
		d.At = fromDB(at)
		d.WabaID, d.Field, d.Event, d.IncidentIDs = unText(d.WabaID), unText(d.Field), unText(d.Event), unTexts(d.IncidentIDs)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: list decisions: %w", err)
	}
	return out, nil
}

// Attempts lists the delivery attempts of the notifications named.
func (s *Store) Attempts(ctx context.Context, notificationIDs []string) ([]store.Attempt, error) {
	if len(notificationIDs) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT outbox_id, notification_id, incident_id, sink, attempt, result, at,
			receipt, err, err_class, retry_after
		FROM attempts WHERE notification_id = ANY($1) ORDER BY id`, texts(notificationIDs))
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list delivery attempts: %w", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var a store.Attempt
		var at, after int64
		if err := rows.Scan(&a.OutboxID, &a.NotificationID, &a.IncidentID, &a.Sink, &a.Attempt, &a.Result, &at,
			&a.Outcome.Receipt, &a.Outcome.Err, &a.Outcome.ErrClass, &after); err != nil {
			return nil, fmt.Errorf("store/postgres: list delivery attempts: %w", err)
		}
		a.Outcome.At, a.Outcome.RetryAfter = fromDB(at), time.Duration(after)
		a.NotificationID, a.IncidentID, a.Sink = unText(a.NotificationID), unText(a.IncidentID), unText(a.Sink)
		a.Outcome.Receipt, a.Outcome.Err, a.Outcome.ErrClass = unText(a.Outcome.Receipt), unText(a.Outcome.Err), unText(a.Outcome.ErrClass)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: list delivery attempts: %w", err)
	}
	return out, nil
}

// DueTimers returns timers due at now, soonest first.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]store.Timer, error) {
	rows, err := s.pool.Query(ctx, `SELECT incident_id, kind, due FROM timers WHERE due <= $1 ORDER BY due, incident_id, kind LIMIT $2`,
		toDB(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: due timers: %w", err)
	}
	defer rows.Close()
	var out []store.Timer
	for rows.Next() {
		var tm store.Timer
		var due int64
		if err := rows.Scan(&tm.IncidentID, &tm.Kind, &due); err != nil {
			return nil, fmt.Errorf("store/postgres: due timers: %w", err)
		}
		tm.Due, tm.IncidentID, tm.Kind = fromDB(due), unText(tm.IncidentID), unText(tm.Kind)
		out = append(out, tm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: due timers: %w", err)
	}
	return out, nil
}

const silenceCols = `id, cond, author, comment, starts_at, ends_at, created_at, expired_at`

func scanSilence(row pgx.Row) (store.Silence, error) {
	var s store.Silence
	var starts, ends, created, expired int64
	if err := row.Scan(&s.ID, &s.When, &s.Author, &s.Comment, &starts, &ends, &created, &expired); err != nil {
		return s, err
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.ExpiredAt = fromDB(starts), fromDB(ends), fromDB(created), fromDB(expired)
	s.ID, s.When, s.Author, s.Comment = unText(s.ID), unText(s.When), unText(s.Author), unText(s.Comment)
	return s, nil
}

func oneSilence(row pgx.Row) (store.Silence, bool, error) {
	s, err := scanSilence(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Silence{}, false, nil
	}
	if err != nil {
		return store.Silence{}, false, fmt.Errorf("read silence: %w", err)
	}
	return s, true, nil
}

// Silences lists silences, the latest to start first.
func (s *Store) Silences(ctx context.Context, f store.SilenceFilter) ([]store.Silence, error) {
	var w where
	if !f.ActiveAt.IsZero() {
		at := toDB(f.ActiveAt)
		w.add("ends_at > $?", at)
		w.add("starts_at <= $?", at)
		w.add("(expired_at = 0 OR expired_at > $?)", at)
	}
	q := `SELECT ` + silenceCols + ` FROM silences` + w.String() + ` ORDER BY starts_at DESC, id`
	q += w.limit(f.Limit)
	rows, err := s.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list silences: %w", err)
	}
	defer rows.Close()
	var out []store.Silence
	for rows.Next() {
		sil, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("store/postgres: list silences: %w", err)
		}
		out = append(out, sil)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: list silences: %w", err)
	}
	return out, nil
}

// Silence reads one silence.
func (s *Store) Silence(ctx context.Context, id string) (store.Silence, bool, error) {
	sil, found, err := oneSilence(s.pool.QueryRow(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = $1`, text(id)))
	if err != nil {
		return sil, false, fmt.Errorf("store/postgres: %w", err)
	}
	return sil, found, nil
}
