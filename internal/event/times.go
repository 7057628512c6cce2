package event

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The range of times the parser builds. Meta documents Unix seconds, but a
// sender (or a test tool) that writes milliseconds makes a year near 57,000,
// which time.Time holds but encoding/json refuses to write: such an event
// could then never be stored, fingerprinted or sent. Unix times start in
// 1970 (a negative one is no date a webhook reports), and no WhatsApp
// Business date (bans, restrictions, template disables) lies centuries
// ahead, so a time outside [MinTime, MaxTime) is read as no time, with a
// warning.
var (
	// MinTime is the earliest time the parser builds: the Unix epoch.
	MinTime = time.Unix(0, 0).UTC()
	// MaxTime is the first time the parser no longer builds: 2200-01-01 UTC.
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// A Unix number's unit is told by its size. Seconds up to 2200 are below
// 7.3e9, and seconds from 1e11 on would be years after 5000, so from there
// a number is milliseconds (any date after March 1973), from 1e14
// microseconds and from 1e17 nanoseconds.
const (
	millisFrom = 1e11
	microsFrom = 1e14
	nanosFrom  = 1e17
)

// dateLayouts are the shapes of dates seen in Meta's payloads and docs:
// RFC 3339, ISO 8601 without a colon in the offset, and display dates.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"January 2, 2006",
	"Jan 2, 2006",
}

// timeOf reads a Unix time (a number or a numeric string, in seconds,
// milliseconds, microseconds or nanoseconds, told apart by size) or a date
// string. The time is zero when v is absent or cannot be read as a time in
// range; note, when not empty, says what was made of v and belongs in the
// event's warnings under the key's name.
func timeOf(v any) (ts time.Time, note string) {
	switch t := v.(type) {
	case nil:
		return time.Time{}, ""
	case int:
		return fromUnix(int64(t), describeNumber(t))
	case float64:
		return fromUnixFloat(t, describeNumber(t))
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return time.Time{}, ""
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return fromUnix(i, strconv.Quote(s))
		}
		if decimal(s) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return fromUnixFloat(f, strconv.Quote(s))
			}
		}
		for _, layout := range dateLayouts {
			if d, err := time.Parse(layout, s); err == nil {
				return inRange(d.UTC(), describe(t), "")
			}
		}
	}
	return time.Time{}, fmt.Sprintf("%s is not a time; left empty", describe(v))
}

// fromUnix reads n in the unit its size implies.
func fromUnix(n int64, shown string) (time.Time, string) {
	switch {
	case n >= nanosFrom:
		return inRange(time.Unix(0, n).UTC(), shown, "nanoseconds")
	case n >= microsFrom:
		return inRange(time.UnixMicro(n).UTC(), shown, "microseconds")
	case n >= millisFrom:
		return inRange(time.UnixMilli(n).UTC(), shown, "milliseconds")
	}
	if n < MinTime.Unix() || n >= MaxTime.Unix() {
		return outOfRange(shown)
	}
	return time.Unix(n, 0).UTC(), ""
}

// fromUnixFloat is fromUnix for a number with a fraction or beyond int64;
// the range is checked before converting, so no value overflows. The whole
// units are converted exactly and only the fraction is rounded, so a
// millisecond time written as 1764597600123.0 keeps its milliseconds.
func fromUnixFloat(f float64, shown string) (time.Time, string) {
	if math.IsNaN(f) {
		return time.Time{}, shown + " is not a time; left empty"
	}
	unit, perSecond := "", 1.0
	switch {
	case f >= nanosFrom:
		unit, perSecond = "nanoseconds", 1e9
	case f >= microsFrom:
		unit, perSecond = "microseconds", 1e6
	case f >= millisFrom:
		unit, perSecond = "milliseconds", 1e3
	}
	if sec := f / perSecond; !(sec >= float64(MinTime.Unix()) && sec < float64(MaxTime.Unix())) {
		return outOfRange(shown)
	}
	whole := math.Floor(f)
	nanosPerUnit := 1e9 / perSecond
	var ts time.Time
	switch unit {
	case "":
		ts = time.Unix(int64(whole), 0).UTC()
	case "milliseconds":
		ts = time.UnixMilli(int64(whole)).UTC()
	case "microseconds":
		ts = time.UnixMicro(int64(whole)).UTC()
	case "nanoseconds":
		ts = time.Unix(0, int64(whole)).UTC()
	}
	ts = ts.Add(time.Duration(math.Round((f - whole) * nanosPerUnit)))
	return inRange(ts, shown, unit)
}

// inRange keeps ts when it lies in [MinTime, MaxTime); unit, when set, is
// the unit its number was read in, which the note then names.
func inRange(ts time.Time, shown, unit string) (time.Time, string) {
	if ts.Before(MinTime) || !ts.Before(MaxTime) {
		if unit != "" {
			return outOfRange(shown + " (read as Unix " + unit + ")")
		}
		return outOfRange(shown)
	}
	if unit == "" {
		return ts, ""
	}
	return ts, fmt.Sprintf("%s read as Unix %s (%s)", shown, unit, ts.Format(time.RFC3339Nano))
}

func outOfRange(shown string) (time.Time, string) {
	return time.Time{}, fmt.Sprintf("%s is outside the years %d to %d; left empty", shown, MinTime.Year(), MaxTime.Year()-1)
}

// decimal says whether s is a plain decimal number, so that ParseFloat's
// other spellings (Inf, NaN, hexadecimal, underscores) are not read as times.
func decimal(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && !strings.ContainsRune(".-+eE", r) {
			return false
		}
	}
	return true
}

func describeNumber(v any) string {
	switch t := v.(type) {
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return kindOf(v)
}

// timeField reads the time under key name and keeps what timeOf noted in
// the event's warnings.
func timeField(ev *Event, name string, v any) time.Time {
	ts, note := timeOf(v)
	if note != "" {
		ev.Warnings = append(ev.Warnings, name+" "+note)
	}
	return ts
}
