package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The parsers below read what people write in a schedule. Their errors
// say what is wrong and, after "; ", what to write instead; the caller
// adds the place in the file.

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september",
	"october", "november", "december"}

// ParseTime reads a time of day, HH:MM from 00:00 to 24:00, into minutes
// since midnight.
func ParseTime(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	switch {
	case !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2:
		return 0, fmt.Errorf("time %q is not a time of day; write it as HH:MM, such as \"09:00\"", s)
	case hh == 24 && mm == 0:
		return 24 * 60, nil
	case hh > 23 || mm > 59:
		return 0, fmt.Errorf("time %q is not a time of day; hours run from 00 to 23 and minutes from 00 to 59 (24:00 ends the day)", s)
	}
	return hh*60 + mm, nil
}

// ParseTimeRange reads a span of the day from its start and end.
func ParseTimeRange(start, end string) (TimeRange, error) {
	a, err := ParseTime(start)
	if err != nil {
		return TimeRange{}, err
	}
	b, err := ParseTime(end)
	if err != nil {
		return TimeRange{}, err
	}
	switch {
	case a == 24*60:
		return TimeRange{}, fmt.Errorf("start %q is the end of the day; a span starts at 23:59 at the latest", start)
	case b <= a:
		return TimeRange{}, fmt.Errorf("end %s is not after start %s; a span across midnight is two spans: "+
			"{start: \"%s\", end: \"24:00\"} and {start: \"00:00\", end: \"%s\"} (the second on the next day's weekday)",
			end, start, start, end)
	}
	return TimeRange{Start: a, End: b}, nil
}

// ParseWeekdays reads a weekday or a range of them, such as "saturday" or
// "monday:friday"; a range may wrap around the week (saturday:sunday).
func ParseWeekdays(s string) (Range, error) {
	return parseNamed(s, "weekday", weekdayNames, 0, func(v string) (int, bool) { return -1, false })
}

// ParseMonths reads a month or a range of them, by name or number, such
// as "december", "1:3" or "november:february".
func ParseMonths(s string) (Range, error) {
	return parseNamed(s, "month", monthNames, 1, func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1 && n <= 12
	})
}

// parseNamed reads one name or a range a:b of names; number reads a
// value given as a number instead.
func parseNamed(s, what string, names []string, first int, number func(string) (int, bool)) (Range, error) {
	one := func(v string) (int, error) {
		lv := strings.ToLower(strings.TrimSpace(v))
		for i, n := range names {
			if n == lv {
				return i + first, nil
			}
		}
		if n, ok := number(lv); ok {
			return n, nil
		}
		hint := fmt.Sprintf("; write one of %s", strings.Join(names, ", "))
		if near := nearest(lv, names); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		return 0, fmt.Errorf("unknown %s %q%s", what, v, hint)
	}
	a, b, isRange := strings.Cut(s, ":")
	start, err := one(a)
	if err != nil {
		return Range{}, err
	}
	if !isRange {
		return Range{Start: start, End: start}, nil
	}
	end, err := one(b)
	if err != nil {
		return Range{}, err
	}
	return Range{Start: start, End: end}, nil
}

// ParseDaysOfMonth reads a day of the month or a range of them: "1",
// "1:7", "-1" (the last day), "-7:-1" (the last seven), "15:-1" (the
// 15th to the end).
func ParseDaysOfMonth(s string) (Range, error) {
	day := func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n == 0 || n < -31 || n > 31 {
			return 0, fmt.Errorf("day of month %q is not a day; write 1 to 31, or -1 to -31 counting from the month's end (-1 is its last day)", v)
		}
		return n, nil
	}
	a, b, isRange := strings.Cut(s, ":")
	start, err := day(a)
	if err != nil {
		return Range{}, err
	}
	if !isRange {
		return Range{Start: start, End: start}, nil
	}
	end, err := day(b)
	if err != nil {
		return Range{}, err
	}
	switch {
	case start < 0 && end > 0:
		return Range{}, fmt.Errorf("days of month %q start counting from the month's end and end counting from its start; "+
			"write both the same way, such as \"-7:-1\" or \"20:31\"", s)
	case (start > 0) == (end > 0) && end < start:
		return Range{}, fmt.Errorf("days of month %q end before they start; write the earlier day first", s)
	}
	return Range{Start: start, End: end}, nil
}

// ParseYears reads a year or a range of them, such as "2026" or
// "2026:2027".
func ParseYears(s string) (Range, error) {
	year := func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1970 || n > 9999 {
			return 0, fmt.Errorf("year %q is not a year; write four digits, such as 2026", v)
		}
		return n, nil
	}
	a, b, isRange := strings.Cut(s, ":")
	start, err := year(a)
	if err != nil {
		return Range{}, err
	}
	if !isRange {
		return Range{Start: start, End: start}, nil
	}
	end, err := year(b)
	if err != nil {
		return Range{}, err
	}
	if end < start {
		return Range{}, fmt.Errorf("years %q end before they start; write the earlier year first", s)
	}
	return Range{Start: start, End: end}, nil
}

// zoneRegions are the IANA areas a bare city name is tried in, for
// did-you-mean.
var zoneRegions = []string{"Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian"}

// LoadLocation reads an IANA time zone name such as Europe/Berlin, or
// UTC. A name that is not one gets the nearest name that is, when a
// change of case or a missing region finds it. "Local" is refused: the
// machine's zone differs between a laptop and a container.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("time_zone %q is not a time zone name; write an IANA name such as \"Europe/Berlin\" or \"UTC\" "+
			"(the machine's own zone differs between hosts and containers)", name)
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	for _, c := range zoneCandidates(name) {
		if _, err := time.LoadLocation(c); err == nil && c != name {
			return nil, fmt.Errorf("unknown time_zone %q; did you mean %q?", name, c)
		}
	}
	return nil, fmt.Errorf("unknown time_zone %q; write an IANA name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"", name)
}

// zoneCandidates are what a mistyped zone name probably meant: its parts
// capitalised (europe/berlin), spaces as underscores (New York), and a
// bare city in each region.
func zoneCandidates(name string) []string {
	parts := strings.Split(strings.ReplaceAll(strings.TrimSpace(name), " ", "_"), "/")
	for i, p := range parts {
		words := strings.Split(strings.ToLower(p), "_")
		for j, w := range words {
			if w != "" {
				words[j] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		parts[i] = strings.Join(words, "_")
	}
	titled := strings.Join(parts, "/")
	out := []string{titled, strings.ToUpper(titled)}
	if len(parts) == 1 {
		for _, r := range zoneRegions {
			out = append(out, r+"/"+titled)
		}
	}
	return out
}

// nearest is the name word is a unique start of ("tues"), or the only
// name a typo or two away ("thurzday"); "" when there is none.
func nearest(word string, names []string) string {
	var prefixed []string
	for _, n := range names {
		if len(word) >= 2 && strings.HasPrefix(n, word) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestDist, ties := "", 3, 0
	for _, n := range names {
		switch d := distance(word, n); {
		case d < bestDist:
			best, bestDist, ties = n, d, 1
		case d == bestDist:
			ties++
		}
	}
	if ties != 1 {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
