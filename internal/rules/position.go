package rules

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// A condition or a template written over several lines (`>-`, `|`, a
// plain or quoted value going on) reaches expr and text/template as one
// text: folded lines are joined with spaces and their indentation is
// gone. valuePosition finds where a place in that text is in the file, by
// finding each of the value's lines in the text in turn, so an error on
// the third line of a condition is reported on that line, at its column.

// segment is a run of a value's text that is one line of the file:
// value[from:from+len(text)] starts at line, byte col0 of the file.
type segment struct {
	from  int
	line  int
	col0  int
	width int
}

// valueSegments lines up the value of n with the file's lines.
func (p *fileParser) valueSegments(n *yaml.Node) []segment {
	value := n.Value
	if n.Line < 1 || n.Line > len(p.lines) {
		return nil
	}
	var segs []segment
	v := 0
	first := n.Line
	block := n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if block {
		first++ // the text starts after the | or > line
	}
	for line := first; line <= len(p.lines) && v < len(value); line++ {
		raw := strings.TrimRight(p.lines[line-1], "\r")
		start := 0
		if line == n.Line && !block {
			start = byteCol(raw, n.Column)
			if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				start++
			}
		}
		if start > len(raw) {
			break
		}
		text := raw[start:]
		lead := len(text) - len(strings.TrimLeft(text, " \t"))
		text = strings.TrimRight(text[lead:], " \t")
		if text == "" {
			continue
		}
		// The first line of a quoted value keeps its own spaces; a
		// closing quote or a comment after the value is not in it.
		probe := text
		for probe != "" {
			if i := strings.Index(value[v:], probe); i >= 0 {
				segs = append(segs, segment{from: v + i, line: line, col0: start + lead, width: len(probe)})
				v += i + len(probe)
				break
			}
			probe = probe[:len(probe)-1]
			if len(probe) < len(text)/2 {
				probe = "" // not this value's line: an escape, or the next key
			}
		}
	}
	return segs
}

// byteCol is the byte offset in line of yaml.v3's column col (from 1,
// counted in characters).
func byteCol(line string, col int) int {
	off := 0
	for i := 1; i < col && off < len(line); i++ {
		_, size := utf8.DecodeRuneInString(line[off:])
		off += size
	}
	return off
}

// valuePosition is the file's line and column (from 1, in characters) of
// byte offset off into n's value.
func (p *fileParser) valuePosition(n *yaml.Node, off int) (int, int) {
	segs := p.valueSegments(n)
	if len(segs) == 0 {
		return n.Line, n.Column
	}
	s := segs[0]
	for _, cand := range segs {
		if cand.from <= off {
			s = cand
		}
	}
	raw := strings.TrimRight(p.lines[s.line-1], "\r")
	at := min(s.col0+max(off-s.from, 0), len(raw))
	if off > s.from+s.width {
		at = min(s.col0+s.width, len(raw))
	}
	return s.line, utf8.RuneCountInString(raw[:at]) + 1
}

// exprOffset turns expr's line (from 1) and column (from 0, in
// characters) into a byte offset into the expression's text.
func exprOffset(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	for i := 0; i < col && off < len(src); i++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}
