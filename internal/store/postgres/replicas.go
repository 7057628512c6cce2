package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wabarouter/wabarouter/internal/store"
)

// SeeReplica records owner's entry and reads every recent one in one
// transaction; see store.Store.
func (s *Store) SeeReplica(ctx context.Context, owner, rules string, now time.Time, within time.Duration) ([]store.Replica, error) {
	var out []store.Replica
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		if _, err := tx.Exec(ctx, `INSERT INTO replicas (owner, rules, seen_at) VALUES ($1, $2, $3)
			ON CONFLICT (owner) DO UPDATE SET rules = excluded.rules, seen_at = excluded.seen_at`,
			text(owner), text(rules), toDB(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM replicas WHERE seen_at < $1`, toDB(now.Add(-store.ReplicaForget))); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT owner, rules, seen_at FROM replicas WHERE seen_at >= $1 ORDER BY owner`, toDB(now.Add(-within)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r store.Replica
			var seen int64
			if err := rows.Scan(&r.Owner, &r.Rules, &seen); err != nil {
				return err
			}
			r.Owner, r.Rules, r.SeenAt = unText(r.Owner), unText(r.Rules), fromDB(seen)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: record replica %s and read the others: %w", owner, err)
	}
	return out, nil
}
