package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wabarouter/wabarouter/internal/store"
)

// Options tune a Store.
type Options struct {
	// PoolSize caps the connections the store holds; zero means 10.
	PoolSize int
	// Schema, when set, is the schema the store's tables live in (it is
	// created if missing, and put first on every connection's
	// search_path); empty means the connection's own search_path.
	Schema string
	// ReadOnly opens the store only to read it beside running replicas
	// (incidents, why, deadletter list): nothing is created or migrated,
	// every connection is read-only, and a schema that is not this
	// binary's fails with ErrSchema.
	ReadOnly bool
	// GCBatch is how many rows one housekeeping statement deletes; zero
	// means 500.
	GCBatch int
	// PollOnly turns LISTEN/NOTIFY off: nothing is notified, Listen
	// returns at once, and replicas find each other's work by polling
	// alone. For PgBouncer in transaction mode, where a LISTEN does not
	// stay on one connection.
	PollOnly bool
}

// ErrSchema means the database has not the schema this binary reads: no
// serve has started on it, or one of another version migrated it.
var ErrSchema = errors.New("the store's schema is not this binary's")

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	// where names the database in errors, without its password.
	where string
	// appends group-commits AppendWebhook on intake, connections of its
	// own, and outcomes group-commits Ack, Retry and DeadLetter; all nil
	// when read-only.
	appends  *rounds[appendReq]
	intake   *pgxpool.Pool
	outcomes *rounds[outcomeReq]
}

var _ store.Store = (*Store)(nil)

// Open connects to the database url names and, unless ReadOnly, migrates
// the schema.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.PoolSize <= 0 {
		opts.PoolSize = 10
	}
	if opts.GCBatch <= 0 {
		opts.GCBatch = 500
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes no password; the url itself is not repeated.
		return nil, fmt.Errorf("store/postgres: reading the database url: %w", err)
	}
	where := describe(cfg.ConnConfig)
	cfg.MaxConns = int32(opts.PoolSize)
	if opts.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, opts); err != nil {
			return nil, fmt.Errorf("store/postgres: open %s: %w", where, err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// Named, so pg_stat_activity tells the router's connections from
	// others' (an operator, or a test, ending them); a name in the url wins.
	if _, named := cfg.ConnConfig.RuntimeParams["application_name"]; !named {
		cfg.ConnConfig.RuntimeParams["application_name"] = "wabarouter"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: open %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: open %s: %w", where, err)
	}
	if opts.ReadOnly {
		err = checkSchema(ctx, pool)
	} else {
		err = migrate(ctx, pool)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: open %s: %w", where, err)
	}
	s := &Store{pool: pool, opts: opts, where: where}
	if !opts.ReadOnly {
		// The appender's rounds wait for no connection routing or
		// delivery holds: with them in one pool, the block profile had
		// appends queueing on Acquire behind the acks.
		icfg := cfg.Copy()
		icfg.MaxConns = appendWorkers
		if s.intake, err = pgxpool.NewWithConfig(ctx, icfg); err != nil {
			pool.Close()
			return nil, fmt.Errorf("store/postgres: open %s for intake: %w", where, err)
		}
		s.appends = startRounds(appendWorkers, maxAppendBatch, s.appendRound)
		s.outcomes = startRounds(outcomeWorkers, maxOutcomeBatch, s.outcomeRound)
	}
	return s, nil
}

// describe names a database as user@host:port/db, for errors and logs.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// createSchema makes opts.Schema on a connection of its own, before the
// pool's connections name it in their search_path.
func createSchema(ctx context.Context, cc *pgx.ConnConfig, opts Options) error {
	if opts.ReadOnly {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{opts.Schema}.Sanitize()); err != nil {
		var pe *pgconn.PgError
		// Two replicas creating it at once: one of them loses the race
		// on the catalog's unique index, and the schema is there.
		if !errors.As(err, &pe) || pe.Code != "23505" {
			return fmt.Errorf("creating schema %s: %w", opts.Schema, err)
		}
	}
	return nil
}

// Ping checks the database answers and takes a write.
func (s *Store) Ping(ctx context.Context) error {
	if s.opts.ReadOnly {
		if err := s.pool.Ping(ctx); err != nil {
			return fmt.Errorf("store/postgres: ping %s: %w", s.where, err)
		}
		return nil
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, `+nowNS+`)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at`); err != nil {
		return fmt.Errorf("store/postgres: ping %s: %w", s.where, err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	if s.appends != nil {
		s.appends.stop()
		s.outcomes.stop()
		s.intake.Close()
	}
	s.pool.Close()
	return nil
}

// nowNS is the database's clock in Unix nanoseconds, for the marks the
// contract passes no time for.
const nowNS = `(extract(epoch FROM clock_timestamp()) * 1000000000)::bigint`

// inTx runs fn in one transaction, starting it over when Postgres broke
// it off to resolve a deadlock or a serialization failure (two replicas'
// transactions crossing): fn must reset what it captures.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.retrying(ctx, func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// retrying runs fn (a transaction, or one statement that is a transaction
// of its own) again after a deadlock or serialization failure, which
// rolled it back whole.
func (s *Store) retrying(ctx context.Context, fn func() error) error {
	backoff := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt >= 5 {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// retryable reports a deadlock (40P01) or serialization failure (40001):
// the transaction was rolled back whole and can be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Times are stored as Unix nanoseconds; the zero time is stored as 0 so it
// round-trips (time.Time{}.UnixNano() is out of range).
func toDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromDB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// limitOf is a query's limit: all rows (bounded) when none is asked for.
func limitOf(n int) int {
	if n <= 0 {
		return 100_000
	}
	return n
}

// text makes s storable in a text column: Postgres text cannot hold a NUL
// byte, which a webhook's JSON can carry ("\u0000" in a template's name
// ends up in an incident's key and title). NUL and the escape character
// are escaped, so the value reads back as it was written and two values
// never collide; unText undoes it. Text without either is left as it is,
// which is all text in practice.
func text(s string) string {
	if !strings.ContainsAny(s, "\x00\x1b") {
		return s
	}
	var b strings.Builder
	for _, r := range []byte(s) {
		switch r {
		case 0:
			b.WriteString("\x1b0")
		case 0x1b:
			b.WriteString("\x1b\x1b")
		default:
			b.WriteByte(r)
		}
	}
	return b.String()
}

func unText(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) {
			i++
			if s[i] == '0' {
				b.WriteByte(0)
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}

func unTexts(ss []string) []string {
	for i, s := range ss {
		ss[i] = unText(s)
	}
	return ss
}

// idList renders ids for an error message.
func idList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
