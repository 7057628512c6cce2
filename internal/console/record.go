package console

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Field is the decision log's field for the console's own entries; their
// events name what was done.
const Field = "console"

// The console's writes, as its decision log entries name them.
const (
	ActionSilenceAdd    = "SILENCE_ADD"
	ActionSilenceExpire = "SILENCE_EXPIRE"
	ActionTestSend      = "TEST_SEND"
	ActionReplay        = "DEAD_LETTER_REPLAY"
)

// Action is what a console entry of the decision log records beside the
// router's record fields (all empty: no rule ran, nothing was queued).
type Action struct {
	User   string `json:"user"`
	Role   string `json:"role"`
	Action string `json:"action"`
	// Target names what was acted on: a silence, a sink, an outbox row.
	Target string `json:"target"`
	Detail string `json:"detail,omitempty"`
	// Err is set when the write was tried and failed (a test send the
	// sink refused); a write refused before it was tried is not logged.
	Err string `json:"error,omitempty"`
}

// actionRecord is a router.Record, so that whatever reads the decision
// log reads these entries too, with the console's action beside it.
type actionRecord struct {
	router.Record
	Console Action `json:"console"`
}

// decisionOf is a console action as a decision log entry at now.
func decisionOf(a Action, now time.Time) (store.Decision, error) {
	rec := actionRecord{Record: router.Record{ReceivedAt: now.UTC(), Field: Field, Event: a.Action,
		Rules: []router.RuleRecord{}, Incidents: []router.IncidentTransition{}, Notifications: []router.NotificationRecord{}}, Console: a}
	b, err := json.Marshal(rec)
	if err != nil {
		return store.Decision{}, fmt.Errorf("encoding the console's record of %s: %w", a.Action, err)
	}
	return store.Decision{At: now.UTC(), Field: Field, Event: a.Action, Record: b}, nil
}

// actionOf reads a console entry of the decision log; ok is false for
// any other entry.
func actionOf(d store.Decision) (Action, bool) {
	if d.Field != Field || d.WebhookID != 0 {
		return Action{}, false
	}
	var rec actionRecord
	if err := json.Unmarshal(d.Record, &rec); err != nil || rec.Console.Action == "" {
		return Action{}, false
	}
	return rec.Console, true
}

// logAction records a write in the decision log, in a transaction of its
// own: for writes the store makes outside any transaction of ours.
func (c *Console) logAction(ctx context.Context, a Action) error {
	d, err := decisionOf(a, c.now())
	if err != nil {
		return err
	}
	if err := c.opts.Store.Update(ctx, func(tx store.Tx) error { return tx.AppendDecision(ctx, d) }); err != nil {
		return fmt.Errorf("recording %s of %s by %s in the decision log: %w", a.Action, a.Target, a.User, err)
	}
	return nil
}

// auditedStore is the store with every Update also recording the action
// in the same transaction, so that a silence is never added or expired
// without its entry, nor the entry kept without the write. target, when
// set, names the action's target from the silence the write saved
// (whose id is made inside the write).
type auditedStore struct {
	Store
	action Action
	now    func() time.Time
	saved  *store.Silence
}

func (a *auditedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return a.Store.Update(ctx, func(tx store.Tx) error {
		spy := &silenceSpy{Tx: tx}
		if err := fn(spy); err != nil {
			return err
		}
		act := a.action
		if spy.saved != nil {
			act.Target = spy.saved.ID
			if act.Detail == "" {
				act.Detail = fmt.Sprintf("when %s, until %s: %s", spy.saved.When, stamp(spy.saved.Ends()), spy.saved.Comment)
			}
			if a.saved != nil {
				*a.saved = *spy.saved
			}
		}
		d, err := decisionOf(act, a.now())
		if err != nil {
			return err
		}
		return tx.AppendDecision(ctx, d)
	})
}

// silenceSpy notes the silence a write saves.
type silenceSpy struct {
	store.Tx
	saved *store.Silence
}

func (s *silenceSpy) SaveSilence(ctx context.Context, sil store.Silence) error {
	if err := s.Tx.SaveSilence(ctx, sil); err != nil {
		return err
	}
	s.saved = &sil
	return nil
}
