package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// yaml.v3 names the line where the enclosing block starts, not the line
// of the mistake, and stops at the first one. When a rules file does not
// parse, lintYAML reads its lines the way a person would, knowing the
// mistakes rule authors make (a key indented one space off, a tab, a
// template or a condition YAML misreads), and says where each one is and
// what to write instead. It runs only on files yaml.v3 refused, so that a
// file YAML reads is never judged by anything but YAML.

// yamlFinding is one mistake lintYAML found; line and col count from 1.
type yamlFinding struct {
	line, col int
	msg       string
}

// lintLevel is one open block of the file: a mapping whose keys are at
// indent, or a list whose "-" are.
type lintLevel struct {
	indent int
	list   bool
	// key is the key that opened the block ("" for the top level);
	// entry names what one entry of a top-level list is ("rule" in
	// rules:, "test" in tests:) for the mapping of such an entry.
	key   string
	entry string
}

// lintOpen is a quoted value or a [ ] or { } list that goes on past its
// line, for as long as it stays open.
type lintOpen struct {
	line, col int
	close     byte
	owner     int // the indent of the key it is the value of
	key       string
}

type yamlLinter struct {
	levels   []lintLevel
	findings []yamlFinding
	// last is the key of the latest key line, its indent and whether its
	// value may go on over the next lines (a plain value), or whether
	// the next lines deeper are its block (no value).
	last       string
	lastIndent int
	lastPlain  bool
	lastOpens  bool
	block      *lintBlock
	open       *lintOpen
}

// lintBlock is a | or > block scalar: every line deeper than its key is
// text, indented at least like its first line.
type lintBlock struct {
	key        string
	keyIndent  int
	firstLine  int
	textIndent int // -1 until the first line of text
}

var (
	lintKey       = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*|"[^"]*"|'[^']*')[ ]*:( |$)`)
	lintKeyNoSp   = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*):([^\s:].*)$`)
	lintKeyNoCol  = regexp.MustCompile(`^([a-z_]+) +(\S.*)$`)
	blockHeader   = regexp.MustCompile(`^[|>][+-]?[1-9]?[+-]?( +#.*)?$`)
	blockHeadText = regexp.MustCompile(`^([|>][+-]?[1-9]?[+-]?) +([^#\s].*)$`)
)

func (l *yamlLinter) add(line, col int, format string, args ...any) {
	l.findings = append(l.findings, yamlFinding{line: line, col: col, msg: fmt.Sprintf(format, args...)})
}

// lintYAML returns the mistakes it recognises in a file's lines.
func lintYAML(lines []string) []yamlFinding {
	l := &yamlLinter{levels: []lintLevel{{indent: 0}}}
	for i, raw := range lines {
		l.line(i+1, strings.TrimRight(raw, "\r"))
	}
	if l.open != nil {
		l.unclosed()
	}
	return l.findings
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return fmt.Sprintf("%d spaces", n)
}

func (l *yamlLinter) line(n int, raw string) {
	if strings.TrimSpace(raw) == "" {
		return
	}
	if lead := raw[:len(raw)-len(strings.TrimLeft(raw, " \t"))]; strings.Contains(lead, "\t") {
		l.add(n, strings.IndexByte(lead, '\t')+1, "tabs cannot indent YAML; indent with spaces")
		return
	}
	indent := len(raw) - len(strings.TrimLeft(raw, " "))
	content := raw[indent:]
	if b := l.block; b != nil {
		if indent > b.keyIndent {
			switch {
			case b.textIndent < 0:
				b.textIndent = indent
			case indent < b.textIndent:
				l.add(n, indent+1, "this line of the `%s:` text is indented %s, less than its first line (%d); indent every line of it alike", b.key, spaces(indent), b.textIndent)
			}
			return
		}
		l.block = nil
	}
	if strings.HasPrefix(content, "#") {
		return
	}
	if o := l.open; o != nil {
		if indent > o.owner || !(lintKey.MatchString(content) || strings.HasPrefix(content, "- ")) {
			if closeAt(content, o.close) >= 0 {
				l.open = nil
			}
			return
		}
		l.unclosed()
	}
	isItem := content == "-" || strings.HasPrefix(content, "- ")
	noSpace := !isItem && len(content) > 1 && content[0] == '-' && isLetter(content[1])
	if noSpace {
		l.add(n, indent+1, "a list entry needs a space after its `-`; write `- %s`", content[1:])
		isItem = true
	}
	if isItem {
		l.item(n, indent)
		rest := strings.TrimLeft(content[1:], " ")
		col := indent + (len(content) - len(rest))
		if rest == "" || strings.HasPrefix(rest, "#") {
			l.last, l.lastIndent, l.lastOpens, l.lastPlain = "-", indent, true, false
			return
		}
		if lintKey.MatchString(rest) {
			l.levels = append(l.levels, lintLevel{indent: col, entry: l.topEntry()})
			l.keyLine(n, col, rest, true)
			return
		}
		l.value(n, col, indent, "-", rest)
		return
	}
	if lintKey.MatchString(content) {
		l.keyLine(n, indent, content, false)
		return
	}
	if l.lastPlain && indent > l.lastIndent {
		return // a plain value going on over several lines
	}
	switch m := lintKeyNoSp.FindStringSubmatch(content); {
	case m != nil:
		l.add(n, indent+len(m[1])+2, "a key needs a space after its colon; write `%s: %s`", m[1], m[2])
		return
	case l.lastPlain && l.last != "-":
		l.add(n, indent+1, "this line goes on the `%s:` above but is not indented more than `%s:`; indent it further, or write the value after `%s: >-`", l.last, l.last, l.last)
		return
	}
	if m := lintKeyNoCol.FindStringSubmatch(content); m != nil && contains(ruleKeys, m[1]) {
		l.add(n, indent+len(m[1])+1, "a key needs a colon after it; write `%s: %s`", m[1], m[2])
		return
	}
	l.add(n, indent+1, "YAML expects `key: value` or `- item` here")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// topEntry names an entry of the innermost level when that is a
// top-level list: "rule" for rules:, "test" for tests:, else "".
func (l *yamlLinter) topEntry() string {
	top := l.levels[len(l.levels)-1]
	if !top.list || len(l.levels) != 2 {
		return ""
	}
	return strings.TrimSuffix(top.key, "s")
}

// item places a "- " line at indent: a new list under a key without a
// value, or another entry of an open list.
func (l *yamlLinter) item(n, indent int) {
	if l.lastOpens && indent >= l.lastIndent && l.last != "-" {
		l.levels = append(l.levels, lintLevel{indent: indent, list: true, key: l.last})
		return
	}
	if l.lastOpens && l.last == "-" && indent > l.lastIndent {
		l.levels = append(l.levels, lintLevel{indent: indent, list: true})
		return
	}
	for i := len(l.levels) - 1; i >= 0; i-- {
		if lv := l.levels[i]; lv.list && lv.indent == indent {
			l.levels = l.levels[:i+1]
			return
		}
	}
	// The nearest list is the one whose "-" this line is off from.
	best := -1
	for i := len(l.levels) - 1; i >= 0; i-- {
		if l.levels[i].list {
			best = i
			break
		}
	}
	if best < 0 {
		l.add(n, indent+1, "a `-` list entry here belongs to no list")
		return
	}
	lv := l.levels[best]
	what := "the other entries of this list"
	if lv.key != "" {
		what = fmt.Sprintf("the other entries of `%s:`", lv.key)
	}
	if lv.key == "rules" || lv.key == "tests" {
		what = "the other " + lv.key
	}
	l.add(n, indent+1, "this `-` is indented %s; %s are at %d", spaces(indent), what, lv.indent)
	l.levels = l.levels[:best+1]
}

// keyLine places a "key: value" line at indent and reads its value.
func (l *yamlLinter) keyLine(n, indent int, content string, afterDash bool) {
	m := lintKey.FindStringSubmatch(content)
	key := strings.Trim(m[1], `"'`)
	if !afterDash {
		l.placeKey(n, indent, key)
	}
	rest := strings.TrimLeft(content[len(m[0]):], " ")
	col := indent + (len(content) - len(rest))
	l.value(n, col, indent, key, rest)
}

func (l *yamlLinter) placeKey(n, indent int, key string) {
	if l.lastOpens && indent > l.lastIndent {
		l.levels = append(l.levels, lintLevel{indent: indent, key: l.last})
		return
	}
	top := len(l.levels) - 1
	for i := top; i >= 0; i-- {
		if lv := l.levels[i]; lv.indent == indent && !lv.list {
			l.levels = l.levels[:i+1]
			return
		}
		if l.levels[i].indent < indent {
			break
		}
	}
	// Off from every mapping open here: compare with the one it is
	// nearest to from above, else the innermost.
	best := -1
	for i := top; i >= 0; i-- {
		lv := l.levels[i]
		if lv.list {
			continue
		}
		if lv.indent > indent && (best < 0 || lv.indent < l.levels[best].indent) {
			best = i
		}
	}
	if best < 0 {
		for i := top; i >= 0; i-- {
			if !l.levels[i].list {
				best = i
				break
			}
		}
	}
	lv := l.levels[best]
	var what string
	switch {
	case lv.entry != "":
		what = "the other keys of this " + lv.entry + " are"
	case lv.key != "" && lv.key != "-":
		what = fmt.Sprintf("the other keys of `%s:` are", lv.key)
	case best == 0:
		what = "the file's top-level keys are"
	default:
		what = "the other keys of this entry are"
	}
	l.add(n, indent+1, "`%s:` is indented %s; %s at %d", key, spaces(indent), what, lv.indent)
	l.levels = l.levels[:best+1]
}

// value reads what follows "key:" (or "- ") at col, 0-based.
func (l *yamlLinter) value(n, col, keyIndent int, key, v string) {
	l.last, l.lastIndent, l.lastPlain, l.lastOpens = key, keyIndent, false, false
	at := col + 1
	name := "`" + key + ":`"
	if key == "-" {
		name = "this list entry"
	}
	switch {
	case v == "" || strings.HasPrefix(v, "#"):
		l.lastOpens = true
	case v[0] == '|' || v[0] == '>':
		if m := blockHeadText.FindStringSubmatch(v); m != nil {
			l.add(n, at+len(m[1])+1, "after `%s: %s` the text starts on the next line, indented", key, m[1])
		} else if !blockHeader.MatchString(v) {
			l.add(n, at, "a value starting with `%c` must be quoted, or written on the next lines after `%s: >-`", v[0], key)
		}
		l.block = &lintBlock{key: key, keyIndent: keyIndent, firstLine: n, textIndent: -1}
	case strings.HasPrefix(v, "{{"):
		l.add(n, at, "a value starting with `{{` must be quoted; write `%s: '%s'`", key, strings.ReplaceAll(stripComment(v), "'", "''"))
	case v[0] == '"' || v[0] == '\'':
		end := closeAt(v[1:], v[0])
		if end < 0 {
			l.open = &lintOpen{line: n, col: at, close: v[0], owner: keyIndent, key: key}
			return
		}
		after := strings.TrimSpace(v[end+2:])
		if after != "" && !strings.HasPrefix(after, "#") {
			what := "value"
			if key == "when" || key == "resolve_when" {
				what = "condition"
			}
			l.add(n, at, "this %s starts with a quote but goes on after it; quote the whole %s or use `>-`", name, what)
		}
	case v[0] == '[' || v[0] == '{':
		closer := byte(']')
		if v[0] == '{' {
			closer = '}'
		}
		if flowEnd(v) < 0 {
			l.open = &lintOpen{line: n, col: at, close: closer, owner: keyIndent, key: key}
		}
	case v[0] == '!':
		l.add(n, at, "YAML reads a value starting with `!` as a tag: write `not` instead of `!`, or quote the whole value")
	case v[0] == '*' || v[0] == '&' || v[0] == '@' || v[0] == '`' || v[0] == '%':
		l.add(n, at, "a value starting with `%c` must be quoted", v[0])
	case strings.HasPrefix(v, "- "):
		l.add(n, at, "a list cannot start on the line of %s: write `%s: [a, b]`, or put each `- a` on a line of its own below it, indented", name, key)
	default:
		l.lastPlain = true
		plain := stripComment(v)
		if i := strings.Index(plain+" ", ": "); i >= 0 {
			quoted := "'" + strings.ReplaceAll(plain, "'", "''") + "'"
			what := "value"
			if key == "when" || key == "resolve_when" {
				what = "condition"
			}
			l.add(n, at+i, "YAML reads the `:` here as the start of another key; quote the whole %s: `%s: %s`", what, key, quoted)
		}
	}
}

// unclosed reports the open quote or list that the file left open.
func (l *yamlLinter) unclosed() {
	o := l.open
	l.open = nil
	if o.close == '"' || o.close == '\'' {
		l.add(o.line, o.col, "the quote opened here (`%c`) is never closed; end the value of `%s:` with `%c`", o.close, o.key, o.close)
		return
	}
	open := "["
	if o.close == '}' {
		open = "{"
	}
	l.add(o.line, o.col, "the `%s` opened here is never closed; end the list of `%s:` with `%c`", open, o.key, o.close)
}

// closeAt is the index in s of the quote q that closes a value whose
// opening quote came before s, or -1; a single-quoted value doubles the
// quote to write one.
func closeAt(s string, q byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// flowEnd is the index of the bracket that closes the [ or { s starts
// with, skipping quoted text, or -1 when the line ends first.
func flowEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'':
			j := closeAt(s[i+1:], c)
			if j < 0 {
				return -1
			}
			i += j + 1
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i
			}
		case '#':
			if i > 0 && s[i-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

// stripComment cuts a plain value at " #", where YAML's comments start.
func stripComment(v string) string {
	if i := strings.Index(v, " #"); i >= 0 {
		return strings.TrimRight(v[:i], " ")
	}
	return v
}
