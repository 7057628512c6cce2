package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are applied in order; schema_version records how many ran, so
// a new release only appends to this list.
var migrations = []string{
	`CREATE TABLE webhooks (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		body         BLOB    NOT NULL,
		received_at  INTEGER NOT NULL,
		processed_at INTEGER
	);
	CREATE INDEX webhooks_pending ON webhooks(id) WHERE processed_at IS NULL;
	CREATE INDEX webhooks_processed ON webhooks(processed_at) WHERE processed_at IS NOT NULL;
	CREATE TABLE fingerprints (
		fp         TEXT PRIMARY KEY,
		seen_at    INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX fingerprints_expires ON fingerprints(expires_at);
	CREATE TABLE dedup (
		key        TEXT PRIMARY KEY,
		sent_at    INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		suppressed INTEGER NOT NULL DEFAULT 0,
		since      INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE INDEX dedup_expires ON dedup(expires_at);
	CREATE TABLE outbox (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		sink            TEXT    NOT NULL,
		notification_id TEXT    NOT NULL,
		payload         BLOB,
		state           TEXT    NOT NULL,
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt    INTEGER NOT NULL,
		created_at      INTEGER NOT NULL,
		accepted_at     INTEGER NOT NULL,
		last_error      TEXT    NOT NULL DEFAULT '',
		receipt         TEXT    NOT NULL DEFAULT '',
		lease_until     INTEGER NOT NULL DEFAULT 0,
		sent_at         INTEGER NOT NULL DEFAULT 0,
		UNIQUE (notification_id, sink)
	);
	CREATE INDEX outbox_due ON outbox(sink, state, next_attempt);
	CREATE INDEX outbox_state ON outbox(state, sent_at);`,
	// 2: bodies and payloads move to tables of their own. SQLite rewrites a
	// whole row on UPDATE, so marking a webhook processed or leasing and
	// acking an outbox row rewrote kilobytes of JSON each time; now those
	// updates touch a few integers.
	`CREATE TABLE webhook_bodies (
		id   INTEGER PRIMARY KEY REFERENCES webhooks(id) ON DELETE CASCADE,
		body BLOB NOT NULL
	);
	INSERT INTO webhook_bodies (id, body) SELECT id, body FROM webhooks;
	ALTER TABLE webhooks DROP COLUMN body;
	CREATE TABLE outbox_payloads (
		id      INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
		payload BLOB
	);
	INSERT INTO outbox_payloads (id, payload) SELECT id, payload FROM outbox;
	ALTER TABLE outbox DROP COLUMN payload;`,
	// 3: a webhook whose routing keeps failing is retried later and then
	// parked, so it never holds up those behind it; leases carry their
	// owner and a token, so an outcome recorded after the lease was lost
	// is refused; notified remembers which sink heard of which problem,
	// so follow-ups reach it whatever their severity; heartbeat is what
	// Ping writes to prove the store takes writes.
	`ALTER TABLE webhooks ADD COLUMN route_attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE webhooks ADD COLUMN route_after INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE webhooks ADD COLUMN parked_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE webhooks ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
	DROP INDEX webhooks_pending;
	CREATE INDEX webhooks_pending ON webhooks(id) WHERE processed_at IS NULL AND parked_at = 0;
	CREATE INDEX webhooks_parked ON webhooks(id) WHERE parked_at > 0;
	ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE outbox ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX outbox_leased ON outbox(lease_owner) WHERE lease_until > 0;
	CREATE TABLE notified (
		sink TEXT    NOT NULL,
		key  TEXT    NOT NULL,
		at   INTEGER NOT NULL,
		PRIMARY KEY (sink, key)
	) WITHOUT ROWID;
	CREATE TABLE heartbeat (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL
	);`,
	// 4: incidents replace the dedup keys and the memory of which sink
	// heard of what; every event's routing decision and every delivery
	// attempt are logged; timers resolve and remind across restarts; an
	// outbox row knows its incident and its place among its transitions.
	`CREATE TABLE incidents (
		id          TEXT    PRIMARY KEY,
		rule        TEXT    NOT NULL,
		key         TEXT    NOT NULL,
		episode     INTEGER NOT NULL,
		waba_id     TEXT    NOT NULL DEFAULT '',
		state       TEXT    NOT NULL,
		severity    INTEGER NOT NULL DEFAULT 0,
		title       TEXT    NOT NULL DEFAULT '',
		events      INTEGER NOT NULL DEFAULT 0,
		seq         INTEGER NOT NULL DEFAULT 0,
		opened_at   INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		resolved_at INTEGER NOT NULL DEFAULT 0,
		reason      TEXT    NOT NULL DEFAULT '',
		detail      BLOB,
		UNIQUE (rule, key, episode)
	) WITHOUT ROWID;
	CREATE INDEX incidents_open_key ON incidents(key) WHERE state = 'open';
	CREATE INDEX incidents_updated ON incidents(updated_at);
	CREATE INDEX incidents_resolved ON incidents(resolved_at) WHERE state = 'resolved';
	CREATE TABLE incident_sinks (
		incident_id TEXT NOT NULL,
		sink        TEXT NOT NULL,
		thread      TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (incident_id, sink)
	) WITHOUT ROWID;
	CREATE TABLE decisions (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		webhook_id INTEGER NOT NULL,
		idx        INTEGER NOT NULL,
		at         INTEGER NOT NULL,
		waba_id    TEXT    NOT NULL DEFAULT '',
		field      TEXT    NOT NULL DEFAULT '',
		event      TEXT    NOT NULL DEFAULT '',
		record     BLOB    NOT NULL
	);
	CREATE INDEX decisions_webhook ON decisions(webhook_id);
	CREATE INDEX decisions_waba ON decisions(waba_id, at);
	CREATE INDEX decisions_at ON decisions(at);
	CREATE TABLE decision_incidents (
		incident_id TEXT    NOT NULL,
		decision_id INTEGER NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
		PRIMARY KEY (incident_id, decision_id)
	) WITHOUT ROWID;
	CREATE INDEX decision_incidents_decision ON decision_incidents(decision_id);
	CREATE TABLE attempts (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		outbox_id       INTEGER NOT NULL,
		notification_id TEXT    NOT NULL,
		incident_id     TEXT    NOT NULL DEFAULT '',
		sink            TEXT    NOT NULL,
		attempt         INTEGER NOT NULL,
		result          TEXT    NOT NULL,
		at              INTEGER NOT NULL,
		receipt         TEXT    NOT NULL DEFAULT '',
		err             TEXT    NOT NULL DEFAULT '',
		err_class       TEXT    NOT NULL DEFAULT '',
		retry_after     INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX attempts_notification ON attempts(notification_id);
	CREATE INDEX attempts_at ON attempts(at);
	CREATE TABLE timers (
		incident_id TEXT    NOT NULL,
		kind        TEXT    NOT NULL,
		due         INTEGER NOT NULL,
		PRIMARY KEY (incident_id, kind)
	) WITHOUT ROWID;
	CREATE INDEX timers_due ON timers(due);
	ALTER TABLE outbox ADD COLUMN incident_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE outbox ADD COLUMN resent INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX outbox_incident ON outbox(sink, incident_id, seq) WHERE state = 'pending' AND incident_id <> '';
	DROP TABLE dedup;
	DROP TABLE notified;`,
	// 5: routing an event writes fewer pages. Incidents are a rowid
	// table, so a new one is appended rather than inserted at a random
	// place by its hashed id, and carry the sinks that heard of them; the
	// open incidents under a key are found through (key, rule, episode).
	// A decision names its incidents itself. incident_threads keeps only
	// what a sink's first send about an incident returned.
	`CREATE TABLE incidents_v5 (
		row         INTEGER PRIMARY KEY,
		id          TEXT    NOT NULL UNIQUE,
		rule        TEXT    NOT NULL,
		key         TEXT    NOT NULL,
		episode     INTEGER NOT NULL,
		waba_id     TEXT    NOT NULL DEFAULT '',
		state       TEXT    NOT NULL,
		severity    INTEGER NOT NULL DEFAULT 0,
		title       TEXT    NOT NULL DEFAULT '',
		events      INTEGER NOT NULL DEFAULT 0,
		seq         INTEGER NOT NULL DEFAULT 0,
		opened_at   INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		resolved_at INTEGER NOT NULL DEFAULT 0,
		reason      TEXT    NOT NULL DEFAULT '',
		detail      BLOB,
		sinks       TEXT    NOT NULL DEFAULT '[]'
	);
	INSERT INTO incidents_v5 (id, rule, key, episode, waba_id, state, severity, title, events, seq,
			opened_at, updated_at, resolved_at, reason, detail, sinks)
		SELECT i.id, i.rule, i.key, i.episode, i.waba_id, i.state, i.severity, i.title, i.events, i.seq,
			i.opened_at, i.updated_at, i.resolved_at, i.reason, i.detail,
			COALESCE((SELECT json_group_array(s.sink) FROM (SELECT sink FROM incident_sinks s
				WHERE s.incident_id = i.id ORDER BY sink) s), '[]')
		FROM incidents i ORDER BY i.opened_at, i.id;
	DROP TABLE incidents;
	ALTER TABLE incidents_v5 RENAME TO incidents;
	CREATE UNIQUE INDEX incidents_key ON incidents(key, rule, episode);
	CREATE INDEX incidents_updated ON incidents(updated_at);
	CREATE INDEX incidents_resolved ON incidents(resolved_at) WHERE state = 'resolved';
	DELETE FROM incident_sinks WHERE thread = '';
	ALTER TABLE incident_sinks RENAME TO incident_threads;
	ALTER TABLE decisions ADD COLUMN incidents TEXT NOT NULL DEFAULT '';
	UPDATE decisions SET incidents = COALESCE((SELECT group_concat(incident_id, ' ')
		FROM (SELECT incident_id FROM decision_incidents l WHERE l.decision_id = decisions.id ORDER BY incident_id)), '');
	DROP TABLE decision_incidents;`,
	// 6: silences, kept after they end.
	`CREATE TABLE silences (
		id         TEXT    PRIMARY KEY,
		cond       TEXT    NOT NULL,
		author     TEXT    NOT NULL,
		comment    TEXT    NOT NULL,
		starts_at  INTEGER NOT NULL,
		ends_at    INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		expired_at INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE INDEX silences_ends ON silences(ends_at);`,
	// 7: the counts of the rules with a threshold, a number per rule, key
	// and bucket of time, so a burst of matches is one row to update.
	`CREATE TABLE counts (
		rule       TEXT    NOT NULL,
		key        TEXT    NOT NULL,
		bucket     INTEGER NOT NULL,
		n          INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		PRIMARY KEY (rule, key, bucket)
	) WITHOUT ROWID;
	CREATE INDEX counts_expires ON counts(expires_at);`,
	// 8: the leader leases, as on Postgres. One process holds the file, so
	// it always wins them, but it takes them the same way.
	`CREATE TABLE leases (
		name    TEXT    PRIMARY KEY,
		owner   TEXT    NOT NULL,
		expires INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 9: what each replica last said of itself (its rules' checksum), as
	// on Postgres.
	`CREATE TABLE replicas (
		owner   TEXT    PRIMARY KEY,
		rules   TEXT    NOT NULL,
		seen_at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 10: how far the webhooks appended to the intake file (intake.go)
	// have been imported into this one.
	`CREATE TABLE intake_cursor (
		id       INTEGER PRIMARY KEY CHECK (id = 1),
		imported INTEGER NOT NULL
	);
	INSERT INTO intake_cursor (id, imported) VALUES (1, 0);`,
	// 11: the due index holds pending rows only, as Postgres's does: a
	// sent or dead row is never leased, and keeping it there cost every
	// ack a second change to the index besides the removal.
	`DROP INDEX outbox_due;
	CREATE INDEX outbox_due ON outbox(sink, next_attempt) WHERE state = 'pending';`,
	// 12: a notification changes fewer index entries on its way through.
	// Every pending row sat in outbox_state under one key, so queuing one
	// added an entry and acking it moved the entry; only the sent and
	// dead rows are looked up by state, so only they are indexed now.
	// outbox_leased served one statement run at start (ReleaseLeases),
	// which reads the pending rows through outbox_due instead; a lease
	// and an ack no longer add and remove an entry each.
	`DROP INDEX outbox_state;
	DROP INDEX outbox_leased;
	CREATE INDEX outbox_sent ON outbox(sent_at) WHERE state = 'sent';
	CREATE INDEX outbox_dead ON outbox(id) WHERE state = 'dead';`,
	// 13: the processed webhooks are collected by when they arrived, as
	// on Postgres, so the index holds that. Keyed by when they were
	// processed, it let the collection only walk it whole, reading each
	// row's arrival: every pass ended reading every webhook kept.
	`DROP INDEX webhooks_processed;
	CREATE INDEX webhooks_processed ON webhooks(received_at) WHERE processed_at IS NOT NULL;`,
	// 14: an incident's threads go with it, deleted by the statement that
	// collects it. Collected apart, by a look for threads whose incident
	// was gone, every pass read every thread kept (145 ms for 300,000 on
	// the one writer).
	`CREATE TRIGGER incident_threads_follow AFTER DELETE ON incidents BEGIN
		DELETE FROM incident_threads WHERE incident_id = OLD.id;
	END;
	DELETE FROM incident_threads WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = incident_threads.incident_id);`,
}

// migrate brings the schema up to date in one transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: init schema_version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: read schema_version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this binary (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: apply version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return fmt.Errorf("migrate: set schema_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
