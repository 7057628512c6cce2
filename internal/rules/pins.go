package rules

import (
	"slices"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// pins are the values of field and of event that a condition can match
// at all, read off its top-level conjunctions (`field == "x" && ...`,
// `event in ["A", "B"] and ...`); nil means any. An event whose field or
// event a rule does not pin is never run through the rule's program: with
// a thousand rules each pinned to its own event, evaluating an event costs
// a thousand string compares rather than a thousand programs.
type pins struct {
	fields, events []string
}

// pinsOf reads the pins of src; a condition it cannot read in full pins
// nothing, which is always safe.
func pinsOf(src string) pins {
	tree, err := parser.Parse(src)
	if err != nil {
		return pins{}
	}
	// A let could rebind field or event; such a condition pins nothing.
	shadowed := false
	ast.Find(tree.Node, func(n ast.Node) bool {
		if _, ok := n.(*ast.VariableDeclaratorNode); ok {
			shadowed = true
		}
		return false
	})
	if shadowed {
		return pins{}
	}
	var p pins
	for _, c := range conjuncts(tree.Node) {
		name, values, ok := pinned(c)
		if !ok {
			continue
		}
		switch name {
		case "field":
			p.fields = intersect(p.fields, values)
		case "event":
			p.events = intersect(p.events, values)
		}
	}
	return p
}

// conjuncts splits n at its top-level ands.
func conjuncts(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Node{n}
}

// pinned reads `field == "x"`, `"x" == field` and `field in ["x", "y"]`.
func pinned(n ast.Node) (name string, values []string, ok bool) {
	b, isBinary := n.(*ast.BinaryNode)
	if !isBinary {
		return "", nil, false
	}
	ident := func(n ast.Node) string {
		if id, ok := n.(*ast.IdentifierNode); ok && (id.Value == "field" || id.Value == "event") {
			return id.Value
		}
		return ""
	}
	switch b.Operator {
	case "==":
		if s, ok := b.Right.(*ast.StringNode); ok && ident(b.Left) != "" {
			return ident(b.Left), []string{s.Value}, true
		}
		if s, ok := b.Left.(*ast.StringNode); ok && ident(b.Right) != "" {
			return ident(b.Right), []string{s.Value}, true
		}
	case "in":
		a, isArray := b.Right.(*ast.ArrayNode)
		if !isArray || ident(b.Left) == "" {
			return "", nil, false
		}
		for _, el := range a.Nodes {
			s, isString := el.(*ast.StringNode)
			if !isString {
				return "", nil, false
			}
			values = append(values, s.Value)
		}
		return ident(b.Left), values, true
	}
	return "", nil, false
}

// intersect narrows the pinned values have (nil: any) by more.
func intersect(have, more []string) []string {
	if have == nil {
		return slices.Clone(more)
	}
	out := []string{}
	for _, v := range have {
		if slices.Contains(more, v) {
			out = append(out, v)
		}
	}
	return out
}

// admits reports whether an event of field and event can match.
func (p pins) admits(field, event string) bool {
	return (p.fields == nil || slices.Contains(p.fields, field)) && (p.events == nil || slices.Contains(p.events, event))
}
