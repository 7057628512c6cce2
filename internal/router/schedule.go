package router

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/schedule"
)

// hold is what the schedules make of one notification for one sink: it
// goes now (until zero, reason ""), it is held until a later instant, or
// it is dropped.
type hold struct {
	until  time.Time
	reason string
	drop   bool
}

// scheduled runs the schedule stage on n: the active_during and
// muted_during of its rule and of its sink, at the event's routing time.
// A notification either keeps back is held until the first instant both
// let it through, or, when the rule says when_muted: drop, not made. A
// resolve of an incident the sink heard of (known) is held, never
// dropped: dropping it would leave the sink's incident open for good.
// Every transition of an incident is gated by the rule that opened it,
// so they are held alike and go out in order (the outbox leases an
// incident's rows by seq, so a resolve never overtakes a held opening).
func (r *Router) scheduled(ec *eventCtx, n notification.Notification, known bool) hold {
	set := ec.set
	if len(set.Schedules) == 0 {
		return hold{}
	}
	var gates []schedule.Gate
	var owners []string
	rule := set.Rule(n.Rule)
	if rule != nil && !rule.Schedules.IsZero() {
		gates, owners = append(gates, rule.Schedules), append(owners, "rule "+strconv.Quote(rule.Name))
	}
	if g := set.SinkSchedules[n.Sink]; !g.IsZero() {
		gates, owners = append(gates, g), append(owners, "sink "+strconv.Quote(n.Sink))
	}
	var reason string
	zone := time.UTC
	for i, g := range gates {
		if why, by := set.Schedules.Shut(g, ec.now); why != "" {
			reason, zone = owners[i]+": "+why, by.Zone()
			break
		}
	}
	if reason == "" {
		return hold{}
	}
	if rule != nil && rule.WhenMuted == rules.Drop && !(n.Action == notification.Resolve && known) {
		return hold{reason: reason + " (when_muted: drop)", drop: true}
	}
	until, ok := set.Schedules.Release(ec.now, gates...)
	if !ok {
		return hold{reason: fmt.Sprintf("%s, and the schedules let nothing through in the next %d days",
			reason, int(schedule.Horizon.Hours()/24)), drop: true}
	}
	return hold{until: until.In(zone), reason: reason}
}

// FormatHeld says when a held notification goes out, on the wall clock
// of the schedule that holds it: "2026-11-30 09:00 Europe/Berlin".
func FormatHeld(t time.Time) string {
	return t.Format("2006-01-02 15:04") + " " + t.Location().String()
}
