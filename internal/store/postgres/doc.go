// Package postgres is a store.Store on PostgreSQL (pgx/v5), for several
// replicas of serve sharing one database. It passes storetest.Run
// unchanged, as the SQLite store does; what differs is how replicas
// coordinate:
//
//   - A webhook is claimed in ProcessBatch with FOR UPDATE SKIP LOCKED and
//     its processed mark checked after the lock, so two replicas never
//     route one webhook and neither waits for the other.
//   - Outbox rows are leased with FOR UPDATE SKIP LOCKED under an owner
//     and a token from a sequence; every outcome is fenced by both.
//   - Redeliveries, outbox idempotency and incident rows are one-statement
//     upserts on unique keys. Routing an event of a problem takes a
//     transaction-scoped advisory lock on the problem's key first, so two
//     replicas routing changes of one problem at once take turns, and the
//     second sees the incident the first opened rather than opening its
//     own.
//   - Migrations are versioned and applied at Open under an advisory lock,
//     so replicas starting together migrate once.
//   - Nothing on the hot path notifies: Postgres commits the transactions
//     that notified one at a time, so a replica wakes its own router and
//     sink workers and finds the others' work by polling; only a replay
//     is notified (Listen).
//   - Appends are group-committed on two connections of their own, so a
//     200 never waits for a connection routing or delivery holds.
//
// Times are kept as Unix nanoseconds (bigint), as the contract hands them
// in: exact round trips, and a fake clock in the tests works unchanged.
// Where the contract passes no time (a webhook's processed mark, Ping's
// heartbeat) the database's clock is used.
package postgres
