package email

import (
	"strings"
	"unicode/utf8"
)

// maxHeaderLine is RFC 5322's recommended limit on a header line, CRLF
// excluded; the hard limit is 998.
const maxHeaderLine = 78

// maxEncodedWord is RFC 2047's limit on one encoded-word.
const maxEncodedWord = 75

// foldText returns text (one line, no control characters) as the value of
// the unstructured header name, folded so that no line is longer than 78
// characters and so that unfolding (dropping each CRLF, RFC 5322 3.2.2)
// and decoding (RFC 2047) give text back exactly, with no space added or
// lost. go-mail's own folding breaks only at spaces, so a long template
// name would make a line of its length, and it leaves text that merely
// looks like an encoded-word ("=?") alone, which a reader would decode.
// Text with neither is folded at its spaces; other text is written as
// Q encoded-words, which may be split between any two characters and
// whose separating whitespace a decoder drops.
func foldText(name, text string) string {
	if plain(text) {
		if folded, ok := foldAtSpaces(len(name)+2, text); ok {
			return folded
		}
	}
	return encodedWords(len(name)+2, text)
}

// plain reports whether text can go into a header as it is: printable
// ASCII with single spaces, no leading or trailing space, and nothing a
// decoder would take for an encoded-word.
func plain(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] < ' ' || text[i] > '~' {
			return false
		}
	}
	return !strings.Contains(text, "=?") && !strings.Contains(text, "  ") && strings.TrimSpace(text) == text
}

// foldAtSpaces breaks text at spaces into lines of at most maxHeaderLine
// characters, the first of which already holds used characters ("Name:
// "). Each break is CRLF before a space, so unfolding restores the space.
// It fails when a word cannot fit a line.
func foldAtSpaces(used int, text string) (string, bool) {
	var b strings.Builder
	width := used
	for i, word := range strings.Split(text, " ") {
		switch {
		case i == 0:
			if used+len(word) > maxHeaderLine {
				return "", false
			}
		case width+1+len(word) <= maxHeaderLine:
			b.WriteByte(' ')
			width++
		default:
			if 1+len(word) > maxHeaderLine {
				return "", false
			}
			b.WriteString("\r\n ")
			width = 1
		}
		b.WriteString(word)
		width += len(word)
	}
	return b.String(), true
}

// encodedWords writes text as UTF-8 Q encoded-words (RFC 2047 4.2), each
// whole characters and at most 75 long, one per line, the first sized to
// fit after used characters.
func encodedWords(used int, text string) string {
	const open, end = "=?UTF-8?q?", "?="
	var b, word strings.Builder
	room := min(maxEncodedWord, maxHeaderLine-used)
	flush := func() {
		if word.Len() == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString(open + word.String() + end)
		word.Reset()
		room = maxEncodedWord
	}
	var buf [utf8.UTFMax]byte
	for _, r := range text {
		enc := qChar(buf[:utf8.EncodeRune(buf[:], r)])
		if len(open)+word.Len()+len(enc)+len(end) > room {
			flush()
		}
		word.WriteString(enc)
	}
	flush()
	return b.String()
}

// qChar is one character's bytes in Q encoding: letters, digits and the
// few specials RFC 2047 5(3) allows as they are, a space as "_", any
// other byte as "=XX".
func qChar(bs []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	for _, c := range bs {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
			s.WriteByte(c)
		case c == ' ':
			s.WriteByte('_')
		default:
			s.WriteByte('=')
			s.WriteByte(hex[c>>4])
			s.WriteByte(hex[c&0x0f])
		}
	}
	return s.String()
}
