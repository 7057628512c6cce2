package schedule

import (
	"strings"
	"testing"
	"time"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustRange(t *testing.T, parse func(string) (Range, error), s string) Range {
	t.Helper()
	r, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustTimes(t *testing.T, start, end string) TimeRange {
	t.Helper()
	tr, err := ParseTimeRange(start, end)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// at reads a wall-clock time in loc, "2006-01-02 15:04".
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(t *testing.T, s string) time.Time { return at(t, time.UTC, s) }

// businessHours is the example: Monday to Friday, 09:00 to 18:00
// in Berlin.
func businessHours(t *testing.T) *Schedule {
	return &Schedule{Name: "business-hours", Intervals: []Interval{{
		Location: berlin(t),
		Weekdays: []Range{mustRange(t, ParseWeekdays, "monday:friday")},
		Times:    []TimeRange{mustTimes(t, "09:00", "18:00")},
	}}}
}

func TestCovers(t *testing.T) {
	loc := berlin(t)
	night := &Schedule{Name: "night", Intervals: []Interval{
		{Location: loc, Times: []TimeRange{mustTimes(t, "22:00", "24:00")}},
		{Location: loc, Times: []TimeRange{mustTimes(t, "00:00", "06:00")}},
	}}
	weekend := &Schedule{Name: "weekend", Intervals: []Interval{{Location: loc,
		Weekdays: []Range{mustRange(t, ParseWeekdays, "saturday:sunday")}}}}
	winter := &Schedule{Name: "winter", Intervals: []Interval{{Location: loc,
		Months: []Range{mustRange(t, ParseMonths, "november:february")}}}}
	lastDays := &Schedule{Name: "month-end", Intervals: []Interval{{Location: loc,
		DaysOfMonth: []Range{mustRange(t, ParseDaysOfMonth, "-2:-1")}}}}
	y2027 := &Schedule{Name: "2027", Intervals: []Interval{{Years: []Range{mustRange(t, ParseYears, "2027")}}}}
	cases := []struct {
		name string
		s    *Schedule
		at   time.Time
		want bool
	}{
		{"business hours: Monday 09:00 opens", businessHours(t), at(t, loc, "2026-11-30 09:00"), true},
		{"business hours: Monday 08:59", businessHours(t), at(t, loc, "2026-11-30 08:59"), false},
		{"business hours: Friday 17:59", businessHours(t), at(t, loc, "2026-11-27 17:59"), true},
		{"business hours: 18:00 is past the end", businessHours(t), at(t, loc, "2026-11-27 18:00"), false},
		{"business hours: Saturday", businessHours(t), at(t, loc, "2026-11-28 10:00"), false},
		{"business hours: in UTC, 08:00 is 09:00 in Berlin (winter)", businessHours(t), utc(t, "2026-11-30 08:00"), true},
		{"business hours: in UTC, 07:00 is 09:00 in Berlin (summer)", businessHours(t), utc(t, "2026-06-01 07:00"), true},
		{"business hours: in UTC, 06:59 in summer", businessHours(t), utc(t, "2026-06-01 06:59"), false},
		{"night: before midnight", night, at(t, loc, "2026-11-28 23:30"), true},
		{"night: after midnight", night, at(t, loc, "2026-11-29 05:59"), true},
		{"night: morning", night, at(t, loc, "2026-11-29 06:00"), false},
		{"weekend wraps the week: Sunday", weekend, at(t, loc, "2026-11-29 12:00"), true},
		{"weekend wraps the week: Saturday", weekend, at(t, loc, "2026-11-28 12:00"), true},
		{"weekend wraps the week: Monday", weekend, at(t, loc, "2026-11-30 12:00"), false},
		{"winter wraps the year: January", winter, at(t, loc, "2027-01-15 12:00"), true},
		{"winter wraps the year: March", winter, at(t, loc, "2027-03-01 00:00"), false},
		{"month end in a leap February", lastDays, at(t, loc, "2028-02-28 12:00"), true},
		{"month end: 27 February 2028 is not", lastDays, at(t, loc, "2028-02-27 23:59"), false},
		{"month end in a 30-day month", lastDays, at(t, loc, "2026-11-29 00:00"), true},
		{"years in UTC when no zone is given", y2027, utc(t, "2027-01-01 00:00"), true},
		{"years: the last instant of 2026", y2027, utc(t, "2026-12-31 23:59"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Covers(c.at); got != c.want {
				t.Errorf("%s covers %s: got %v, want %v", c.s.Name, c.at, got, c.want)
			}
		})
	}
}

// TestRelease: the first instant the gates let through, across weekends,
// nights and both of Berlin's DST changes in 2026 (29 March 02:00 → 03:00,
// 25 October 03:00 → 02:00).
func TestRelease(t *testing.T) {
	loc := berlin(t)
	set := Set{
		"business-hours": businessHours(t),
		"night": {Name: "night", Intervals: []Interval{
			{Location: loc, Times: []TimeRange{mustTimes(t, "22:00", "24:00")}},
			{Location: loc, Times: []TimeRange{mustTimes(t, "00:00", "06:00")}},
		}},
		// 02:30 does not exist on 29 March in Berlin; 02:00–02:30 happens
		// twice on 25 October.
		"early": {Name: "early", Intervals: []Interval{{Location: loc, Times: []TimeRange{mustTimes(t, "02:30", "04:00")}}}},
		"twice": {Name: "twice", Intervals: []Interval{{Location: loc, Times: []TimeRange{mustTimes(t, "02:00", "02:30")}}}},
		"lunch": {Name: "lunch", Intervals: []Interval{{Location: loc, Times: []TimeRange{mustTimes(t, "12:00", "13:00")}}}},
		"past":  {Name: "past", Intervals: []Interval{{Years: []Range{{Start: 2020, End: 2020}}}}},
	}
	active := func(names ...string) Gate { return Gate{ActiveDuring: names} }
	muted := func(names ...string) Gate { return Gate{MutedDuring: names} }
	cases := []struct {
		name  string
		from  time.Time
		gates []Gate
		want  time.Time // zero: never
	}{
		{"Saturday is held to Monday 09:00 (08:00 UTC)", at(t, loc, "2026-11-28 10:00"), []Gate{active("business-hours")}, utc(t, "2026-11-30 08:00")},
		{"already open: now", at(t, loc, "2026-11-30 10:00"), []Gate{active("business-hours")}, at(t, loc, "2026-11-30 10:00")},
		{"Friday evening before spring forward: Monday 09:00 CEST", at(t, loc, "2026-03-27 19:00"), []Gate{active("business-hours")}, utc(t, "2026-03-30 07:00")},
		{"Friday evening before fall back: Monday 09:00 CET", at(t, loc, "2026-10-23 19:00"), []Gate{active("business-hours")}, utc(t, "2026-10-26 08:00")},
		{"muted night ends at 06:00 on the spring-forward night", at(t, loc, "2026-03-29 01:00"), []Gate{muted("night")}, utc(t, "2026-03-29 04:00")},
		{"muted night ends at 06:00 on the fall-back night", at(t, loc, "2026-10-25 01:00"), []Gate{muted("night")}, utc(t, "2026-10-25 05:00")},
		{"a start in the spring gap opens when the clock jumps to 03:00", utc(t, "2026-03-29 00:00"), []Gate{active("early")}, utc(t, "2026-03-29 01:00")},
		{"after 02:30 CEST, the repeated 02:00 CET opens again", utc(t, "2026-10-25 00:30"), []Gate{active("twice")}, utc(t, "2026-10-25 01:00")},
		{"rule and sink together: business hours but not lunch", at(t, loc, "2026-11-30 12:10"), []Gate{active("business-hours"), muted("lunch")}, at(t, loc, "2026-11-30 13:00")},
		{"either of two active schedules", at(t, loc, "2026-11-28 23:00"), []Gate{active("business-hours", "night")}, at(t, loc, "2026-11-28 23:00")},
		{"a schedule of the past never opens", at(t, loc, "2026-11-28 10:00"), []Gate{active("past")}, time.Time{}},
		{"muted and active by the same schedule never opens", at(t, loc, "2026-11-28 10:00"), []Gate{active("lunch"), muted("lunch")}, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := set.Release(c.from, c.gates...)
			if ok != !c.want.IsZero() || ok && !got.Equal(c.want) {
				t.Errorf("release from %s: got %s (%v), want %s", c.from, got.UTC(), ok, c.want.UTC())
			}
		})
	}
}

func TestShut(t *testing.T) {
	set := Set{"business-hours": businessHours(t), "lunch": {Name: "lunch", Intervals: []Interval{{Location: berlin(t),
		Times: []TimeRange{{Start: 720, End: 780}}}}}}
	saturday := at(t, berlin(t), "2026-11-28 10:00")
	if got, by := set.Shut(Gate{ActiveDuring: []string{"business-hours"}}, saturday); got != "outside active_during business-hours" || by.Name != "business-hours" {
		t.Errorf("got %q by %v", got, by)
	}
	if got, _ := set.Shut(Gate{MutedDuring: []string{"lunch"}}, at(t, berlin(t), "2026-11-30 12:30")); got != "muted_during lunch" {
		t.Errorf("got %q", got)
	}
	if got, _ := set.Shut(Gate{}, saturday); got != "" {
		t.Errorf("an empty gate is shut: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, want string
		parse      func() error
	}{
		{"25:00", `time "25:00" is not a time of day; hours run from 00 to 23`, func() error { _, err := ParseTime("25:00"); return err }},
		{"no minutes", `time "9" is not a time of day; write it as HH:MM`, func() error { _, err := ParseTime("9"); return err }},
		{"end before start", `end 06:00 is not after start 22:00; a span across midnight is two spans`, func() error { _, err := ParseTimeRange("22:00", "06:00"); return err }},
		{"start 24:00", `start "24:00" is the end of the day`, func() error { _, err := ParseTimeRange("24:00", "24:00"); return err }},
		{"weekday typo", `unknown weekday "thurzday"; did you mean "thursday"?`, func() error { _, err := ParseWeekdays("thurzday"); return err }},
		{"weekday abbreviation", `unknown weekday "tues"; did you mean "tuesday"?`, func() error { _, err := ParseWeekdays("monday:tues"); return err }},
		{"weekday far off", `unknown weekday "weekend"; write one of sunday, monday`, func() error { _, err := ParseWeekdays("weekend"); return err }},
		{"month 13", `unknown month "13"`, func() error { _, err := ParseMonths("13"); return err }},
		{"day 0", `day of month "0" is not a day`, func() error { _, err := ParseDaysOfMonth("0"); return err }},
		{"days backwards", `days of month "10:5" end before they start`, func() error { _, err := ParseDaysOfMonth("10:5"); return err }},
		{"days from the end to a day", `start counting from the month's end and end counting from its start`, func() error { _, err := ParseDaysOfMonth("-3:5"); return err }},
		{"years backwards", `years "2027:2026" end before they start`, func() error { _, err := ParseYears("2027:2026"); return err }},
		{"zone case", `unknown time_zone "europe/berlin"; did you mean "Europe/Berlin"?`, func() error { _, err := LoadLocation("europe/berlin"); return err }},
		{"zone without region", `unknown time_zone "Berlin"; did you mean "Europe/Berlin"?`, func() error { _, err := LoadLocation("Berlin"); return err }},
		{"zone with a space", `unknown time_zone "America/New York"; did you mean "America/New_York"?`, func() error { _, err := LoadLocation("America/New York"); return err }},
		{"unknown zone", `unknown time_zone "Mars/Olympus"; write an IANA name`, func() error { _, err := LoadLocation("Mars/Olympus"); return err }},
		{"Local", `time_zone "Local" is not a time zone name`, func() error { _, err := LoadLocation("Local"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.parse()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name  string
		parse func() (Range, error)
		want  Range
	}{
		{"weekday any case", func() (Range, error) { return ParseWeekdays("Monday") }, Range{1, 1}},
		{"weekday range", func() (Range, error) { return ParseWeekdays("monday:friday") }, Range{1, 5}},
		{"month by number", func() (Range, error) { return ParseMonths("1:3") }, Range{1, 3}},
		{"month by name", func() (Range, error) { return ParseMonths("may:august") }, Range{5, 8}},
		{"days from the end", func() (Range, error) { return ParseDaysOfMonth("-7:-1") }, Range{-7, -1}},
		{"day to the end", func() (Range, error) { return ParseDaysOfMonth("15:-1") }, Range{15, -1}},
		{"years", func() (Range, error) { return ParseYears("2026:2027") }, Range{2026, 2027}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse()
			if err != nil || got != c.want {
				t.Errorf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
	if m, err := ParseTime("24:00"); err != nil || m != 1440 {
		t.Errorf("24:00: got %d, %v", m, err)
	}
}
