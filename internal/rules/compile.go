package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/textdist"
)

// eventNames are the expr names of Event's fields, for did-you-mean.
func eventNames() []string {
	t := reflect.TypeFor[event.Event]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if n := t.Field(i).Tag.Get("expr"); n != "" {
			names = append(names, n)
		}
	}
	return names
}

var unknownName = regexp.MustCompile(`^unknown name (\S+)`)

func (p *fileParser) compileWhen(r *Rule, n *yaml.Node) {
	r.program = p.compileCondition(r, n, "when")
}

// compileCondition compiles a when or resolve_when condition, reporting a
// mistake at its place in the file; nil when it does not compile.
func (p *fileParser) compileCondition(r *Rule, n *yaml.Node, key string) *vm.Program {
	prog, err := expr.Compile(n.Value, p.set.exprOptions()...)
	if err == nil {
		return prog
	}
	var fe *file.Error
	if !errors.As(err, &fe) || fe.Line == 0 {
		p.errorf(n, r.Name, "%s: %v", key, err)
		return nil
	}
	line, col := exprPosition(n, fe.Line, fe.Column, p.blockIndent(n))
	p.errorAt(line, col, r.Name, key+": "+exprMessage(fe.Message))
	return nil
}

// exprPosition maps a position inside the expression (line 1-based, column
// 0-based) to the rules file, so the author sees where to look.
func exprPosition(n *yaml.Node, line, col, indent int) (int, int) {
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The text starts on the line after the | or >, indented.
		return n.Line + line, indent + col + 1
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line == 1 {
			return n.Line, n.Column + 1 + col
		}
	default:
		if line == 1 {
			return n.Line, n.Column + col
		}
	}
	return n.Line + line - 1, col + 1
}

// blockIndent is the indentation of a block scalar's first line, which
// yaml.v3 strips from the value but an error position must count.
func (p *fileParser) blockIndent(n *yaml.Node) int {
	for i := n.Line; i < len(p.lines); i++ {
		l := p.lines[i]
		if trimmed := strings.TrimLeft(l, " "); trimmed != "" {
			return len(l) - len(trimmed)
		}
	}
	return 0
}

func exprMessage(msg string) string {
	m := unknownName.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return fmt.Sprintf("unknown name %q%s", m[1], suggest(m[1], eventNames()))
}

// exprOptions builds the compile options; the time helpers close over the
// Set so its Now is read at evaluation time, not at compile time.
func (s *Set) exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(event.Event{}),
		expr.AsBool(),
		expr.Function("within", s.within, new(func(time.Time, string) bool)),
		expr.Function("older_than", s.olderThan, new(func(time.Time, string) bool)),
		expr.Function("contains_any", containsAny, new(func(any, ...string) bool)),
	}
}

func (s *Set) within(params ...any) (any, error) {
	t, d, err := timeAndDuration("within", params)
	if err != nil || t.IsZero() {
		return false, err
	}
	now := s.now()
	return t.After(now) && !t.After(now.Add(d)), nil
}

func (s *Set) olderThan(params ...any) (any, error) {
	t, d, err := timeAndDuration("older_than", params)
	if err != nil || t.IsZero() {
		return false, err
	}
	return t.Before(s.now().Add(-d)), nil
}

func timeAndDuration(fn string, params []any) (time.Time, time.Duration, error) {
	t, _ := params[0].(time.Time)
	ds, _ := params[1].(string)
	d, err := time.ParseDuration(ds)
	if err != nil {
		return t, 0, fmt.Errorf("%s: %q is not a duration like 72h: %w", fn, ds, err)
	}
	return t, d, nil
}

func containsAny(params ...any) (any, error) {
	for _, item := range params[1:] {
		s, _ := item.(string)
		if listHas(params[0], s) {
			return true, nil
		}
	}
	return false, nil
}

// listHas accepts both Event's []string fields and literal lists, which
// expr builds as []any.
func listHas(list any, s string) bool {
	switch l := list.(type) {
	case []string:
		return contains(l, s)
	case []any:
		for _, x := range l {
			if x == s {
				return true
			}
		}
	}
	return false
}

// suggest returns `; did you mean "x"?` for the closest candidate within a
// third of the word's length, or "".
func suggest(word string, candidates []string) string {
	best, bestDist := "", len(word)/3+2
	for _, c := range candidates {
		d := textdist.Levenshtein(strings.ToLower(word), strings.ToLower(c))
		if strings.Contains(c, word) || strings.Contains(word, c) {
			d = min(d, bestDist-1) // "slack" is surely "compliance-slack"
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || best == word {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}
