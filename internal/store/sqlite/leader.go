package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AcquireLeader takes or renews the lease name in one upsert that
// changes the row only when it is owner's or ran out; a changed row
// means owner holds it. Only one process opens the file for writing, so
// it wins every lease it asks for, but another owner's unexpired lease
// (one left by a previous run under another name) is respected.
func (s *Store) AcquireLeader(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	n, err := s.inWrite(ctx, func(ctx context.Context, tx *sql.Tx) (int64, error) {
		res, err := s.exec(ctx, tx, `INSERT INTO leases (name, owner, expires) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
			WHERE leases.owner = excluded.owner OR leases.expires <= ?`,
			name, owner, now.Add(ttl).UnixNano(), now.UnixNano())
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if err != nil {
		return false, fmt.Errorf("store/sqlite: acquire leader lease %s for %s: %w", name, owner, err)
	}
	return n > 0, nil
}
