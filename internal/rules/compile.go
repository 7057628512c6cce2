package rules

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
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

func (p *fileParser) compileWhen(r *Rule, n *yaml.Node) {
	r.program = p.compileCondition(r, n, "when")
	if r.program != nil {
		r.pins = pinsOf(n.Value)
	}
}

// compileCondition compiles a when or resolve_when condition, reporting a
// mistake at its place in the file, and what the condition's shape says
// it probably gets wrong as warnings; nil when it does not compile.
func (p *fileParser) compileCondition(r *Rule, n *yaml.Node, key string) *vm.Program {
	prog, err := expr.Compile(n.Value, p.set.exprOptions()...)
	if err == nil {
		for _, w := range lintCondition(n.Value, prog) {
			line, col := p.valuePosition(n, w.off)
			p.warnAt(line, col, r.Name, key+": "+w.msg)
		}
		return prog
	}
	var fe *file.Error
	switch {
	case errors.As(err, &fe):
	case strings.HasPrefix(err.Error(), "expected bool"):
		// The type of the whole condition, which expr says without a place.
		fe = &file.Error{Line: 1, Message: err.Error()}
	default:
		p.errorf(n, r.Name, "%s: %v", key, err)
		return nil
	}
	if fe.Line == 0 {
		fe.Line = 1 // a problem of the whole condition, such as its type
	}
	pr := explainCondition(n.Value, fe)
	line, col := p.valuePosition(n, pr.off)
	p.errorAt(line, col, r.Name, key+": "+strings.ReplaceAll(pr.msg, colHere, strconv.Itoa(col)))
	return nil
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
		// now() is the set's clock, as within and older_than read it, so a
		// test's now: pins it too.
		expr.DisableBuiltin("now"),
		expr.Function("now", func(...any) (any, error) { return s.now(), nil }, new(func() time.Time)),
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

// suggest returns `; did you mean "x"?` for the nearest candidate, or
// "" when none is near. Nearest is, in this order: the same word in
// another case; a word a few typos away (a third of its length at most,
// "type" for types); a word that starts with it ("waba" for waba_id); a
// word it starts with; a word holding it as a part ("slack" for
// compliance-slack). Ties go to the closer spelling, then to the shorter.
func suggest(word string, candidates []string) string {
	return Suggest(word, candidates)
}

// Suggest is suggest for the other readers of YAML written by rule
// authors (rule test files): `; did you mean "x"?` or "".
func Suggest(word string, candidates []string) string {
	if best := nearest(word, candidates); best != "" && best != word {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func nearest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	type rank struct{ tier, dist, length int }
	best, bestRank := "", rank{tier: 99}
	less := func(a, b rank) bool {
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		return a.length < b.length
	}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := textdist.Levenshtein(lw, lc)
		r := rank{tier: 99, dist: d, length: len(c)}
		switch {
		case lc == lw:
			r.tier = 0
		case d <= len(lw)/3+1 && d < len(lw):
			r.tier = 1
		case len(lw) >= 3 && strings.HasPrefix(lc, lw):
			r.tier = 2
		case len(lc) >= 3 && strings.HasPrefix(lw, lc):
			r.tier = 3
		case len(lw) >= 3 && hasPart(lc, lw):
			r.tier = 4
		default:
			continue
		}
		if less(r, bestRank) {
			best, bestRank = c, r
		}
	}
	return best
}

// hasPart reports whether word is one of the parts of name between
// "_", "-" and ".".
func hasPart(name, word string) bool {
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' })
	return slices.Contains(parts, word) || strings.Contains(name, word) && len(word) >= 5
}
