package sinks

import (
	"fmt"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// FollowUp reports whether n is a later transition of its incident than
// the opening: what a sink shows as an update of what it sent first.
func FollowUp(n notification.Notification) bool {
	return n.Incident != nil && n.Incident.Transition != notification.Opened
}

// Change says, for people and in one line, what n's transition did to
// its incident: "Escalated: severity warning → critical", "Repeated: 3
// events so far", "Reminder: still open since …", "Resolved: ended by
// …". It is "" for a notification outside any incident.
func Change(n notification.Notification) string {
	inc := n.Incident
	if inc == nil {
		return ""
	}
	changes := strings.Join(inc.Changes, "; ")
	with := func(head, rest string) string {
		if rest == "" {
			return head
		}
		return head + ": " + rest
	}
	switch inc.Transition {
	case notification.Opened:
		return with("Opened", changes)
	case notification.Escalated:
		return with("Escalated", changes)
	case notification.Updated:
		s := fmt.Sprintf("Repeated: %s so far", events(inc.Count))
		if changes != "" {
			s += "; " + changes
		}
		return s
	case notification.Reminded:
		return fmt.Sprintf("Reminder: still open since %s, %s so far", UTC(inc.OpenedAt), events(inc.Count))
	case notification.Resolved:
		return with("Resolved", inc.Reason)
	}
	return with(string(inc.Transition), changes)
}

// Body is n's body without the change it may open with (a resolve's body
// starts "Resolved: …" as Change does), for the sinks that show both.
func Body(n notification.Notification) string {
	body := strings.TrimSpace(n.Body)
	if change := Change(n); change != "" {
		if rest, ok := strings.CutPrefix(body, change); ok {
			body = strings.TrimSpace(strings.TrimPrefix(rest, "."))
		}
	}
	return body
}

// IncidentFacts lists what a person needs to know of n's incident, in a
// fixed order: its state (with the transition), how many events it has
// seen, when it opened, when it was last seen or resolved, and its id.
// It is nil for a notification outside any incident.
func IncidentFacts(n notification.Notification) []Fact {
	inc := n.Incident
	if inc == nil {
		return nil
	}
	state := "Open"
	if inc.State == notification.ResolvedState {
		state = "Resolved"
	} else if inc.Transition != notification.Opened && inc.Transition != "" {
		state += " (" + string(inc.Transition) + ")"
	}
	fs := []Fact{{"State", state}, {"Events", fmt.Sprint(inc.Count)}}
	if !inc.OpenedAt.IsZero() {
		fs = append(fs, Fact{"Opened", UTC(inc.OpenedAt)})
	}
	if !inc.LastSeen.IsZero() {
		fs = append(fs, Fact{"Last seen", UTC(inc.LastSeen)})
	}
	if !inc.ResolvedAt.IsZero() {
		fs = append(fs, Fact{"Resolved", UTC(inc.ResolvedAt)})
	}
	return append(fs, Fact{"Incident", inc.ID})
}

// UTC formats t as the sinks show times to people.
func UTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func events(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}
