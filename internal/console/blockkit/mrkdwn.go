package blockkit

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// emoji are the shortcodes our messages use, drawn with CSS and glyphs
// every DejaVu install has: the pictures must not depend on a colour
// emoji font being installed. Any other :name: stays as its text, as
// Slack shows a shortcode it does not know.
var emoji = map[string]string{
	"rotating_light":     `<span class="emoji" style="background:#d00000;color:#fff;border-radius:50%">!</span>`,
	"red_circle":         `<span class="emoji" style="background:#e01e1e;border-radius:50%"></span>`,
	"warning":            `<span class="emoji" style="color:#e8a400">&#x26a0;</span>`,
	"information_source": `<span class="emoji" style="background:#2b7bd0;color:#fff;border-radius:3px">&#x2139;</span>`,
	"white_check_mark":   `<span class="emoji" style="background:#2eb67d;color:#fff;border-radius:3px">&#x2714;</span>`,
}

// decode undoes the three escapes Slack asks for (&amp;, &lt;, &gt;),
// which Slack decodes for display in every text, and nothing else: any
// other entity is shown as typed, as Slack does.
func decode(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// plainHTML is a plain_text object's text as HTML: decoded, escaped, with
// the known emoji drawn when the object asks for emoji.
func plainHTML(s string, withEmoji bool) template.HTML {
	var b strings.Builder
	literal(&b, s, withEmoji)
	return template.HTML(strings.ReplaceAll(b.String(), "\n", "<br>"))
}

// literal writes raw Slack text (still with Slack's escapes) as escaped
// HTML, drawing known emoji when withEmoji is set.
func literal(b *strings.Builder, s string, withEmoji bool) {
	for s != "" {
		i := strings.IndexByte(s, ':')
		if !withEmoji || i < 0 {
			b.WriteString(html.EscapeString(decode(s)))
			return
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 {
			b.WriteString(html.EscapeString(decode(s)))
			return
		}
		name := s[i+1 : i+1+j]
		if e, ok := emoji[name]; ok {
			b.WriteString(html.EscapeString(decode(s[:i])))
			b.WriteString(e)
			s = s[i+j+2:]
			continue
		}
		// Not an emoji: keep the first colon and look again from the
		// second, which may open one.
		b.WriteString(html.EscapeString(decode(s[:i+1])))
		s = s[i+1:]
	}
}

// mrkdwnHTML renders Slack mrkdwn as HTML: *bold*, _italic_, ~strike~,
// `code`, ```pre```, <url|text> links, <!date^…|fallback> as its
// fallback, mentions, newlines; everything else is escaped text.
func mrkdwnHTML(s string) template.HTML {
	var b strings.Builder
	mrkdwn(&b, s)
	return template.HTML(b.String())
}

func mrkdwn(b *strings.Builder, s string) {
	var text strings.Builder // literal text not yet written
	flush := func() {
		literal(b, text.String(), true)
		text.Reset()
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			flush()
			b.WriteString("<br>")
			i++
			continue
		case strings.HasPrefix(s[i:], "```"):
			if end := strings.Index(s[i+3:], "```"); end >= 0 {
				flush()
				b.WriteString(`<pre>` + html.EscapeString(decode(s[i+3:i+3+end])) + `</pre>`)
				i += 3 + end + 3
				continue
			}
		case c == '`':
			if end := strings.IndexAny(s[i+1:], "`\n"); end > 0 && s[i+1+end] == '`' {
				flush()
				b.WriteString(`<code>` + html.EscapeString(decode(s[i+1:i+1+end])) + `</code>`)
				i += end + 2
				continue
			}
		case c == '<':
			if end := strings.IndexAny(s[i+1:], ">\n"); end >= 0 && s[i+1+end] == '>' {
				flush()
				control(b, s[i+1:i+1+end])
				i += end + 2
				continue
			}
		case c == '*' || c == '_' || c == '~':
			if end, ok := closing(s, i); ok {
				flush()
				tag := map[byte]string{'*': "b", '_': "i", '~': "s"}[c]
				b.WriteString("<" + tag + ">")
				mrkdwn(b, s[i+1:end])
				b.WriteString("</" + tag + ">")
				i = end + 1
				continue
			}
		}
		text.WriteByte(c)
		i++
	}
	flush()
}

// closing finds the marker that closes the one at s[i], on the same line,
// as Slack pairs them: the opening one starts a word (nothing alphanumeric
// before it) and is followed by a non-space, the closing one follows a
// non-space and ends a word.
func closing(s string, i int) (int, bool) {
	m := s[i]
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWord(r) {
			return 0, false
		}
	}
	if i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == m || s[i+1] == '\n' {
		return 0, false
	}
	for j := i + 2; j < len(s); j++ {
		if s[j] == '\n' {
			return 0, false
		}
		if s[j] != m || s[j-1] == ' ' {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 < len(s) && isWord(r) {
			continue
		}
		return j, true
	}
	return 0, false
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// control renders what is between < and >: a date shows its fallback,
// a link its text (or its address), a mention its name.
func control(b *strings.Builder, c string) {
	target, label, hasLabel := strings.Cut(c, "|")
	switch {
	case strings.HasPrefix(target, "!date^"):
		// Slack shows the date in the reader's time zone; the preview
		// shows the fallback, which is what a client that cannot is given.
		b.WriteString(`<span class="date">` + html.EscapeString(decode(label)) + `</span>`)
	case target == "!here" || target == "!channel" || target == "!everyone":
		b.WriteString(`<span class="mention">@` + html.EscapeString(target[1:]) + `</span>`)
	case strings.HasPrefix(target, "!subteam^"):
		b.WriteString(`<span class="mention">` + html.EscapeString(decode(orText(label, "@"+target[len("!subteam^"):]))) + `</span>`)
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		b.WriteString(`<span class="mention">` + html.EscapeString(decode(orText(label, target))) + `</span>`)
	case isURL(target):
		shown := target
		if hasLabel {
			shown = label
		}
		b.WriteString(`<a href="` + html.EscapeString(decode(target)) + `">` + html.EscapeString(decode(shown)) + `</a>`)
	default:
		// Not a control Slack knows: shown as typed, never as markup.
		b.WriteString(html.EscapeString("<" + decode(c) + ">"))
	}
}

func orText(label, fallback string) string {
	if label != "" {
		return label
	}
	return fallback
}

func isURL(s string) bool {
	for _, p := range []string{"https://", "http://", "mailto:"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return false
}
