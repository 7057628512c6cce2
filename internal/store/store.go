package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Ack/Retry/Replay/Drop of an unknown id and by
// Replay of a row that is not dead.
var ErrNotFound = errors.New("store: not found")

// State is an outbox row's lifecycle state.
type State string

// Outbox states: rows start pending, end sent, or are parked dead until an
// operator replays or drops them.
const (
	Pending State = "pending"
	Sent    State = "sent"
	Dead    State = "dead"
)

// Webhook is one appended raw webhook body.
type Webhook struct {
	ID         int64
	Body       []byte
	ReceivedAt time.Time
}

// Outbound is one outbox row: a notification destined for one sink.
type Outbound struct {
	ID             int64
	Sink           string
	NotificationID string
	Payload        []byte // JSON of the notification
	State          State  // pending, sent, dead
	Attempts       int
	NextAttempt    time.Time
	CreatedAt      time.Time
	AcceptedAt     time.Time // when the webhook was accepted (for end-to-end latency)
	LastError      string
	Receipt        string
}

// DedupResult is the outcome of Tx.Dedup.
type DedupResult struct {
	Suppress   bool
	Suppressed int
	Since      time.Time
}

// Tx is the transactional view handed to Store.Process.
type Tx interface {
	// MarkChange records a change fingerprint; false when it is already
	// recorded and younger than window (a redelivery).
	MarkChange(ctx context.Context, fingerprint string, now time.Time, window time.Duration) (bool, error)
	// Dedup records one occurrence under key. Suppress is true when a
	// notification under key went out within window; then the suppressed
	// count under key grows. When not suppressed, Suppressed/Since report the
	// repeats held back since the last notification (and the first such
	// time), and the count resets, and the key's window restarts at now.
	Dedup(ctx context.Context, key string, now time.Time, window time.Duration) (DedupResult, error)
	// Enqueue adds an outbox row; a duplicate (NotificationID, Sink) is a
	// no-op so a crash between send and ack never creates a second row.
	Enqueue(ctx context.Context, o Outbound) error
}

// SinkStats summarises one sink's pending backlog.
type SinkStats struct {
	Pending       int
	OldestPending time.Time
}

// Store is wabarouter's durable state.
type Store interface {
	// AppendWebhook stores a verified raw body durably before it returns;
	// concurrent calls are group-committed into one transaction.
	AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error)
	// PendingWebhooks returns up to limit appended webhooks not yet
	// processed, oldest first.
	PendingWebhooks(ctx context.Context, limit int) ([]Webhook, error)
	// Process runs fn in one transaction and marks the webhook processed in
	// it; if fn errors nothing of it is kept. An unknown id is ErrNotFound;
	// an already processed webhook is a no-op (fn is not run).
	Process(ctx context.Context, webhookID int64, fn func(Tx) error) error
	// ProcessBatch is Process for several webhooks in one transaction, in
	// the order given, so routing a backlog costs one commit rather than
	// one per webhook. Each fn runs on its own: a webhook whose fn fails is
	// rolled back alone, stays unprocessed, and its error is at its index
	// in errs (ErrNotFound for an unknown id); a processed one is skipped.
	// err is the transaction itself failing, and then nothing is kept.
	ProcessBatch(ctx context.Context, webhookIDs []int64, fn func(id int64, tx Tx) error) (errs []error, err error)
	// Lease hands out up to limit pending rows of sink with NextAttempt <=
	// now whose lease is free or expired, leasing them until now+leaseFor
	// (a crashed worker's rows come back).
	Lease(ctx context.Context, sink string, now time.Time, limit int, leaseFor time.Duration) ([]Outbound, error)
	// Ack, Retry and DeadLetter each record the outcome of one send
	// attempt, so Attempts counts the sends made.
	Ack(ctx context.Context, id int64, receipt string, now time.Time) error
	Retry(ctx context.Context, id int64, next time.Time, lastErr string) error
	DeadLetter(ctx context.Context, id int64, lastErr string) error
	ListDead(ctx context.Context, limit int) ([]Outbound, error)
	Replay(ctx context.Context, id int64, now time.Time) error // dead → pending, attempts reset
	Drop(ctx context.Context, id int64) error
	// Stats reports per sink the pending count and oldest pending CreatedAt.
	Stats(ctx context.Context, now time.Time) (map[string]SinkStats, error)
	// GC removes expired fingerprints and dedup keys, and processed
	// webhooks and sent rows older than keepSent.
	GC(ctx context.Context, now time.Time, keepSent time.Duration) error
	Ping(ctx context.Context) error
	Close() error
}
