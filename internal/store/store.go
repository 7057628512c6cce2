package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by an operation on an unknown id, and by Replay
// of a row that is not dead or ReplayWebhook of a webhook that is not
// parked.
var ErrNotFound = errors.New("store: not found")

// ErrLeaseLost is returned when an outcome or a renewal names a lease the
// row no longer carries: the lease ran out and another worker (perhaps of
// another replica) leased the row, or the row was finished meanwhile.
// Whoever gets it must not record anything about the row: its current
// holder will.
var ErrLeaseLost = errors.New("store: lease lost")

// ErrClosed is returned by writes after the store was closed; trying
// again cannot help.
var ErrClosed = errors.New("store: closed")

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
	// Attempts counts the routing attempts that failed; LastError is the
	// latest failure. A webhook whose routing keeps failing is parked
	// (ParkedAt set) so it no longer holds up those behind it.
	Attempts  int
	LastError string
	ParkedAt  time.Time
}

// Lease is one worker's claim on an outbox row. Owner names the process
// (a replica); Token tells this claim from any earlier or later one, even
// by the same owner. Every outcome is fenced by the lease it was made
// under.
type Lease struct {
	Owner string
	Token int64
	Until time.Time
}

// HeldLease is a row and the lease its holder has on it, for RenewAll.
type HeldLease struct {
	ID    int64
	Lease Lease
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
	// Lease is the claim under which Lease handed the row out; zero
	// elsewhere.
	Lease Lease
	// IncidentID and Seq place the row in its incident's transitions: of
	// the rows of one sink and incident, only the lowest pending Seq is
	// ever leased, so a later transition never overtakes an earlier one.
	// An empty IncidentID orders nothing.
	IncidentID string
	Seq        int
	// Thread is what the sink's first send about the row's incident
	// returned, handed to its later sends; Lease fills it in.
	Thread string
	// Resent says an earlier attempt at this row may have reached the
	// sink: its lease was released or ran out with no outcome recorded
	// (the process died while sending), or an attempt failed in a way
	// that may not have stopped it (a time-out). A sink that can look
	// for what it sent before does, rather than send it twice.
	Resent bool
}

// Outcome is what one send attempt came to, recorded with Ack, Retry or
// DeadLetter and kept in the delivery log.
type Outcome struct {
	At time.Time
	// Receipt is the destination's reference for a success; Thread, when
	// the sink set one, is stored for the sink's later sends about the
	// same incident.
	Receipt string
	Thread  string
	// Err, ErrClass (permanent or retryable) and RetryAfter describe a
	// failure.
	Err        string
	ErrClass   string
	RetryAfter time.Duration
}

// Incident is one problem on one entity (an account, a number, a
// template, a flow) in one episode, as the store keeps it. The router
// owns what its fields mean; Detail is its own state, kept as it gave it.
type Incident struct {
	ID      string
	Rule    string
	Key     string
	Episode int
	WabaID  string
	// State is "open" or "resolved".
	State    string
	Severity int
	Title    string
	// Events counts the events of the episode; Seq the transitions.
	Events     int
	Seq        int
	OpenedAt   time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time
	Reason     string
	Detail     []byte
	// Sinks are the sinks that were sent something about the incident,
	// in the order they first were.
	Sinks []string
}

// IncidentFilter selects incidents; zero fields select all. Incidents
// come newest first.
type IncidentFilter struct {
	State  string
	WabaID string
	Key    string
	Limit  int
}

// Decision is one event's routing record: what the rules, the incident
// stage and the sinks decided, and why. Record is the router's JSON; the
// other fields are what it is looked up by.
type Decision struct {
	ID        int64
	WebhookID int64
	Index     int
	At        time.Time
	WabaID    string
	Field     string
	Event     string
	// IncidentIDs are the incidents the event made a transition of; an
	// ID has no spaces.
	IncidentIDs []string
	Record      []byte
}

// DecisionFilter selects decisions, oldest first; zero fields select
// all.
type DecisionFilter struct {
	WabaID    string
	WebhookID int64
	// IncidentID selects the decisions that made a transition of an
	// incident the store knows, made (At) while it was open.
	IncidentID string
	Since      time.Time
	Limit      int
}

// Attempt is one delivery attempt in the delivery log.
type Attempt struct {
	OutboxID       int64
	NotificationID string
	IncidentID     string
	Sink           string
	Attempt        int
	// Result is sent, retry or dead.
	Result  string
	Outcome Outcome
}

// Timer is something to do about an incident at Due, kept across
// restarts: Kind names what (a restriction's expiry, a reminder).
type Timer struct {
	IncidentID string
	Kind       string
	Due        time.Time
}

// Silence hides from every sink the notifications of the events its When
// condition matches, from StartsAt until it ends: at EndsAt, or at
// ExpiredAt when someone ended it early. Silences are kept after they end,
// never deleted, so the decision log's mentions of them stay readable.
type Silence struct {
	ID        string
	When      string
	Author    string
	Comment   string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedAt time.Time
	ExpiredAt time.Time
}

// Ends is when the silence stops: ExpiredAt if it was ended early.
func (s Silence) Ends() time.Time {
	if !s.ExpiredAt.IsZero() && s.ExpiredAt.Before(s.EndsAt) {
		return s.ExpiredAt
	}
	return s.EndsAt
}

// ActiveAt reports whether the silence hides what happens at t.
func (s Silence) ActiveAt(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.Ends()) }

// SilenceFilter selects silences; the zero filter selects all of them.
type SilenceFilter struct {
	// ActiveAt, when set, selects the silences active at that time.
	ActiveAt time.Time
	Limit    int
}

// Count is one match of a counting rule (a rule's threshold), added to
// the bucket its time falls in: the matches of one rule and key in one
// bucket are kept as one number, so a burst costs one row, not one per
// match.
type Count struct {
	Rule string
	Key  string
	// Bucket is when the bucket starts; the router chooses its size.
	Bucket time.Time
	// Expires is when the bucket no longer falls in any window the rule
	// counts; GC removes it then.
	Expires time.Time
}

// Tx is the transactional view handed to Store.Process.
type Tx interface {
	// MarkChange records a change fingerprint; false when it is already
	// recorded and younger than window (a redelivery).
	MarkChange(ctx context.Context, fingerprint string, now time.Time, window time.Duration) (bool, error)
	// Enqueue adds an outbox row; a duplicate (NotificationID, Sink) is a
	// no-op so a crash between send and ack never creates a second row.
	Enqueue(ctx context.Context, o Outbound) error
	// Incident returns the latest episode of rule's incident under key.
	Incident(ctx context.Context, rule, key string) (Incident, bool, error)
	// IncidentByID returns an incident by its ID.
	IncidentByID(ctx context.Context, id string) (Incident, bool, error)
	// OpenIncidents returns the open incidents under key, of any rule.
	OpenIncidents(ctx context.Context, key string) ([]Incident, error)
	// SaveIncident inserts or replaces an incident, by its ID.
	SaveIncident(ctx context.Context, inc Incident) error
	// AppendDecision adds one event's routing record.
	AppendDecision(ctx context.Context, d Decision) error
	// SetTimer sets the incident's timer of its kind (replacing one set
	// before); ClearTimers removes all its timers.
	SetTimer(ctx context.Context, t Timer) error
	ClearTimers(ctx context.Context, incidentID string) error
	// DeleteTimer removes one timer, by incident and kind.
	DeleteTimer(ctx context.Context, t Timer) error
	// SaveSilence inserts or replaces a silence, by its ID; GetSilence
	// reads one in the transaction.
	SaveSilence(ctx context.Context, s Silence) error
	GetSilence(ctx context.Context, id string) (Silence, bool, error)
	// AddCount adds one to c's bucket (creating it, or keeping the later
	// of the two Expires) and returns the sum of the buckets of c's rule
	// and key that start at or after since, c's own included.
	// CountSince returns that sum without adding anything.
	AddCount(ctx context.Context, c Count, since time.Time) (int, error)
	CountSince(ctx context.Context, rule, key string, since time.Time) (int, error)
}

// SinkStats summarises one sink's pending backlog.
type SinkStats struct {
	Pending       int
	OldestPending time.Time
}

// WebhookStats summarises the webhooks not yet routed.
type WebhookStats struct {
	// Unrouted are accepted webhooks waiting to be routed, parked ones
	// not included; OldestUnrouted is the oldest one's ReceivedAt.
	Unrouted       int
	OldestUnrouted time.Time
	Parked         int
}

// Store is wabarouter's durable state.
type Store interface {
	// AppendWebhook stores a verified raw body durably before it returns.
	AppendWebhook(ctx context.Context, body []byte, receivedAt time.Time) (int64, error)
	// PendingWebhooks returns up to limit appended webhooks that are not
	// processed, not parked, and whose retry (after a failed attempt) is
	// due at now, oldest first.
	PendingWebhooks(ctx context.Context, now time.Time, limit int) ([]Webhook, error)
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
	// fn may run more than once for a webhook (the batch tried again
	// after a failure, or a retried transaction): only the last run's
	// writes are kept, so fn must not keep anything of an earlier run.
	ProcessBatch(ctx context.Context, webhookIDs []int64, fn func(id int64, tx Tx) error) (errs []error, err error)
	// FailWebhook records a failed routing attempt of an unprocessed,
	// unparked webhook at now: its next attempt waits retryAfter, or, once
	// this was attempt parkAfter, it is parked and PendingWebhooks no
	// longer returns it. parked says which.
	FailWebhook(ctx context.Context, id int64, lastErr string, now time.Time, retryAfter time.Duration, parkAfter int) (parked bool, err error)
	// Webhook reads one stored webhook, body included, routed or not,
	// until GC removes it.
	Webhook(ctx context.Context, id int64) (Webhook, bool, error)
	// ListParked returns parked webhooks, oldest first.
	ListParked(ctx context.Context, limit int) ([]Webhook, error)
	// ReplayWebhook returns a parked webhook to routing with its attempts
	// reset; DropWebhook deletes a parked one. Either is ErrNotFound for a
	// webhook that is not parked.
	ReplayWebhook(ctx context.Context, id int64) error
	DropWebhook(ctx context.Context, id int64) error
	// WebhookStats counts the webhooks not routed yet and those parked.
	WebhookStats(ctx context.Context) (WebhookStats, error)
	// Update runs fn in one write transaction of its own, for work that
	// is not a webhook's: a timer firing.
	Update(ctx context.Context, fn func(Tx) error) error
	// DueTimers returns up to limit timers due at now, soonest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)

	// Silences lists silences, the latest to start first; Silence reads
	// one.
	Silences(ctx context.Context, f SilenceFilter) ([]Silence, error)
	Silence(ctx context.Context, id string) (Silence, bool, error)

	// Incidents lists incidents, newest first; GetIncident reads one.
	Incidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	GetIncident(ctx context.Context, id string) (Incident, bool, error)
	// Decisions lists routing records, oldest first.
	Decisions(ctx context.Context, f DecisionFilter) ([]Decision, error)
	// Attempts lists the delivery attempts of the notifications named,
	// oldest first.
	Attempts(ctx context.Context, notificationIDs []string) ([]Attempt, error)

	// Lease hands owner up to limit pending rows of sink with NextAttempt
	// <= now whose lease is free or ran out, leased until now+leaseFor
	// under a new token. Two owners never hold one row at once.
	Lease(ctx context.Context, sink, owner string, now time.Time, limit int, leaseFor time.Duration) ([]Outbound, error)
	// RenewAll extends, in one write, the leases still held among held
	// (a worker renews every row it holds at once) to until; lost names
	// the rows whose lease is not held any more (finished, leased again,
	// gone).
	RenewAll(ctx context.Context, held []HeldLease, until time.Time) (lost []int64, err error)
	// ReleaseLeases frees the leases owner holds, so the rows a previous
	// run of the same owner left leased go out now rather than when their
	// lease runs out. Other owners' leases are not touched.
	ReleaseLeases(ctx context.Context, owner string) (int64, error)
	// Ack, Retry and DeadLetter each record the outcome of one send
	// attempt made under lease, in the row and in the delivery log, so
	// Attempts counts the sends made. An outcome whose lease the row no
	// longer carries is refused with ErrLeaseLost and changes nothing.
	// Ack keeps the outcome's Thread for the sink's later sends about
	// the row's incident, unless one is kept already.
	Ack(ctx context.Context, id int64, lease Lease, o Outcome) error
	Retry(ctx context.Context, id int64, lease Lease, next time.Time, o Outcome) error
	DeadLetter(ctx context.Context, id int64, lease Lease, o Outcome) error
	// FailOver records a failed attempt as DeadLetter does when dead,
	// else as Retry does with next, and in the same transaction enqueues
	// the rows of handOver: the notification handed to the failing
	// sink's fallback sinks. As with Tx.Enqueue, a row whose
	// (NotificationID, Sink) is queued already is not added again, so a
	// sink that fails a notification many times hands it over once, and a
	// crash can neither lose a hand-over nor make two. added are the rows
	// of handOver that were new. A refused outcome (ErrLeaseLost) adds
	// nothing.
	FailOver(ctx context.Context, id int64, lease Lease, dead bool, next time.Time, o Outcome, handOver []Outbound) (added []Outbound, err error)
	ListDead(ctx context.Context, limit int) ([]Outbound, error)
	Replay(ctx context.Context, id int64, now time.Time) error // dead → pending, attempts reset
	Drop(ctx context.Context, id int64) error
	// Stats reports per sink the pending count and oldest pending CreatedAt.
	Stats(ctx context.Context, now time.Time) (map[string]SinkStats, error)
	// GC removes expired fingerprints, processed webhooks and sent rows
	// older than keepSent, and decisions, delivery attempts and incidents
	// older than keepRecords: an incident counts from its last change, and
	// one with a timer still to fire stays; and counts' buckets past
	// their Expires. It works in small batches, so it never holds up
	// intake for long.
	GC(ctx context.Context, now time.Time, keepSent, keepRecords time.Duration) error
	// AcquireLeader takes or renews the lease called name for owner, until
	// now+ttl, and says whether owner holds it: it does when the lease is
	// free, ran out by now, or is owner's already. Of the handles sharing a
	// store one holds a lease at a time, so work that must happen once
	// (housekeeping, timers) runs on one replica; a holder that stops
	// renewing loses it once ttl has passed, and another takes over. A
	// holder gives it up with a ttl of zero: it runs out at now, so
	// another replica takes it at its next attempt.
	AcquireLeader(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	// SeeReplica records that owner runs, as of now, with the rules
	// whose checksum is rules, and returns every replica recorded since
	// now minus within, owner's own entry included, ordered by owner: how
	// a replica learns that another runs different rules. Entries not
	// renewed for a day are removed.
	SeeReplica(ctx context.Context, owner, rules string, now time.Time, within time.Duration) ([]Replica, error)
	// Ping checks that the store answers and takes a write.
	Ping(ctx context.Context) error
	Close() error
}

// Replica is what a replica last said of itself through SeeReplica.
type Replica struct {
	Owner string
	// Rules is the checksum of the rules it had loaded.
	Rules  string
	SeenAt time.Time
}

// ReplicaForget is how long a replica's entry outlives its last renewal.
const ReplicaForget = 24 * time.Hour
