package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// AddCount adds one match to its bucket, in one upsert, and sums the
// window since since. Two replicas counting into one bucket at once queue
// on its key: the second adds to what the first committed, and its sum
// (read after) includes both, so the match that crosses a threshold is
// seen crossing it by one of them.
func (t *txn) AddCount(ctx context.Context, c store.Count, since time.Time) (int, error) {
	// Sent with the sum that reads it, in one round trip.
	t.later(fmt.Sprintf("count a match of rule %q under %q at %s", c.Rule, c.Key, c.Bucket.Format(time.RFC3339)),
		`INSERT INTO counts (rule, key, bucket, n, expires_at) VALUES ($1, $2, $3, 1, $4)
		ON CONFLICT (rule, key, bucket) DO UPDATE SET n = counts.n + 1, expires_at = greatest(counts.expires_at, excluded.expires_at)`,
		text(c.Rule), text(c.Key), toDB(c.Bucket), toDB(c.Expires))
	return t.CountSince(ctx, c.Rule, c.Key, since)
}

// CountSince sums the buckets of rule and key that start at or after since.
func (t *txn) CountSince(ctx context.Context, rule, key string, since time.Time) (int, error) {
	var n int
	if err := t.queryRow(ctx, `SELECT COALESCE(SUM(n), 0)::integer FROM counts WHERE rule = $1 AND key = $2 AND bucket >= $3`,
		text(rule), text(key), toDB(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sum the matches of rule %q under %q since %s: %w", rule, key, since.Format(time.RFC3339), err)
	}
	return n, nil
}
