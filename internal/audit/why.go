package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Entry is what routing decided about one event (or one timer firing), and
// why, with what became of each notification it made: one line of `why
// --format json`, one element of the API's why answer.
type Entry struct {
	// WebhookID is the webhook the event came in; 0 for a timer. Index is
	// the event's place among the webhook's, from 0.
	WebhookID  int64     `json:"webhook_id"`
	Index      int       `json:"index"`
	ReceivedAt time.Time `json:"received_at"`
	// RoutedAt is when the decision was made and recorded.
	RoutedAt time.Time `json:"routed_at"`
	WabaID   string    `json:"waba_id"`
	Field    string    `json:"field"`
	Event    string    `json:"event"`
	// Timer names the timer that made the decision (a restriction's
	// expiry, a reminder), for one no event made.
	Timer string `json:"timer,omitempty"`
	// Redelivery is set for a change already routed: nothing else was
	// decided. RedeliveryOf is that earlier routing, while the decision
	// log still holds it.
	Redelivery   bool      `json:"redelivery"`
	RedeliveryOf *Original `json:"redelivery_of,omitempty"`
	// Course names the lifecycle table's row that applied, if any.
	Course string `json:"course,omitempty"`
	// Rules are the rules that matched or failed; every other rule ran
	// and did not match.
	Rules []Rule `json:"rules"`
	// Incident is the event's first incident transition (null for none);
	// Incidents are all of them.
	Incident  *Transition  `json:"incident"`
	Incidents []Transition `json:"incidents"`
	// KeptOpen are the incidents the event would have resolved and did
	// not, as it happened before their latest report of the problem.
	KeptOpen      []router.KeptOpen `json:"kept_open,omitempty"`
	Notifications []Notification    `json:"notifications"`
	// Summary says in a sentence what came of the event: no rule matched,
	// a redelivery, how many notifications were queued.
	Summary string `json:"summary"`
}

// Original is the routing of a change that a redelivery repeated.
type Original struct {
	WebhookID int64     `json:"webhook_id"`
	Index     int       `json:"index"`
	RoutedAt  time.Time `json:"routed_at"`
}

// Rule is what one rule made of the event: matched, or failed with Error.
type Rule struct {
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	Error   string `json:"error"`
}

// Transition is one incident transition an event or timer made.
type Transition struct {
	ID         string `json:"id"`
	Rule       string `json:"rule"`
	Key        string `json:"key"`
	Episode    int    `json:"episode"`
	Seq        int    `json:"seq"`
	Transition string `json:"transition"`
	Reason     string `json:"reason"`
}

// Notification is one notification a decision made for one sink, or did
// not make and why, with every delivery attempt of it.
type Notification struct {
	ID         string `json:"id"`
	Sink       string `json:"sink"`
	Rule       string `json:"rule"`
	IncidentID string `json:"incident_id"`
	Transition string `json:"transition"`
	Severity   string `json:"severity"`
	Title      string `json:"title"`
	// Outcome is queued, skipped (not made for this sink), suppressed or
	// silenced; Reason says why it was not queued.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// HeldUntil is when a notification a schedule holds goes out.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// Silence names the silence that hid a silenced notification.
	Silence string `json:"silence,omitempty"`
	// Delivery is where a queued notification stands: pending (no attempt
	// yet), retrying, sent or dead; empty for one not queued.
	Delivery string    `json:"delivery"`
	Attempts []Attempt `json:"attempts"`
}

// Delivery states of a queued notification.
const (
	DeliveryPending  = "pending"
	DeliveryRetrying = "retrying"
	DeliverySent     = "sent"
	DeliveryDead     = "dead"
)

// Attempt is one send of a notification and its outcome.
type Attempt struct {
	// Row is the outbox row sent, the id `deadletter` takes.
	Row     int64 `json:"row"`
	Attempt int   `json:"attempt"`
	// Result is sent, retry or dead.
	Result string    `json:"result"`
	At     time.Time `json:"at"`
	// Error and ErrorClass (permanent or retryable) describe a failure;
	// RetryAfter is the wait, in seconds, the service asked for.
	Error      string  `json:"error"`
	ErrorClass string  `json:"error_class"`
	RetryAfter float64 `json:"retry_after"`
	// Receipt is the service's reference for a success.
	Receipt string `json:"receipt"`
}

// WhyQuery selects the decisions to explain: exactly one of WabaID,
// WebhookID and IncidentID, routed at or after Since (zero: all kept).
type WhyQuery struct {
	WabaID     string
	WebhookID  int64
	IncidentID string
	Since      time.Time
	// Limit bounds the entries (0: no bound but the store's).
	Limit int
}

// Check refuses a query that does not name exactly one thing to explain.
func (q WhyQuery) Check() error {
	n := 0
	for _, set := range []bool{q.WabaID != "", q.WebhookID != 0, q.IncidentID != ""} {
		if set {
			n++
		}
	}
	switch {
	case q.WebhookID < 0:
		return fmt.Errorf("webhook id %d is not a webhook's id", q.WebhookID)
	case n == 0:
		return errors.New("name what to explain: a WABA, a webhook or an incident")
	case n > 1:
		return errors.New("name one thing to explain: a WABA, a webhook or an incident, not several")
	}
	return nil
}

// DefaultSince is how far back the events of an account are told unless
// asked otherwise; a webhook's or an incident's are told whole.
const DefaultSince = 24 * time.Hour

// ParseSince reads how far back to look: a duration back from now (Go's
// units, and d for days: 90m, 24h, 7d), or a time in RFC 3339.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		n, derr := strconv.Atoi(days)
		if derr == nil && n >= 0 {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("since %q is neither a duration back from now (90m, 24h, 7d) nor a time (2026-03-04T05:00:00Z)", s)
	}
	return now.Add(-d), nil
}

// attemptBatch bounds the notification ids of one Attempts query.
const attemptBatch = 500

// Why explains the decisions q selects, oldest first.
func Why(ctx context.Context, r Reader, q WhyQuery) ([]Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	ds, err := r.Decisions(ctx, store.DecisionFilter{WabaID: q.WabaID, WebhookID: q.WebhookID, IncidentID: q.IncidentID,
		Since: q.Since, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("reading the decision log: %w", err)
	}
	decided := make([]decided, len(ds))
	for i, d := range ds {
		decided[i] = decode(d)
	}
	if err := findOriginals(ctx, r, decided); err != nil {
		return nil, err
	}
	entries := make([]Entry, len(decided))
	for i, d := range decided {
		entries[i] = d.entry
	}
	if err := addAttempts(ctx, r, entries); err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].Summary = summary(entries[i])
	}
	return entries, nil
}

// decided is a decision with its record read.
type decided struct {
	id          int64
	fingerprint string
	entry       Entry
}

// decode reads a decision's record; one that cannot be read still shows
// what its columns say, and that it could not be read.
func decode(d store.Decision) decided {
	e := Entry{WebhookID: d.WebhookID, Index: d.Index, RoutedAt: d.At.UTC(), WabaID: d.WabaID, Field: d.Field, Event: d.Event,
		Rules: []Rule{}, Incidents: []Transition{}, Notifications: []Notification{}}
	var rec router.Record
	if err := json.Unmarshal(d.Record, &rec); err != nil {
		e.Summary = fmt.Sprintf("the decision record could not be read: %v", err)
		return decided{id: d.ID, entry: e}
	}
	e.ReceivedAt, e.Timer, e.Redelivery, e.Course = rec.ReceivedAt.UTC(), rec.Timer, rec.Redelivery, rec.Course
	for _, rr := range rec.Rules {
		e.Rules = append(e.Rules, Rule{Rule: rr.Rule, Matched: rr.Matched, Error: rr.Error})
	}
	for _, it := range rec.Incidents {
		e.Incidents = append(e.Incidents, Transition{ID: it.ID, Rule: it.Rule, Key: it.Key, Episode: it.Episode, Seq: it.Seq,
			Transition: string(it.Transition), Reason: it.Reason})
	}
	if len(e.Incidents) > 0 {
		first := e.Incidents[0]
		e.Incident = &first
	}
	e.KeptOpen = rec.KeptOpen
	for _, n := range rec.Notifications {
		e.Notifications = append(e.Notifications, Notification{ID: n.ID, Sink: n.Sink, Rule: n.Rule, IncidentID: n.IncidentID,
			Transition: string(n.Transition), Severity: n.Severity, Title: n.Title, Outcome: string(n.Outcome), Reason: n.Reason,
			HeldUntil: n.HeldUntil, Silence: n.Silence, Attempts: []Attempt{}})
	}
	return decided{id: d.ID, fingerprint: rec.Fingerprint, entry: e}
}

// findOriginals points each redelivery at the routing it repeated: the
// latest earlier decision on the same change that was not a redelivery.
// It is looked for among the decisions at hand, then among the account's
// within the redelivery window before the redelivery.
func findOriginals(ctx context.Context, r Reader, ds []decided) error {
	var byWaba map[string][]decided
	for i, d := range ds {
		if !d.entry.Redelivery || d.fingerprint == "" {
			continue
		}
		if orig, ok := original(ds[:i], d); ok {
			ds[i].entry.RedeliveryOf = orig
			continue
		}
		if byWaba == nil {
			byWaba = map[string][]decided{}
		}
		earlier, seen := byWaba[d.entry.WabaID]
		if !seen {
			found, err := r.Decisions(ctx, store.DecisionFilter{WabaID: d.entry.WabaID, Since: d.entry.RoutedAt.Add(-router.DefaultChangeWindow)})
			if err != nil {
				return fmt.Errorf("looking up what webhook %d redelivered: %w", d.entry.WebhookID, err)
			}
			for _, f := range found {
				earlier = append(earlier, decode(f))
			}
			byWaba[d.entry.WabaID] = earlier
		}
		if orig, ok := original(earlier, d); ok {
			ds[i].entry.RedeliveryOf = orig
		}
	}
	return nil
}

// original is the latest decision of candidates before redelivery on the
// same change that was not a redelivery itself.
func original(candidates []decided, redelivery decided) (*Original, bool) {
	for i := len(candidates) - 1; i >= 0; i-- {
		c := candidates[i]
		if c.id < redelivery.id && !c.entry.Redelivery && c.fingerprint == redelivery.fingerprint {
			return &Original{WebhookID: c.entry.WebhookID, Index: c.entry.Index, RoutedAt: c.entry.RoutedAt}, true
		}
	}
	return nil, false
}

// addAttempts hands each queued notification its delivery attempts. A
// notification id names one change, rule and sink; should the same change
// be routed twice (once its redelivery window passed), each attempt goes
// to the latest routing made before it.
func addAttempts(ctx context.Context, r Reader, entries []Entry) error {
	type place struct{ entry, n int }
	where := map[string][]place{}
	var ids []string
	for i, e := range entries {
		for j, n := range e.Notifications {
			if n.Outcome != string(router.Queued) {
				continue
			}
			entries[i].Notifications[j].Delivery = DeliveryPending
			if _, seen := where[n.ID]; !seen {
				ids = append(ids, n.ID)
			}
			where[n.ID] = append(where[n.ID], place{i, j})
		}
	}
	for batch := range slices.Chunk(ids, attemptBatch) {
		attempts, err := r.Attempts(ctx, batch)
		if err != nil {
			return fmt.Errorf("reading the delivery attempts of %d notifications: %w", len(batch), err)
		}
		for _, a := range attempts {
			places := where[a.NotificationID]
			if len(places) == 0 {
				continue
			}
			p := places[0]
			for _, q := range places[1:] {
				if !entries[q.entry].RoutedAt.After(a.Outcome.At) {
					p = q
				}
			}
			n := &entries[p.entry].Notifications[p.n]
			if n.Sink != a.Sink {
				continue
			}
			n.Attempts = append(n.Attempts, Attempt{Row: a.OutboxID, Attempt: a.Attempt, Result: a.Result, At: a.Outcome.At.UTC(), Error: a.Outcome.Err,
				ErrorClass: a.Outcome.ErrClass, RetryAfter: a.Outcome.RetryAfter.Seconds(), Receipt: a.Outcome.Receipt})
		}
	}
	for i := range entries {
		for j := range entries[i].Notifications {
			n := &entries[i].Notifications[j]
			if len(n.Attempts) == 0 {
				continue
			}
			switch n.Attempts[len(n.Attempts)-1].Result {
			case "sent":
				n.Delivery = DeliverySent
			case "dead":
				n.Delivery = DeliveryDead
			default:
				n.Delivery = DeliveryRetrying
			}
		}
	}
	return nil
}

// summary says in one sentence what came of an entry.
func summary(e Entry) string {
	if e.Summary != "" {
		return e.Summary
	}
	if e.Redelivery {
		if o := e.RedeliveryOf; o != nil {
			return fmt.Sprintf("a redelivery of a change already routed on %s (webhook %d, event %d); nothing was sent",
				stamp(o.RoutedAt), o.WebhookID, o.Index+1)
		}
		return fmt.Sprintf("a redelivery of a change already routed within the %s before (that routing is no longer in the log); nothing was sent",
			days(router.DefaultChangeWindow))
	}
	matched, failed := 0, 0
	for _, r := range e.Rules {
		if r.Matched {
			matched++
		}
		if r.Error != "" {
			failed++
		}
	}
	if matched == 0 && len(e.Incidents) == 0 && e.Timer == "" {
		if len(e.KeptOpen) > 0 {
			return fmt.Sprintf("%s kept open: %s; nothing was sent", count(len(e.KeptOpen), "incident"), e.KeptOpen[0].Reason)
		}
		if failed > 0 {
			return fmt.Sprintf("no rule matched (%s failed on it); nothing was sent", count(failed, "rule"))
		}
		return "no rule matched; nothing was sent"
	}
	queued, other := 0, 0
	var reasons []string
	for _, n := range e.Notifications {
		if n.Outcome == string(router.Queued) {
			queued++
			continue
		}
		other++
		if !slices.Contains(reasons, n.Reason) {
			reasons = append(reasons, n.Reason)
		}
	}
	switch {
	case queued > 0 && other > 0:
		return fmt.Sprintf("%s queued, %d not made", count(queued, "notification"), other)
	case queued > 0:
		return count(queued, "notification") + " queued"
	case other > 0:
		return "nothing was sent: " + strings.Join(reasons, "; ")
	}
	return "nothing was sent"
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// days writes a whole number of days as such.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return count(int(d/(24*time.Hour)), "day")
	}
	return d.String()
}

// stamp is how a time is shown to people: UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
