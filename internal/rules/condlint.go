package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/textdist"
)

// A condition that compiles can still never match, or fail on every
// event at run time. lintCondition finds the shapes of those from the
// schema (the values each field takes, which fields are lists) and from
// how expr reads the text, and returns them as warnings: the rule loads,
// but its author hears why it will stay silent.

// lintCondition returns what a condition that compiles probably gets
// wrong.
func lintCondition(src string, _ *vm.Program) []exprProblem {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	l := &condLinter{src: src, lists: listFields(), guarded: map[string]bool{}}
	l.scope = fieldScope(tree.Node)
	ast.Find(tree.Node, func(n ast.Node) bool {
		if b, ok := n.(*ast.BuiltinNode); ok && b.Name == "len" && len(b.Arguments) == 1 {
			if id, ok := b.Arguments[0].(*ast.IdentifierNode); ok {
				l.guarded[id.Value] = true
			}
		}
		return false
	})
	l.walk(tree.Node, "")
	l.mixedAndOr()
	slices.SortStableFunc(l.found, func(a, b exprProblem) int { return a.off - b.off })
	return l.found
}

type condLinter struct {
	src     string
	lists   map[string]bool
	guarded map[string]bool // lists whose len the condition looks at
	// scope are the webhook fields the condition compares field with:
	// an event is checked against their events.
	scope []string
	found []exprProblem
}

func (l *condLinter) add(n ast.Node, format string, args ...any) {
	l.found = append(l.found, exprProblem{off: runeToByte(l.src, n.Location().From), msg: fmt.Sprintf(format, args...)})
}

// fieldScope lists the values field is compared with (==, in [...]).
func fieldScope(root ast.Node) []string {
	var fields []string
	ast.Find(root, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryNode)
		if !ok || (b.Operator != "==" && b.Operator != "in") {
			return false
		}
		if id, ok := b.Left.(*ast.IdentifierNode); !ok || id.Value != "field" {
			return false
		}
		for _, s := range stringsOf(b.Right) {
			fields = append(fields, s.Value)
		}
		return false
	})
	return fields
}

// stringsOf is the text n holds: itself, or the items of a list.
func stringsOf(n ast.Node) []*ast.StringNode {
	switch n := n.(type) {
	case *ast.StringNode:
		return []*ast.StringNode{n}
	case *ast.ArrayNode:
		var out []*ast.StringNode
		for _, it := range n.Nodes {
			if s, ok := it.(*ast.StringNode); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// fieldName names the event field n reads as the values table does
// (other_info.title, restrictions[].type), or "". item names the list a
// predicate's "." stands for.
func fieldName(n ast.Node, item string) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.MemberNode:
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return ""
		}
		switch base := n.Node.(type) {
		case *ast.PointerNode:
			if item != "" {
				return item + "[]." + prop.Value
			}
		case *ast.IdentifierNode:
			return base.Value + "." + prop.Value
		case *ast.MemberNode:
			if id, ok := base.Node.(*ast.IdentifierNode); ok {
				if _, isIndex := base.Property.(*ast.IntegerNode); isIndex {
					return id.Value + "[]." + prop.Value
				}
			}
		}
	}
	return ""
}

func (l *condLinter) walk(n ast.Node, item string) {
	if n == nil {
		return
	}
	switch n := n.(type) {
	case *ast.BinaryNode:
		l.binary(n, item)
		l.walk(n.Left, item)
		l.walk(n.Right, item)
	case *ast.UnaryNode:
		l.walk(n.Node, item)
	case *ast.MemberNode:
		l.index(n)
		l.walk(n.Node, item)
		l.walk(n.Property, item)
	case *ast.ChainNode:
		l.walk(n.Node, item)
	case *ast.CallNode:
		l.call(n)
		for _, a := range n.Arguments {
			l.walk(a, item)
		}
	case *ast.BuiltinNode:
		inner := item
		if len(n.Arguments) > 0 {
			if id, ok := n.Arguments[0].(*ast.IdentifierNode); ok {
				inner = id.Value
			}
		}
		for i, a := range n.Arguments {
			if i == 0 {
				l.walk(a, item)
				continue
			}
			l.walk(a, inner)
		}
	case *ast.PredicateNode:
		l.walk(n.Node, item)
	case *ast.ArrayNode:
		for _, it := range n.Nodes {
			l.walk(it, item)
		}
	case *ast.ConditionalNode:
		l.walk(n.Cond, item)
		l.walk(n.Exp1, item)
		l.walk(n.Exp2, item)
	}
}

func (l *condLinter) binary(n *ast.BinaryNode, item string) {
	switch n.Operator {
	case "==", "!=":
		field, text := fieldName(n.Left, item), n.Right
		if field == "" {
			field, text = fieldName(n.Right, item), n.Left
		}
		if s, ok := text.(*ast.StringNode); ok && field != "" {
			l.value(field, s)
			l.wildcard(n, field, s)
		}
	case "in", "not in":
		if field := fieldName(n.Left, item); field != "" {
			for _, s := range stringsOf(n.Right) {
				l.value(field, s)
			}
		}
		if id, ok := n.Right.(*ast.IdentifierNode); ok && l.lists[id.Value] {
			if s, ok := n.Left.(*ast.StringNode); ok {
				l.value(id.Value, s)
			}
		}
	}
}

// value warns when field is compared with a value it never takes: one of
// the other letter case, or one a typo away from a value it takes.
func (l *condLinter) value(field string, s *ast.StringNode) {
	if s.Value == "" {
		return
	}
	var known []string
	c := event.Upper
	if field == "event" {
		known = event.NamesOf("")
		for _, f := range l.scope {
			if evs := event.NamesOf(f); evs != nil {
				known = nil
				break
			}
		}
		for _, f := range l.scope {
			known = append(known, event.NamesOf(f)...)
		}
	} else {
		v, ok := event.ValuesOf(field)
		if !ok {
			return
		}
		known, c = v.Known, v.Case
	}
	if slices.Contains(known, s.Value) {
		return
	}
	near := nearest(s.Value, known)
	mean := ""
	if near != "" {
		mean = fmt.Sprintf("; did you mean %q?", near)
	}
	switch {
	case !event.HasCase(s.Value, c):
		how := "upper"
		if c == event.Lower {
			how = "lower"
		}
		why := "Meta writes it in " + how + " case"
		if field == "status" {
			why = "wabarouter writes it in lower case"
		}
		l.add(s, "%s is never %q: %s%s", field, s.Value, why, mean)
	case field == "event" && len(l.scope) > 0 && slices.Contains(event.NamesOf(""), s.Value):
		var of []string
		for _, f := range event.FieldsWithEvents() {
			if slices.Contains(event.NamesOf(f), s.Value) {
				of = append(of, f)
			}
		}
		l.add(s, "%q is not an event of %s but of %s; see \"Events of each field\" in docs/rules.md", s.Value, strings.Join(l.scope, " or "), strings.Join(of, " and "))
	case near != "" && field != "event" || near != "" && textDistance(s.Value, near) <= 2:
		l.add(s, "%s is never %q%s", field, s.Value, mean)
	}
}

func textDistance(a, b string) int {
	return textdist.Levenshtein(strings.ToLower(a), strings.ToLower(b))
}

// wildcard warns about == "promo_*": == compares the whole text.
func (l *condLinter) wildcard(n *ast.BinaryNode, field string, s *ast.StringNode) {
	if !strings.Contains(s.Value, "*") {
		return
	}
	v := s.Value
	var instead string
	switch {
	case strings.Count(v, "*") == 1 && strings.HasSuffix(v, "*"):
		instead = fmt.Sprintf("%s startsWith %q", field, strings.TrimSuffix(v, "*"))
	case strings.Count(v, "*") == 1 && strings.HasPrefix(v, "*"):
		instead = fmt.Sprintf("%s endsWith %q", field, strings.TrimPrefix(v, "*"))
	default:
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(v), `\*`, ".*") + "$"
		instead = fmt.Sprintf("%s matches %q", field, re)
	}
	if n.Operator == "!=" {
		instead = "not (" + instead + ")"
	}
	l.add(s, "`%s` compares the whole text: `*` is not a wildcard here; write `%s`", n.Operator, instead)
}

// safeForms say how to test a list that may be empty.
var safeForms = map[string]string{
	"types":        `"X" in types`,
	"restrictions": `any(restrictions, .type == "X")`,
	"errors":       `any(errors, .code == 131049)`,
	"warnings":     `"X" in warnings`,
}

// index warns about list[0] on a list that can be empty: it fails on
// every event without items, which is every event of another kind too.
func (l *condLinter) index(n *ast.MemberNode) {
	id, ok := n.Node.(*ast.IdentifierNode)
	if !ok || !l.lists[id.Value] || l.guarded[id.Value] {
		return
	}
	idx, ok := n.Property.(*ast.IntegerNode)
	if !ok {
		return
	}
	safe := safeForms[id.Value]
	if safe == "" {
		safe = fmt.Sprintf("any(%s, ...)", id.Value)
	}
	l.add(id, "%s[%d] fails on every event whose %s list is too short, so this rule errors instead of matching; write `%s`, or check `len(%s) > %d and` before it", id.Value, idx.Value, id.Value, safe, id.Value, idx.Value)
}

// call checks the durations given to within and older_than, which would
// otherwise fail on every event.
func (l *condLinter) call(n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || (id.Value != "within" && id.Value != "older_than") || len(n.Arguments) != 2 {
		return
	}
	s, ok := n.Arguments[1].(*ast.StringNode)
	if !ok {
		return
	}
	if _, err := time.ParseDuration(s.Value); err == nil {
		return
	}
	hint := "write it like \"90m\", \"6h\" or \"168h\" (units are s, m and h)"
	if fix := durationFix(s.Value); fix != "" {
		hint = fmt.Sprintf("write %q (units are s, m and h)", fix)
	}
	l.add(s, "%q is not a duration, so %s fails on every event; %s", s.Value, id.Value, hint)
}

var (
	longDuration = regexp.MustCompile(`^(\d+)\s*(d|days?|w|weeks?|h|hours?|hrs?|m|mins?|minutes?|s|secs?|seconds?)$`)
	unitHours    = map[byte]int{'d': 24, 'w': 168}
)

// durationFix is the Go spelling of a duration written in days, weeks or
// words ("7d" is "168h", "6 hours" is "6h"), or "".
func durationFix(s string) string {
	m := longDuration.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return ""
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return ""
	}
	unit := m[2][0]
	if h, ok := unitHours[unit]; ok {
		return fmt.Sprintf("%dh", n*h)
	}
	return fmt.Sprintf("%d%c", n, unit)
}

// mixedAndOr warns when and and or are mixed at one level without
// parentheses: `a and b or c` is (a and b) or c, which is rarely meant.
func (l *condLinter) mixedAndOr() {
	toks := tokens(l.src)
	type level struct {
		start             int // byte offset where the level's text starts
		firstAnd, firstOr int
		reported          bool
	}
	stack := []level{{start: 0, firstAnd: -1, firstOr: -1}}
	check := func(lv level, end int) {
		if lv.reported || lv.firstAnd < 0 || lv.firstOr < 0 {
			return
		}
		seg := l.src[lv.start:end]
		and := runeToByte(l.src, lv.firstAnd) - lv.start
		left := strings.TrimSpace(seg[:and])
		op, right, _ := strings.Cut(strings.TrimSpace(seg[and:]), " ")
		right = strings.TrimSpace(right)
		at, instead := lv.firstOr, fmt.Sprintf("%s %s (%s)", left, op, right)
		if lv.firstOr < lv.firstAnd {
			at, instead = lv.firstAnd, fmt.Sprintf("(%s) %s %s", left, op, right)
		}
		l.found = append(l.found, exprProblem{off: runeToByte(l.src, at),
			msg: fmt.Sprintf("`and` and `or` are mixed without parentheses, and `and` goes first (a and b or c means (a and b) or c); add parentheses to say what you mean, such as `%s`", instead)})
	}
	for _, t := range toks {
		top := &stack[len(stack)-1]
		switch {
		case t.Kind == "Bracket" && (t.Value == "(" || t.Value == "["):
			stack = append(stack, level{start: runeToByte(l.src, t.To), firstAnd: -1, firstOr: -1})
		case t.Kind == "Bracket" && (t.Value == ")" || t.Value == "]") && len(stack) > 1:
			check(*top, runeToByte(l.src, t.From))
			stack = stack[:len(stack)-1]
		case t.Kind == "Operator" && (t.Value == "and" || t.Value == "&&") && top.firstAnd < 0:
			top.firstAnd = t.From
		case t.Kind == "Operator" && (t.Value == "or" || t.Value == "||") && top.firstOr < 0:
			top.firstOr = t.From
		}
	}
	check(stack[0], len(l.src))
}
