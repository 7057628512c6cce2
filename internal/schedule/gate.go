package schedule

import (
	"fmt"
	"time"
)

// Horizon is how far ahead Release looks for an instant that lets a
// notification through; a gate that stays shut longer than this never
// lets it through, as far as routing is concerned.
const Horizon = 400 * 24 * time.Hour

// Gate is what one rule or sink says about when it takes notifications:
// only while one of ActiveDuring covers the instant (any instant when
// ActiveDuring is empty), and never while one of MutedDuring does. It
// holds schedule names, looked up in a Set when evaluated, so that a
// reload of the schedules changes what every gate naming them does.
type Gate struct {
	ActiveDuring []string
	MutedDuring  []string
}

// IsZero reports whether g lets everything through.
func (g Gate) IsZero() bool { return len(g.ActiveDuring) == 0 && len(g.MutedDuring) == 0 }

// Set is the schedules of a config by name.
type Set map[string]*Schedule

// Names lists the schedules of s, for checking the names rules and sinks
// give.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for name := range s {
		names = append(names, name)
	}
	return names
}

// Shut says why g does not let t through: the key and the schedule that
// keep it shut, such as "outside active_during business-hours" or
// "muted_during night"; "" when g lets t through. A name s lacks covers
// nothing (the config refuses such names before they get here).
func (s Set) Shut(g Gate, t time.Time) (reason string, by *Schedule) {
	for _, name := range g.MutedDuring {
		if sc := s[name]; sc != nil && sc.Covers(t) {
			return "muted_during " + name, sc
		}
	}
	if len(g.ActiveDuring) == 0 {
		return "", nil
	}
	for _, name := range g.ActiveDuring {
		if sc := s[name]; sc != nil && sc.Covers(t) {
			return "", nil
		}
	}
	if len(g.ActiveDuring) == 1 {
		return "outside active_during " + g.ActiveDuring[0], s[g.ActiveDuring[0]]
	}
	return fmt.Sprintf("outside active_during %v", g.ActiveDuring), s[g.ActiveDuring[0]]
}

// Release is the first instant at or after t that every gate lets
// through, and false when none comes within Horizon. It steps from one
// instant where some named schedule may change to the next, so it costs a
// few steps per day looked ahead.
func (s Set) Release(t time.Time, gates ...Gate) (time.Time, bool) {
	var named []*Schedule
	for _, g := range gates {
		for _, list := range [][]string{g.ActiveDuring, g.MutedDuring} {
			for _, name := range list {
				if sc := s[name]; sc != nil {
					named = append(named, sc)
				}
			}
		}
	}
	limit := t.Add(Horizon)
	for u := t; !u.After(limit); {
		open := true
		for _, g := range gates {
			if reason, _ := s.Shut(g, u); reason != "" {
				open = false
				break
			}
		}
		if open {
			return u, true
		}
		next := u.Add(24 * time.Hour)
		for _, sc := range named {
			if c := sc.nextChange(u); c.Before(next) {
				next = c
			}
		}
		u = next
	}
	return time.Time{}, false
}

// Zone is the time zone a schedule's first interval is read in, for
// saying a time the way the schedule's author wrote it.
func (s *Schedule) Zone() *time.Location {
	if s == nil || len(s.Intervals) == 0 {
		return time.UTC
	}
	return s.Intervals[0].loc()
}
