package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Reader is what audit reads from the store.
type Reader interface {
	Incidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error)
	GetIncident(ctx context.Context, id string) (store.Incident, bool, error)
	Decisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error)
	Attempts(ctx context.Context, notificationIDs []string) ([]store.Attempt, error)
}

// Incident is one incident as `incidents --format json` writes it and
// the API serves it. Every key is always there: ResolvedAt is null while
// the incident is open, Reason empty until it resolves.
type Incident struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Severity is the worst the episode reached: info, warning, error or
	// critical.
	Severity string `json:"severity"`
	WabaID   string `json:"waba_id"`
	Rule     string `json:"rule"`
	Key      string `json:"key"`
	// Episode counts the incident's openings under its rule and key: a
	// trigger after a resolve opens the next one.
	Episode int    `json:"episode"`
	Title   string `json:"title"`
	// Events counts the events of the episode, repeats included.
	Events   int       `json:"events"`
	OpenedAt time.Time `json:"opened_at"`
	// UpdatedAt is when the episode last changed: its last event, a
	// reminder, its resolve.
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// Reason says what resolved it.
	Reason string `json:"reason"`
}

// The states an incident list can be asked for.
const (
	StateOpen     = "open"
	StateResolved = "resolved"
	StateAll      = "all"
)

// IncidentQuery selects incidents: State is open, resolved or all (empty
// means all); WabaID, when set, one account's. Limit bounds the list (0:
// no bound but the store's).
type IncidentQuery struct {
	State  string
	WabaID string
	Limit  int
}

// CheckState refuses a state that is not open, resolved or all.
func CheckState(state string) error {
	switch state {
	case "", StateOpen, StateResolved, StateAll:
		return nil
	}
	return fmt.Errorf("state %q is not open, resolved or all", state)
}

// Incidents lists the incidents q selects, the latest changed first.
func Incidents(ctx context.Context, r Reader, q IncidentQuery) ([]Incident, error) {
	if err := CheckState(q.State); err != nil {
		return nil, err
	}
	f := store.IncidentFilter{State: q.State, WabaID: q.WabaID, Limit: q.Limit}
	if f.State == StateAll {
		f.State = ""
	}
	incs, err := r.Incidents(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing incidents (state %q, WABA %q): %w", q.State, q.WabaID, err)
	}
	out := make([]Incident, len(incs))
	for i, inc := range incs {
		out[i] = IncidentOf(inc)
	}
	return out, nil
}

// GetIncident reads one incident; found is false for an unknown id.
func GetIncident(ctx context.Context, r Reader, id string) (Incident, bool, error) {
	inc, found, err := r.GetIncident(ctx, id)
	if err != nil {
		return Incident{}, false, fmt.Errorf("reading incident %s: %w", id, err)
	}
	if !found {
		return Incident{}, false, nil
	}
	return IncidentOf(inc), true, nil
}

// IncidentOf is a stored incident as audit shows it.
func IncidentOf(inc store.Incident) Incident {
	out := Incident{ID: inc.ID, State: inc.State, Severity: notification.Severity(inc.Severity).String(), WabaID: inc.WabaID,
		Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode, Title: inc.Title, Events: inc.Events,
		OpenedAt: inc.OpenedAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(), Reason: inc.Reason}
	if !inc.ResolvedAt.IsZero() {
		at := inc.ResolvedAt.UTC()
		out.ResolvedAt = &at
	}
	return out
}
