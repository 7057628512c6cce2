package sinks

import (
	"strings"
	"unicode"
)

// StripBidi removes the Unicode bidirectional formatting characters from
// s: the embeddings and overrides U+202A–U+202E, the isolates
// U+2066–U+2069 and the marks U+200E, U+200F and U+061C (Unicode's
// Bidi_Control set). An override such as U+202E in a template name Meta
// relays would otherwise show a title reversed from that point on, so a
// "banned" alert could read as something harmless. The marks go too:
// they are invisible, and every sink shows a title on a line of its own,
// where it reads right without them.
func StripBidi(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }
