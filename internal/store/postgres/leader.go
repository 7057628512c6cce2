package postgres

import (
	"context"
	"fmt"
	"time"
)

// AcquireLeader takes or renews the lease name in one statement: the
// upsert changes the row only when it is owner's or ran out, so of two
// replicas racing for a free lease the row lock lets one through and the
// other finds it held, and RETURNING says which.
func (s *Store) AcquireLeader(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	rows, err := s.pool.Query(ctx, `INSERT INTO leases (name, owner, expires) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
		WHERE leases.owner = excluded.owner OR leases.expires <= $4
		RETURNING owner`, text(name), text(owner), now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("store/postgres: acquire leader lease %s for %s: %w", name, owner, err)
	}
	defer rows.Close()
	held := rows.Next()
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store/postgres: acquire leader lease %s for %s: %w", name, owner, err)
	}
	return held, nil
}
