package sinks

import (
	"fmt"
	"strings"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// GroupLines lists the items of n's group, one line each, oldest first:
// what the item is, then "resolved" for one that is, and how many
// events it has seen when more than one. It is nil for a notification
// outside any group.
func GroupLines(n notification.Notification) []string {
	if n.Group == nil {
		return nil
	}
	lines := make([]string, 0, len(n.Group.Items))
	for _, it := range n.Group.Items {
		l := strings.Join(strings.Fields(StripBidi(it.Title)), " ")
		var notes []string
		if it.State == notification.ResolvedState || n.Incident != nil && n.Incident.State == notification.ResolvedState {
			notes = append(notes, "resolved")
		}
		if it.Events > 1 {
			notes = append(notes, events(it.Events))
		}
		if len(notes) > 0 {
			l += " (" + strings.Join(notes, ", ") + ")"
		}
		lines = append(lines, l)
	}
	return lines
}

// GroupHeading says, for people, what n's group holds: "40 items, 38
// open"; "" outside any group.
func GroupHeading(n notification.Notification) string {
	g := n.Group
	if g == nil {
		return ""
	}
	items := "1 item"
	if g.Total != 1 {
		items = fmt.Sprintf("%d items", g.Total)
	}
	return fmt.Sprintf("%s, %d open", items, g.Open)
}

// GroupMore says how many items the group has beyond those listed
// ("and 12 more"), with those a sink had no room for (cut) added; "" when
// none.
func GroupMore(n notification.Notification, cut int) string {
	more := n.Group.More() + cut
	if more <= 0 {
		return ""
	}
	return fmt.Sprintf("and %d more", more)
}
