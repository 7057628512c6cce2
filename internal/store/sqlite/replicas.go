package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// SeeReplica records owner's entry and reads every recent one; see
// store.Store. One process writes the file, but the CLI and a previous
// run under another name leave entries of their own, read the same way.
func (s *Store) SeeReplica(ctx context.Context, owner, rules string, now time.Time, within time.Duration) ([]store.Replica, error) {
	_, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		if _, err := s.exec(ctx, tx, `INSERT INTO replicas (owner, rules, seen_at) VALUES (?, ?, ?)
			ON CONFLICT (owner) DO UPDATE SET rules = excluded.rules, seen_at = excluded.seen_at`, owner, rules, toDB(now)); err != nil {
			return 0, err
		}
		_, err := s.exec(ctx, tx, `DELETE FROM replicas WHERE seen_at < ?`, toDB(now.Add(-store.ReplicaForget)))
		return 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: record replica %s: %w", owner, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT owner, rules, seen_at FROM replicas WHERE seen_at >= ? ORDER BY owner`, toDB(now.Add(-within)))
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: read replicas: %w", err)
	}
	defer rows.Close()
	var out []store.Replica
	for rows.Next() {
		var r store.Replica
		var seen int64
		if err := rows.Scan(&r.Owner, &r.Rules, &seen); err != nil {
			return nil, fmt.Errorf("store/sqlite: read replicas: %w", err)
		}
		r.SeenAt = fromDB(seen)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: read replicas: %w", err)
	}
	return out, nil
}
