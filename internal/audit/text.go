package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSONLines writes each item as one JSON object on a line of its
// own.
func WriteJSONLines[T any](w io.Writer, items []T) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return fmt.Errorf("writing a JSON line: %w", err)
		}
	}
	return nil
}

// WriteIncidents writes incidents as a table for people: state, severity,
// key, rule, when it opened, when it was last seen (or resolved), its
// events, and the id that `why --incident` takes.
func WriteIncidents(w io.Writer, incs []Incident) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tSEVERITY\tKEY\tRULE\tOPENED\tLAST SEEN/RESOLVED\tEVENTS\tID")
	for _, inc := range incs {
		last := stamp(inc.UpdatedAt)
		if inc.ResolvedAt != nil {
			last = stamp(*inc.ResolvedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", inc.State, inc.Severity, oneLine(inc.Key), oneLine(inc.Rule),
			stamp(inc.OpenedAt), last, inc.Events, inc.ID)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the incidents: %w", err)
	}
	return nil
}

// WriteIncident writes one incident for people, as the heading of its
// story.
func WriteIncident(w io.Writer, inc Incident) error {
	state := "open since " + stamp(inc.OpenedAt) + ", last seen " + stamp(inc.UpdatedAt)
	if inc.ResolvedAt != nil {
		state = "opened " + stamp(inc.OpenedAt) + ", resolved " + stamp(*inc.ResolvedAt)
		if inc.Reason != "" {
			state += ": " + oneLine(inc.Reason)
		}
	}
	_, err := fmt.Fprintf(w, "incident %s (rule %q, key %s, episode %d): %s, %s; %s\n  %s\n",
		inc.ID, inc.Rule, oneLine(inc.Key), inc.Episode, inc.Severity, count(inc.Events, "event"), state, oneLine(inc.Title))
	if err != nil {
		return fmt.Errorf("writing incident %s: %w", inc.ID, err)
	}
	return nil
}

// WriteWhy writes each entry as sentences a person reads: what the event
// was, each rule that matched or failed, each incident transition, and
// under it each notification with what became of it.
func WriteWhy(w io.Writer, entries []Entry) error {
	var b strings.Builder
	for _, e := range entries {
		writeEntry(&b, e)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the decisions: %w", err)
	}
	return nil
}

func writeEntry(b *strings.Builder, e Entry) {
	what := e.Field
	if e.Event != "" {
		what += "/" + e.Event
	}
	if e.WabaID != "" {
		what += " of WABA " + e.WabaID
	}
	if e.Timer != "" {
		fmt.Fprintf(b, "timer %s, fired %s: %s\n", e.Timer, stamp(e.RoutedAt), what)
	} else {
		fmt.Fprintf(b, "webhook %d, event %d, received %s: %s\n", e.WebhookID, e.Index+1, stamp(e.ReceivedAt), what)
	}
	if e.Redelivery || len(e.Rules) == 0 && len(e.Incidents) == 0 && len(e.KeptOpen) == 0 && e.Timer == "" {
		fmt.Fprintf(b, "  %s\n", e.Summary)
		return
	}
	for _, r := range e.Rules {
		if r.Error != "" {
			// expr's errors point at the column on lines of their own;
			// indented, they stay under their rule.
			fmt.Fprintf(b, "  rule %q FAILED: %s\n", r.Rule, strings.ReplaceAll(r.Error, "\n", "\n    "))
		}
	}
	placed := make([]bool, len(e.Notifications))
	told := make([]bool, len(e.Incidents))
	for _, r := range e.Rules {
		if !r.Matched {
			continue
		}
		first := true
		for i, t := range e.Incidents {
			if told[i] || t.Rule != r.Rule {
				continue
			}
			told[i] = true
			lead := fmt.Sprintf("rule %q matched", r.Rule)
			if !first {
				lead = "  and"
			}
			first = false
			fmt.Fprintf(b, "  %s → %s\n", lead, transition(t, false))
			writeNotifications(b, e, t, placed)
		}
		if first {
			fmt.Fprintf(b, "  rule %q matched; it changed no incident\n", r.Rule)
		}
	}
	// What no matching rule made: a recovery, a timer's resolve or
	// reminder. Its reason says what made it.
	for i, t := range e.Incidents {
		if !told[i] {
			fmt.Fprintf(b, "  %s\n", transition(t, true))
			writeNotifications(b, e, t, placed)
		}
	}
	for _, k := range e.KeptOpen {
		fmt.Fprintf(b, "  %s\n", transition(Transition{ID: k.ID, Rule: k.Rule, Key: k.Key, Episode: k.Episode,
			Transition: "kept open", Reason: k.Reason}, true))
	}
	for i, n := range e.Notifications {
		if !placed[i] {
			fmt.Fprintf(b, "    → %s (rule %q): %s\n", n.Sink, n.Rule, delivery(n))
		}
	}
	switch {
	case !slices.ContainsFunc(e.Rules, func(r Rule) bool { return r.Matched }) && len(e.Incidents) == 0 && len(e.KeptOpen) == 0 && e.Timer == "":
		fmt.Fprintln(b, "  no rule matched; nothing was sent")
	case !slices.ContainsFunc(e.Notifications, func(n Notification) bool { return n.Outcome == "queued" }):
		fmt.Fprintln(b, "  nothing was sent")
	}
}

// transition tells an incident transition; withRule names the incident's
// rule, for a transition no matching rule made (a recovery, a timer).
func transition(t Transition, withRule bool) string {
	s := "incident " + t.ID
	if withRule {
		s += fmt.Sprintf(" of rule %q", t.Rule)
	}
	s += " " + t.Transition + " (key " + oneLine(t.Key)
	if t.Episode > 1 {
		s += ", episode " + strconv.Itoa(t.Episode)
	}
	s += ")"
	if t.Reason != "" {
		s += ": " + oneLine(t.Reason)
	}
	return s
}

// writeNotifications writes the notifications of transition t, marking
// them placed.
func writeNotifications(b *strings.Builder, e Entry, t Transition, placed []bool) {
	for i, n := range e.Notifications {
		if placed[i] || n.IncidentID != t.ID || n.Transition != t.Transition {
			continue
		}
		placed[i] = true
		fmt.Fprintf(b, "    → %s: %s\n", n.Sink, delivery(n))
	}
}

// delivery says what became of a notification: not made and why, or
// queued and each attempt to send it.
func delivery(n Notification) string {
	switch n.Outcome {
	case "queued":
	case "skipped":
		return "not made: " + oneLine(n.Reason)
	default:
		return n.Outcome + ": " + oneLine(n.Reason)
	}
	if len(n.Attempts) == 0 && !n.HeldUntil.IsZero() {
		return "held until " + n.HeldUntil.Format("2006-01-02 15:04 -07:00") + ": " + oneLine(n.Reason) + "; not sent yet"
	}
	if len(n.Attempts) == 0 {
		return "queued, not sent yet"
	}
	parts := []string{"queued"}
	for _, a := range n.Attempts {
		parts = append(parts, attempt(a))
	}
	switch last := n.Attempts[len(n.Attempts)-1]; n.Delivery {
	case DeliveryRetrying:
		parts = append(parts, "to be retried")
	case DeliveryDead:
		return strings.Join(parts, ", ") + fmt.Sprintf("; `deadletter replay %d` sends it again", last.Row)
	}
	return strings.Join(parts, ", ")
}

func attempt(a Attempt) string {
	switch a.Result {
	case "sent":
		if a.Receipt == "" {
			return "sent at " + stamp(a.At)
		}
		return fmt.Sprintf("sent at %s (receipt %s)", stamp(a.At), oneLine(a.Receipt))
	case "dead":
		return fmt.Sprintf("dead-lettered at %s: %s", stamp(a.At), failure(a))
	}
	return fmt.Sprintf("attempt %d failed at %s: %s", a.Attempt, stamp(a.At), failure(a))
}

// failure is an attempt's error with its class and the wait asked for.
func failure(a Attempt) string {
	var notes []string
	if a.ErrorClass != "" {
		notes = append(notes, a.ErrorClass)
	}
	if a.RetryAfter > 0 {
		notes = append(notes, "Retry-After "+(time.Duration(a.RetryAfter*float64(time.Second))).String())
	}
	s := oneLine(a.Error)
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// oneLine flattens what a service or a person wrote over several lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
