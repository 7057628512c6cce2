// Package sqlite implements store.Store on a single SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode with synchronous=FULL, so an appended
// webhook survives power loss once AppendWebhook returns.
//
// All writes go through one writer connection: SQLite allows a single
// writer anyway, and funnelling them avoids SQLITE_BUSY storms. Reads use a
// separate pool, which WAL lets run alongside the writer. Concurrent
// AppendWebhook calls are group-committed: one goroutine batches them into
// a single transaction so many callers share one fsync.
package sqlite
