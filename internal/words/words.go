package words

import (
	"fmt"
	"strings"
	"time"
)

// Phone formats a bare number as people read it: +1 650-555-1111 for a
// North American number, otherwise + and the digits, since grouping
// varies by country. It is "" for "".
func Phone(s string) string {
	d := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if d == "" {
		return ""
	}
	if len(d) == 11 && d[0] == '1' && allDigits(d) {
		return fmt.Sprintf("+1 %s-%s-%s", d[1:4], d[4:7], d[7:])
	}
	return "+" + d
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Enum is the human name of one of Meta's enum values ("Not eligible for
// higher limits" for INCREASED_CAPABILITIES_ELIGIBILITY_FAILED); a value
// it does not know reads lower case with spaces ("biz initiated").
func Enum(value string) string {
	if name, ok := enumNames[value]; ok {
		return name
	}
	return strings.ToLower(strings.ReplaceAll(value, "_", " "))
}

// Capitalized is Enum with its first letter upper case, for a value that
// starts a line or a fact.
func Capitalized(value string) string {
	s := Enum(value)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// UTC is how a time reads where the reader's own zone cannot be used.
func UTC(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Future reports whether t is after now: a ban "will take effect", a
// restriction "will end".
func Future(t, now time.Time) bool { return !t.IsZero() && t.After(now) }
