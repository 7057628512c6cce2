package rules

import (
	"slices"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// WabaIDs are the WABA ids r's condition compares waba_id with, as in
// `waba_id == "102290129340398"` or `waba_id in ["1", "2"]`, sorted: what
// check holds against the accounts directory, since an id the directory
// lacks is most often a typo.
func (r *Rule) WabaIDs() []string {
	tree, err := parser.Parse(r.When)
	if err != nil {
		return nil
	}
	var ids []string
	ast.Find(tree.Node, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			return false
		}
		switch b.Operator {
		case "==", "!=":
			if isWabaID(b.Left) {
				ids = appendString(ids, b.Right)
			} else if isWabaID(b.Right) {
				ids = appendString(ids, b.Left)
			}
		case "in", "not in":
			if a, ok := b.Right.(*ast.ArrayNode); ok && isWabaID(b.Left) {
				for _, el := range a.Nodes {
					ids = appendString(ids, el)
				}
			}
		}
		return false
	})
	slices.Sort(ids)
	return slices.Compact(ids)
}

func isWabaID(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == "waba_id"
}

func appendString(ids []string, n ast.Node) []string {
	if s, ok := n.(*ast.StringNode); ok {
		return append(ids, s.Value)
	}
	return ids
}
