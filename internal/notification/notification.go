package notification

import (
	"fmt"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Severity orders how loud a notification is. The zero value is Info.
type Severity int

// The severities, in rising order; PagerDuty uses the same four names.
const (
	Info Severity = iota
	Warning
	Error
	Critical
)

var severityNames = [...]string{"info", "warning", "error", "critical"}

// String returns the lower-case name used in config, logs and PagerDuty.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads one of critical, error, warning or info.
func ParseSeverity(s string) (Severity, error) {
	for i, name := range severityNames {
		if strings.EqualFold(s, name) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q; want one of critical, error, warning, info", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Action says whether a notification opens or closes an incident, or is
// news outside any incident.
type Action string

// The actions. Change is good news that is no incident (a template
// approved, an account verified): PagerDuty records it as a change event,
// the other sinks post it as an information.
const (
	Trigger Action = "trigger"
	Resolve Action = "resolve"
	Change  Action = "change"
)

// Transition is what happened to an incident.
type Transition string

// The transitions of an incident's episode: it opens, is updated by
// repeats or escalated by worse news any number of times, may remind while
// it stays open, and resolves.
const (
	Opened    Transition = "opened"
	Updated   Transition = "updated"
	Escalated Transition = "escalated"
	Reminded  Transition = "reminded"
	Resolved  Transition = "resolved"
)

// IncidentState is open until the incident resolves.
type IncidentState string

// The incident states.
const (
	Open          IncidentState = "open"
	ResolvedState IncidentState = "resolved"
)

// Incident is what a notification says about the incident it belongs to:
// one problem on one account, number, template or flow, in one episode (a
// trigger after a resolve opens the next episode).
type Incident struct {
	// ID names the episode; it stays the same through every transition.
	ID      string `json:"id"`
	Key     string `json:"key"`
	Episode int    `json:"episode"`
	// Transition is what this notification reports; Seq numbers the
	// episode's transitions from 1 (the opening).
	Transition Transition    `json:"transition"`
	State      IncidentState `json:"state"`
	Seq        int           `json:"seq"`
	// Count is how many events the episode has seen, repeats included.
	Count      int       `json:"count"`
	OpenedAt   time.Time `json:"opened_at"`
	LastSeen   time.Time `json:"last_seen"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Changes says, for people, what this transition changed, such as
	// "quality YELLOW → RED" or "severity warning → critical".
	Changes []string `json:"changes,omitempty"`
	// Reason says why it resolved: the recovery event, the restriction's
	// expiry, a resolve rule.
	Reason string `json:"reason,omitempty"`
}

// Fallback says which sink a handed-over notification was meant for
// and why it went elsewhere.
type Fallback struct {
	// Sink is the sink that could not deliver it; Reason its last error,
	// as that sink wrote it (without secrets).
	Sink   string `json:"sink"`
	Reason string `json:"reason"`
	// Notification is the ID the notification had on that sink.
	Notification string `json:"notification"`
	// DeadLettered says the sink gave up; else it is still retrying, and
	// the notification may reach it too once it recovers.
	DeadLettered bool `json:"dead_lettered"`
}

// Notification is one rule's verdict on one event, addressed to one sink.
type Notification struct {
	// ID is unique per notification and sink; sinks carry it in what they
	// send so a receiver (and the end-to-end tests) can match deliveries.
	ID              string   `json:"id"`
	Sink            string   `json:"sink"`
	Rule            string   `json:"rule"`
	RuleDescription string   `json:"rule_description,omitempty"`
	Severity        Severity `json:"severity"`
	Action          Action   `json:"action"`
	Title           string   `json:"title"`
	Body            string   `json:"body"`
	DedupKey        string   `json:"dedup_key"`
	// Runbook is the "what to do" link: the rule's runbook, else the
	// default for the event's field; "" when neither has one.
	Runbook string `json:"runbook,omitempty"`
	// Suppressed counts the repeats that dedup held back since
	// SuppressedSince, shown as "3 more since 14:02 UTC".
	Suppressed      int       `json:"suppressed,omitempty"`
	SuppressedSince time.Time `json:"suppressed_since,omitzero"`
	// Incident is the incident the notification reports a transition of;
	// nil for a notification outside any (notify-test).
	Incident *Incident `json:"incident,omitempty"`
	// FallbackFor marks a notification handed over by a sink that could
	// not deliver it; nil for one routed to its sink directly.
	FallbackFor *Fallback `json:"fallback_for,omitempty"`
	// Test marks a notification sent by notify-test, never by a real event.
	Test      bool        `json:"test,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	Event     event.Event `json:"event"`
}

// Word is the severity as a heading shows it: Critical, Error, Warning,
// Info; messages say it in words as well as with a colour or an emoji.
func (s Severity) Word() string {
	name := s.String()
	if s < Info || s > Critical {
		return name
	}
	return string(name[0]-'a'+'A') + name[1:]
}
