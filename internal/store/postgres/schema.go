package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order; schema_version records how many ran,
// so a new release only appends to this list. The first is the whole
// schema of the SQLite store's sixth version, laid out for Postgres:
// bodies and payloads stay in their rows (Postgres keeps large values out
// of line and an update does not copy them), incident lists are arrays.
var migrations = []string{
	`CREATE TABLE webhooks (
		id             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		body           bytea   NOT NULL,
		received_at    bigint  NOT NULL,
		processed_at   bigint,
		route_attempts integer NOT NULL DEFAULT 0,
		route_after    bigint  NOT NULL DEFAULT 0,
		parked_at      bigint  NOT NULL DEFAULT 0,
		last_error     text    NOT NULL DEFAULT ''
	);
	CREATE INDEX webhooks_pending ON webhooks (id) WHERE processed_at IS NULL AND parked_at = 0;
	CREATE INDEX webhooks_parked ON webhooks (id) WHERE parked_at > 0;
	CREATE INDEX webhooks_processed ON webhooks (received_at) WHERE processed_at IS NOT NULL;
	CREATE TABLE fingerprints (
		fp         text   PRIMARY KEY,
		seen_at    bigint NOT NULL,
		expires_at bigint NOT NULL
	);
	CREATE INDEX fingerprints_expires ON fingerprints (expires_at);
	CREATE SEQUENCE lease_tokens;
	CREATE TABLE outbox (
		id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		sink            text    NOT NULL,
		notification_id text    NOT NULL,
		payload         bytea,
		state           text    NOT NULL,
		attempts        integer NOT NULL DEFAULT 0,
		next_attempt    bigint  NOT NULL,
		created_at      bigint  NOT NULL,
		accepted_at     bigint  NOT NULL,
		last_error      text    NOT NULL DEFAULT '',
		receipt         text    NOT NULL DEFAULT '',
		lease_until     bigint  NOT NULL DEFAULT 0,
		lease_owner     text    NOT NULL DEFAULT '',
		lease_token     bigint  NOT NULL DEFAULT 0,
		sent_at         bigint  NOT NULL DEFAULT 0,
		incident_id     text    NOT NULL DEFAULT '',
		seq             integer NOT NULL DEFAULT 0,
		resent          boolean NOT NULL DEFAULT false,
		UNIQUE (notification_id, sink)
	);
	CREATE INDEX outbox_due ON outbox (sink, next_attempt, id) WHERE state = 'pending';
	CREATE INDEX outbox_incident ON outbox (sink, incident_id, seq) WHERE state = 'pending' AND incident_id <> '';
	CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';
	CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
	CREATE INDEX outbox_leased ON outbox (lease_owner) WHERE lease_until > 0;
	CREATE TABLE attempts (
		id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		outbox_id       bigint  NOT NULL,
		notification_id text    NOT NULL,
		incident_id     text    NOT NULL DEFAULT '',
		sink            text    NOT NULL,
		attempt         integer NOT NULL,
		result          text    NOT NULL,
		at              bigint  NOT NULL,
		receipt         text    NOT NULL DEFAULT '',
		err             text    NOT NULL DEFAULT '',
		err_class       text    NOT NULL DEFAULT '',
		retry_after     bigint  NOT NULL DEFAULT 0
	);
	CREATE INDEX attempts_notification ON attempts (notification_id);
	CREATE INDEX attempts_at ON attempts (at);
	CREATE TABLE incidents (
		id          text    PRIMARY KEY,
		rule        text    NOT NULL,
		key         text    NOT NULL,
		episode     integer NOT NULL,
		waba_id     text    NOT NULL DEFAULT '',
		state       text    NOT NULL,
		severity    integer NOT NULL DEFAULT 0,
		title       text    NOT NULL DEFAULT '',
		events      integer NOT NULL DEFAULT 0,
		seq         integer NOT NULL DEFAULT 0,
		opened_at   bigint  NOT NULL,
		updated_at  bigint  NOT NULL,
		resolved_at bigint  NOT NULL DEFAULT 0,
		reason      text    NOT NULL DEFAULT '',
		detail      bytea,
		sinks       text[]  NOT NULL DEFAULT '{}'
	);
	CREATE UNIQUE INDEX incidents_key ON incidents (key, rule, episode);
	CREATE INDEX incidents_updated ON incidents (updated_at);
	CREATE TABLE incident_threads (
		incident_id text NOT NULL,
		sink        text NOT NULL,
		thread      text NOT NULL,
		PRIMARY KEY (incident_id, sink)
	);
	CREATE TABLE decisions (
		id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		webhook_id bigint  NOT NULL,
		idx        integer NOT NULL,
		at         bigint  NOT NULL,
		waba_id    text    NOT NULL DEFAULT '',
		field      text    NOT NULL DEFAULT '',
		event      text    NOT NULL DEFAULT '',
		incidents  text[]  NOT NULL DEFAULT '{}',
		record     bytea   NOT NULL
	);
	CREATE INDEX decisions_webhook ON decisions (webhook_id);
	CREATE INDEX decisions_waba ON decisions (waba_id, at);
	CREATE INDEX decisions_at ON decisions (at);
	CREATE INDEX decisions_incidents ON decisions USING gin (incidents);
	CREATE TABLE timers (
		incident_id text   NOT NULL,
		kind        text   NOT NULL,
		due         bigint NOT NULL,
		PRIMARY KEY (incident_id, kind)
	);
	CREATE INDEX timers_due ON timers (due);
	CREATE TABLE silences (
		id         text   PRIMARY KEY,
		cond       text   NOT NULL,
		author     text   NOT NULL,
		comment    text   NOT NULL,
		starts_at  bigint NOT NULL,
		ends_at    bigint NOT NULL,
		created_at bigint NOT NULL,
		expired_at bigint NOT NULL DEFAULT 0
	);
	CREATE INDEX silences_ends ON silences (ends_at);
	CREATE TABLE heartbeat (
		id integer PRIMARY KEY,
		at bigint  NOT NULL
	);`,
	// 2: the counts of the rules with a threshold, a number per rule, key
	// and bucket of time, so a burst of matches is one row to update.
	`CREATE TABLE counts (
		rule       text    NOT NULL,
		key        text    NOT NULL,
		bucket     bigint  NOT NULL,
		n          integer NOT NULL,
		expires_at bigint  NOT NULL,
		PRIMARY KEY (rule, key, bucket)
	);
	CREATE INDEX counts_expires ON counts (expires_at);`,
	// 3: the leader leases: one row per duty that must run once, held by
	// the replica that last renewed it before it ran out.
	`CREATE TABLE leases (
		name    text   PRIMARY KEY,
		owner   text   NOT NULL,
		expires bigint NOT NULL
	);`,
	// 4: what each replica last said of itself: the checksum of its
	// rules, so a replica can tell that another runs different ones.
	`CREATE TABLE replicas (
		owner   text   PRIMARY KEY,
		rules   text   NOT NULL,
		seen_at bigint NOT NULL
	);`,
	// 5: a lease and its renewals can be heap-only updates. outbox_leased
	// served one statement run at start (ReleaseLeases), which finds the
	// pending rows through outbox_due as well; while an index named the
	// lease's columns, every lease and renewal wrote a new entry into each
	// of the outbox's indexes. The free space left in each page is where
	// such an update puts the row's new version.
	`DROP INDEX outbox_leased;
	ALTER TABLE outbox SET (fillfactor = 80);`,
	// 6: an incident's threads go with it, deleted by the statement that
	// collects it, as on SQLite; collected apart, by a look for threads
	// whose incident was gone, every pass read every thread kept. The
	// function keeps the schema it was made in, whatever the search_path
	// of the session that deletes.
	`CREATE FUNCTION incident_threads_follow() RETURNS trigger LANGUAGE plpgsql
		SET search_path FROM CURRENT AS $$
	BEGIN
		DELETE FROM incident_threads WHERE incident_id = OLD.id;
		RETURN NULL;
	END $$;
	CREATE TRIGGER incident_threads_follow AFTER DELETE ON incidents
		FOR EACH ROW EXECUTE FUNCTION incident_threads_follow();
	DELETE FROM incident_threads s WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = s.incident_id);`,
}

// migrationLock is the advisory lock key replicas migrate under: the
// first to start migrates, the others wait and find nothing left to do.
// It is per database; the schema's name is hashed in beside it, so stores
// in different schemas of one database (the tests) migrate side by side.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtextextended('wabarouter migrate ' || current_schema(), 0))`

// migrate brings the schema up to date in one transaction, under the
// migration lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return fmt.Errorf("migrate: take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: create schema_version: %w", err)
		}
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("migrate: init schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("migrate: read schema_version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("migrate: %w: the database's schema is version %d, newer than this binary's %d; run the newer wabarouter",
				ErrSchema, version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate: apply version %d: %w", i+1, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, len(migrations)); err != nil {
			return fmt.Errorf("migrate: set schema_version: %w", err)
		}
		return nil
	})
}

// checkSchema refuses, for a read-only store, a database whose schema is
// not the one this binary reads.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var version int
	err := pool.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
	var missing bool
	if err != nil {
		if e := pool.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NULL`).Scan(&missing); e == nil && missing {
			return fmt.Errorf("%w: it has no schema version (serve never started on this database)", ErrSchema)
		}
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: its schema version is not recorded (serve never finished starting on it)", ErrSchema)
	case err != nil:
		return fmt.Errorf("reading its schema version: %w", err)
	case version < len(migrations):
		return fmt.Errorf("%w: its schema is version %d, this binary reads version %d; start this version's serve on it once to upgrade it", ErrSchema, version, len(migrations))
	case version > len(migrations):
		return fmt.Errorf("%w: its schema is version %d, newer than this binary's %d; use the wabarouter version that serve runs", ErrSchema, version, len(migrations))
	}
	return nil
}
