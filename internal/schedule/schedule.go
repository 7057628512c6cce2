// Package schedule holds named time intervals (business hours, nights,
// holidays) and says whether an instant falls in one, and when the next
// instant a set of them lets a notification through comes.
//
// An interval is modelled on Alertmanager's time_intervals: times of day,
// weekdays, days of the month, months and years, read on the wall clock
// of one time zone. Every part given must hold; a part left out holds
// always. A schedule lists one or more intervals and covers an instant
// when any of them does.
//
// The package knows nothing of rules, sinks or the config file: it is
// built from plain values and parses the strings people write.
package schedule

import (
	// Time zones must load the same on every machine, the distroless
	// image (no /usr/share/zoneinfo) included.
	_ "time/tzdata"

	"time"
)

// Range is an inclusive range of weekdays (0 Sunday … 6 Saturday), days
// of the month (negative counts from the month's end, -1 its last day),
// months (1 … 12) or years. A weekday or month range whose end comes
// before its start wraps around: saturday:sunday, december:february.
type Range struct{ Start, End int }

// TimeRange is a span of the day in minutes since midnight, [Start, End):
// 09:00–18:00 is {540, 1080}; End may be 1440 (24:00).
type TimeRange struct{ Start, End int }

// Interval is one entry of a schedule. Every part given must hold; a nil
// part holds always.
type Interval struct {
	// Location is the time zone whose wall clock the parts are read on.
	Location    *time.Location
	Times       []TimeRange
	Weekdays    []Range
	DaysOfMonth []Range
	Months      []Range
	Years       []Range
}

// Schedule is a named list of intervals; it covers an instant when any of
// its intervals does.
type Schedule struct {
	Name      string
	Intervals []Interval
}

// Covers reports whether t falls in s.
func (s *Schedule) Covers(t time.Time) bool {
	for i := range s.Intervals {
		if s.Intervals[i].Covers(t) {
			return true
		}
	}
	return false
}

// Covers reports whether t falls in iv, on its zone's wall clock.
func (iv *Interval) Covers(t time.Time) bool {
	lt := t.In(iv.loc())
	if !iv.coversDay(lt) {
		return false
	}
	if iv.Times == nil {
		return true
	}
	sec := secondOfDay(lt)
	for _, tr := range iv.Times {
		if sec >= tr.Start*60 && sec < tr.End*60 {
			return true
		}
	}
	return false
}

// coversDay reports whether the local day of lt is one of iv's.
func (iv *Interval) coversDay(lt time.Time) bool {
	y, m, d := lt.Date()
	if iv.Years != nil && !inAny(iv.Years, y, false) {
		return false
	}
	if iv.Months != nil && !inAny(iv.Months, int(m), true) {
		return false
	}
	if iv.Weekdays != nil && !inAny(iv.Weekdays, int(lt.Weekday()), true) {
		return false
	}
	if iv.DaysOfMonth != nil {
		last := daysIn(y, m)
		found := false
		for _, r := range iv.DaysOfMonth {
			start, end := dayOf(r.Start, last), dayOf(r.End, last)
			if d >= start && d <= end {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func inAny(rs []Range, v int, wraps bool) bool {
	for _, r := range rs {
		switch {
		case r.Start <= r.End && v >= r.Start && v <= r.End:
			return true
		case wraps && r.Start > r.End && (v >= r.Start || v <= r.End):
			return true
		}
	}
	return false
}

// dayOf turns a day of the month as written (negative from the end) into
// the day it is in a month of last days; a day past the month's end is
// past it (31 in April never comes).
func dayOf(d, last int) int {
	if d < 0 {
		return last + 1 + d
	}
	return d
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// secondOfDay is the wall-clock time of lt in seconds since midnight.
func secondOfDay(lt time.Time) int {
	return lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
}

func (iv *Interval) loc() *time.Location {
	if iv.Location == nil {
		return time.UTC
	}
	return iv.Location
}

// nextChange is the first instant after t at which Covers may change:
// the next start or end of a time range today, the next midnight, or the
// end of the zone's current offset (a DST change), whichever comes first.
// Within one offset the wall clock moves with the instant, so the wall
// time of a boundary gives its instant exactly.
func (iv *Interval) nextChange(t time.Time) time.Time {
	lt := t.In(iv.loc())
	now := time.Duration(secondOfDay(lt))*time.Second + time.Duration(lt.Nanosecond())
	next := 24 * time.Hour
	if iv.Times != nil && iv.coversDay(lt) {
		for _, tr := range iv.Times {
			for _, b := range []int{tr.Start, tr.End} {
				if at := time.Duration(b) * time.Minute; at > now && at < next {
					next = at
				}
			}
		}
	}
	u := t.Add(next - now)
	if _, end := lt.ZoneBounds(); !end.IsZero() && end.After(t) && end.Before(u) {
		u = end
	}
	return u
}

// nextChange is the first instant after t at which s.Covers may change.
func (s *Schedule) nextChange(t time.Time) time.Time {
	var next time.Time
	for i := range s.Intervals {
		if c := s.Intervals[i].nextChange(t); next.IsZero() || c.Before(next) {
			next = c
		}
	}
	if next.IsZero() {
		return t.Add(24 * time.Hour) // no intervals: nothing ever changes
	}
	return next
}
