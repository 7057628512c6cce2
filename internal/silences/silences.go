package silences

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/accounts"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Store is what silences need of the store.
type Store interface {
	Update(ctx context.Context, fn func(store.Tx) error) error
	Silences(ctx context.Context, f store.SilenceFilter) ([]store.Silence, error)
	Silence(ctx context.Context, id string) (store.Silence, bool, error)
	Decisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error)
	Webhook(ctx context.Context, id int64) (store.Webhook, bool, error)
}

// ErrNotFound is a silence id the store does not know; ErrEnded a silence
// that cannot be ended because it has ended.
var (
	ErrNotFound = errors.New("no such silence")
	ErrEnded    = errors.New("the silence has ended already")
)

// Request is a silence to add. EndsAt wins over For when both are set.
type Request struct {
	When     string        `json:"when"`
	StartsAt time.Time     `json:"starts_at,omitzero"`
	EndsAt   time.Time     `json:"ends_at,omitzero"`
	For      time.Duration `json:"-"`
	Author   string        `json:"author"`
	Comment  string        `json:"comment"`
}

// Invalid is a request that cannot be a silence, with every reason.
type Invalid struct{ Problems []string }

func (e *Invalid) Error() string { return strings.Join(e.Problems, "\n") }

// Check compiles the request's condition and checks the rest, returning
// the silence it would make (without an id) and its condition's warnings.
// Every problem is in one *Invalid.
func Check(req Request, now time.Time) (store.Silence, []string, error) {
	var problems, warnings []string
	if strings.TrimSpace(req.Author) == "" {
		problems = append(problems, "an author is required: who adds the silence (--author)")
	}
	if strings.TrimSpace(req.Comment) == "" {
		problems = append(problems, "a comment is required: why the silence, for whoever reads the log later (--comment)")
	}
	_, diags := rules.CompileCondition("--when", req.When)
	for _, d := range diags {
		if d.Level == rules.LevelWarning {
			warnings = append(warnings, d.Error())
		} else {
			problems = append(problems, d.Error())
		}
	}
	starts := req.StartsAt
	if starts.IsZero() {
		starts = now
	}
	ends := req.EndsAt
	switch {
	case ends.IsZero() && req.For <= 0:
		problems = append(problems, "say how long: --for 2h, or --until a time")
	case ends.IsZero():
		ends = starts.Add(req.For)
	}
	if !ends.IsZero() && !ends.After(starts) {
		problems = append(problems, fmt.Sprintf("the silence ends (%s) before it starts (%s)", stamp(ends), stamp(starts)))
	} else if !ends.IsZero() && !ends.After(now) {
		problems = append(problems, fmt.Sprintf("the silence would end at %s, which has passed", stamp(ends)))
	}
	if len(problems) > 0 {
		return store.Silence{}, warnings, &Invalid{Problems: problems}
	}
	return store.Silence{When: req.When, Author: strings.TrimSpace(req.Author), Comment: strings.TrimSpace(req.Comment),
		StartsAt: starts.UTC(), EndsAt: ends.UTC(), CreatedAt: now.UTC()}, warnings, nil
}

// Add checks req and saves it as a new silence; it takes effect with the
// router's next batch.
func Add(ctx context.Context, st Store, req Request, now time.Time) (store.Silence, []string, error) {
	s, warnings, err := Check(req, now)
	if err != nil {
		return s, warnings, err
	}
	if s.ID, err = newID(); err != nil {
		return s, warnings, err
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.SaveSilence(ctx, s) }); err != nil {
		return s, warnings, fmt.Errorf("saving silence %s: %w", s.ID, err)
	}
	return s, warnings, nil
}

func newID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a silence id: %w", err)
	}
	return "sil-" + hex.EncodeToString(b), nil
}

// Expire ends silence id at now. What it hid is released at once: its
// end timer is set to now. A silence that has ended already is an error
// saying when.
func Expire(ctx context.Context, st Store, id string, now time.Time) (store.Silence, error) {
	var out store.Silence
	err := st.Update(ctx, func(tx store.Tx) error {
		s, found, err := tx.GetSilence(ctx, id)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if !now.Before(s.Ends()) {
			return fmt.Errorf("%w: silence %s ended at %s", ErrEnded, id, stamp(s.Ends()))
		}
		s.ExpiredAt = now.UTC()
		if err := tx.SaveSilence(ctx, s); err != nil {
			return err
		}
		out = s
		return tx.SetTimer(ctx, router.SilenceTimer(id, now))
	})
	return out, err
}

// The states of a silence at a time.
const (
	Pending = "pending"
	Active  = "active"
	Expired = "expired" // ended early
	Ended   = "ended"
)

// State is what s is at now.
func State(s store.Silence, now time.Time) string {
	switch {
	case now.Before(s.StartsAt):
		return Pending
	case s.ActiveAt(now):
		return Active
	case !s.ExpiredAt.IsZero() && s.ExpiredAt.Before(s.EndsAt):
		return Expired
	}
	return Ended
}

// View is a silence as the command and the API show it.
type View struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	When      string    `json:"when"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	ExpiredAt time.Time `json:"expired_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	Author    string    `json:"author"`
	Comment   string    `json:"comment"`
}

// ViewOf is s as shown at now.
func ViewOf(s store.Silence, now time.Time) View {
	return View{ID: s.ID, State: State(s, now), When: s.When, StartsAt: s.StartsAt, EndsAt: s.EndsAt, ExpiredAt: s.ExpiredAt,
		CreatedAt: s.CreatedAt, Author: s.Author, Comment: s.Comment}
}

// List is every silence, or those in force at now when activeOnly.
func List(ctx context.Context, st Store, activeOnly bool, now time.Time) ([]View, error) {
	f := store.SilenceFilter{}
	if activeOnly {
		f.ActiveAt = now
	}
	list, err := st.Silences(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing silences: %w", err)
	}
	out := make([]View, 0, len(list))
	for _, s := range list {
		out = append(out, ViewOf(s, now))
	}
	return out, nil
}

// Hit is an event the silence would have hidden, with the notifications
// that were queued for it.
type Hit struct {
	At            time.Time                   `json:"at"`
	WebhookID     int64                       `json:"webhook_id"`
	WabaID        string                      `json:"waba_id"`
	Field         string                      `json:"field"`
	Event         string                      `json:"event"`
	Notifications []router.NotificationRecord `json:"notifications"`
}

// PreviewWindow is how far back a preview looks.
const PreviewWindow = 7 * 24 * time.Hour

// Preview lists what a silence of cond would have hidden since since:
// every event of the decision log that queued a notification and that
// cond matches, read again from its stored webhook and named by the
// accounts directory as routing named it.
func Preview(ctx context.Context, st Store, when string, dir *accounts.Directory, since time.Time) ([]Hit, error) {
	cond, diags := rules.CompileCondition("--when", when)
	if cond == nil {
		var msgs []string
		for _, d := range diags {
			msgs = append(msgs, d.Error())
		}
		return nil, &Invalid{Problems: msgs}
	}
	decisions, err := st.Decisions(ctx, store.DecisionFilter{Since: since})
	if err != nil {
		return nil, fmt.Errorf("reading the decision log: %w", err)
	}
	parsed := map[int64][]event.Event{}
	var hits []Hit
	for _, d := range decisions {
		var rec router.Record
		if err := json.Unmarshal(d.Record, &rec); err != nil {
			continue // a record this version cannot read tells nothing
		}
		var queued []router.NotificationRecord
		for _, n := range rec.Notifications {
			if n.Outcome == router.Queued {
				queued = append(queued, n)
			}
		}
		if len(queued) == 0 || d.WebhookID == 0 {
			continue
		}
		evs, ok := parsed[d.WebhookID]
		if !ok {
			w, found, err := st.Webhook(ctx, d.WebhookID)
			if err != nil {
				return nil, fmt.Errorf("reading webhook %d: %w", d.WebhookID, err)
			}
			if found {
				evs, _ = event.Parse(w.Body) // what parsed then parses now; a bad change is skipped
			}
			parsed[d.WebhookID] = evs
		}
		if d.Index >= len(evs) {
			continue
		}
		ev := evs[d.Index]
		ev.Account = dir.Lookup(ev.WabaID, ev.PhoneNumber)
		if ok, err := cond.Matches(ev); err != nil || !ok {
			continue
		}
		hits = append(hits, Hit{At: d.At, WebhookID: d.WebhookID, WabaID: ev.WabaID, Field: ev.Field, Event: ev.Event, Notifications: queued})
	}
	return hits, nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
