package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// AddCount adds one match to its bucket and sums the window since since.
func (t *txn) AddCount(ctx context.Context, c store.Count, since time.Time) (int, error) {
	if _, err := t.s.exec(ctx, t.tx, sqlAddCount, c.Rule, c.Key, toDB(c.Bucket), toDB(c.Expires)); err != nil {
		return 0, fmt.Errorf("count a match of rule %q under %q at %s: %w", c.Rule, c.Key, c.Bucket.Format(time.RFC3339), err)
	}
	return t.CountSince(ctx, c.Rule, c.Key, since)
}

// CountSince sums the buckets of rule and key that start at or after since.
func (t *txn) CountSince(ctx context.Context, rule, key string, since time.Time) (int, error) {
	var n int
	if err := t.s.queryRow(ctx, t.tx, sqlCountSince, rule, key, toDB(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sum the matches of rule %q under %q since %s: %w", rule, key, since.Format(time.RFC3339), err)
	}
	return n, nil
}
