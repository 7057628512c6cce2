package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/store"
)

const silenceCols = `id, cond, author, comment, starts_at, ends_at, created_at, expired_at`

func scanSilence(sc scanner) (store.Silence, error) {
	var s store.Silence
	var starts, ends, created, expired int64
	if err := sc.Scan(&s.ID, &s.When, &s.Author, &s.Comment, &starts, &ends, &created, &expired); err != nil {
		return s, err
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.ExpiredAt = fromDB(starts), fromDB(ends), fromDB(created), fromDB(expired)
	return s, nil
}

// SaveSilence inserts or replaces a silence by its ID.
func (t *txn) SaveSilence(ctx context.Context, s store.Silence) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO silences (`+silenceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET cond = excluded.cond, author = excluded.author, comment = excluded.comment,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at, expired_at = excluded.expired_at`,
		s.ID, s.When, s.Author, s.Comment, toDB(s.StartsAt), toDB(s.EndsAt), toDB(s.CreatedAt), toDB(s.ExpiredAt))
	if err != nil {
		return fmt.Errorf("save silence %s: %w", s.ID, err)
	}
	return nil
}

// GetSilence reads a silence in the transaction.
func (t *txn) GetSilence(ctx context.Context, id string) (store.Silence, bool, error) {
	return oneSilence(t.tx.QueryRowContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = ?`, id))
}

func oneSilence(row *sql.Row) (store.Silence, bool, error) {
	s, err := scanSilence(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Silence{}, false, nil
	}
	if err != nil {
		return store.Silence{}, false, fmt.Errorf("read silence: %w", err)
	}
	return s, true, nil
}

// Silences lists silences, the latest to start first.
func (s *Store) Silences(ctx context.Context, f store.SilenceFilter) ([]store.Silence, error) {
	q := `SELECT ` + silenceCols + ` FROM silences`
	var args []any
	if !f.ActiveAt.IsZero() {
		at := toDB(f.ActiveAt)
		q += ` WHERE ends_at > ? AND starts_at <= ? AND (expired_at = 0 OR expired_at > ?)`
		args = append(args, at, at, at)
	}
	q += ` ORDER BY starts_at DESC, id LIMIT CAST(? AS INTEGER)`
	args = append(args, limitOf(f.Limit))
	// Two texts at most, so both are kept prepared.
	rows, err := s.reads.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list silences: %w", err)
	}
	defer rows.Close()
	var out []store.Silence
	for rows.Next() {
		sil, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: list silences: %w", err)
		}
		out = append(out, sil)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: list silences: %w", err)
	}
	return out, nil
}

// Silence reads one silence.
func (s *Store) Silence(ctx context.Context, id string) (store.Silence, bool, error) {
	sil, found, err := oneSilence(s.read.QueryRowContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = ?`, id))
	if err != nil {
		return sil, false, fmt.Errorf("store/sqlite: %w", err)
	}
	return sil, found, nil
}
