package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	exprbuiltin "github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/parser/lexer"

	"github.com/wabarouter/wabarouter/internal/event"
)

// expr's compile errors are written for programmers ("unexpected token
// Operator(\"=\")", "mismatched types string and func(interface {})
// string"). explainCondition turns the ones rule authors meet into what
// they did and what to write, at the place they did it.

// exprProblem is a condition's mistake at a byte offset of its text; msg
// is "what is wrong; what to write".
type exprProblem struct {
	off int
	msg string
}

// colHere in a message stands for the file's column of the problem,
// which only the caller knows.
const colHere = "{column}"

// explainCondition explains why src does not compile; fe is expr's error.
func explainCondition(src string, fe *file.Error) exprProblem {
	if p, ok := quoteProblem(src); ok {
		return p
	}
	off := exprOffset(src, fe.Line, fe.Column)
	msg := fe.Message
	switch {
	case strings.HasPrefix(msg, "unexpected token"):
		return tokenProblem(src, off, msg)
	case strings.HasPrefix(msg, "unknown name "):
		return unknownNameProblem(src, off, msg)
	case strings.HasPrefix(msg, "invalid operation:"), strings.HasPrefix(msg, "expected bool"):
		if p, ok := typeProblem(src, runeToByte(src, fe.From), msg); ok {
			return p
		}
	case strings.HasPrefix(msg, "unrecognized character"):
		r, _ := utf8.DecodeRuneInString(src[min(off, len(src)):])
		return exprProblem{off, fmt.Sprintf("the character %q has no meaning in a condition; remove it", r)}
	}
	return exprProblem{off, msg}
}

// curly are the quotes word processors put in; expr knows only " and '.
const curly = "“”„‟‘’‚‛«»"

// quoteProblem finds curly quotes and quotes that are never closed, which
// expr reports far from where they are, if at all.
func quoteProblem(src string) (exprProblem, bool) {
	if i := strings.IndexAny(src, curly); i >= 0 {
		fixed := strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "‟", `"`, "‘", `"`, "’", `"`, "‚", `"`, "‛", `"`, "«", `"`, "»", `"`).Replace(src)
		return exprProblem{i, fmt.Sprintf("these are curly quotes, which conditions do not read; replace curly quotes with straight ones: %s", strings.TrimSpace(fixed))}, true
	}
	lits, open := stringLiterals(src)
	// A text holding an operator and a field name was most likely ended
	// by the quote meant to open the next one: its own quote is the one
	// never closed.
	if open >= 0 {
		for _, l := range lits {
			if looksLikeCode(src[l.from+1 : l.to]) {
				return unclosed(src, l.from), true
			}
		}
		return unclosed(src, open), true
	}
	return exprProblem{}, false
}

var codeInText = regexp.MustCompile(`\s(==|!=|and|or|in|&&|\|\|)\s+\w`)

func looksLikeCode(text string) bool { return codeInText.MatchString(" " + text) }

func unclosed(src string, at int) exprProblem {
	q := src[at]
	word := src[at+1:]
	if i := strings.IndexAny(word, " )],"); i >= 0 {
		word = word[:i]
	}
	return exprProblem{at, fmt.Sprintf("the quote opened at column %s is never closed; end the text with a quote: %c%s%c", colHere, q, word, q)}
}

// literalsIn are the quoted texts of s, with their quotes.
func literalsIn(s string) []string {
	lits, _ := stringLiterals(s)
	out := make([]string, 0, len(lits))
	for _, l := range lits {
		out = append(out, s[l.from:l.to+1])
	}
	return out
}

// literal is a quoted text of a condition: src[from] and src[to] are its
// quotes.
type literal struct{ from, to int }

// stringLiterals lists the closed texts of src and where the text that is
// never closed opens (-1 when every one is closed).
func stringLiterals(src string) ([]literal, int) {
	var lits []literal
	for i := 0; i < len(src); i++ {
		q := src[i]
		if q != '"' && q != '\'' && q != '`' {
			continue
		}
		j := i + 1
		for ; j < len(src) && src[j] != q; j++ {
			if src[j] == '\\' && q != '`' {
				j++
			}
		}
		if j >= len(src) {
			return lits, i
		}
		lits = append(lits, literal{i, j})
		i = j
	}
	return lits, -1
}

var unexpectedToken = regexp.MustCompile(`^unexpected token (\w+)(?:\("(.*)"\))?`)

// operatorWords are expr's word operators, as they must be spelt.
var operatorWords = []string{"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}

func tokenProblem(src string, off int, msg string) exprProblem {
	m := unexpectedToken.FindStringSubmatch(msg)
	if m == nil {
		return exprProblem{off, msg}
	}
	kind, value := m[1], m[2]
	before := strings.TrimRight(src[:min(off, len(src))], " \t\n")
	switch kind {
	case "EOF":
		return eofProblem(src)
	case "Operator":
		switch {
		case value == "=" && strings.HasSuffix(before, "=="):
			return exprProblem{off, "`===` is not an operator; use `==` to compare"}
		case value == "=":
			return exprProblem{off, "a single `=` does not compare; use `==` to compare"}
		case value == ">" && strings.HasSuffix(before, "<"):
			return exprProblem{off - 1, "`<>` is not an operator; use `!=` for \"is not\""}
		case value == "," && inParens(src, off):
			open := strings.LastIndexByte(src[:off], '(')
			end := strings.IndexByte(src[off:], ')')
			list := `"A", "B"`
			if end >= 0 {
				list = strings.TrimSpace(src[open+1 : off+end])
			}
			return exprProblem{off, fmt.Sprintf("a list is written in square brackets; write `in [%s]`", list)}
		case value == ",":
			return exprProblem{off, "a `,` only separates the items of a list `[...]` or a function's arguments; join conditions with `and` or `or`"}
		case slices.Contains(operatorWords, value) && strings.TrimSpace(before) == "":
			return exprProblem{off, fmt.Sprintf("`%s` goes between the two things it compares; write `alert_description %s \"text\"`; for a list field write `\"X\" in types`", value, value)}
		}
		return exprProblem{off, fmt.Sprintf("`%s` cannot come here; is something missing before it?", value)}
	case "Identifier":
		for _, w := range operatorWords {
			if strings.EqualFold(value, w) && value != w {
				if w == "and" || w == "or" || w == "not" {
					return exprProblem{off, fmt.Sprintf("`%s` is not an operator; write `and`/`or` in lower case: `%s`", value, w)}
				}
				return exprProblem{off, fmt.Sprintf("`%s` is not an operator; it is written `%s`", value, w)}
			}
		}
		switch strings.ToLower(value) {
		case "is", "equals", "eq":
			return exprProblem{off, fmt.Sprintf("`%s` is not an operator; use `==` to compare", value)}
		case "isnt", "ne":
			return exprProblem{off, fmt.Sprintf("`%s` is not an operator; use `!=` for \"is not\"", value)}
		}
		return exprProblem{off, fmt.Sprintf("`%s` cannot follow here; is an operator such as `==`, `and` or `or` missing before it?", value)}
	case "String", "Number":
		what := "text"
		if kind == "Number" {
			what = "a number"
		}
		if inBrackets(src, off) {
			open := strings.LastIndexByte(src[:off], '[')
			end := strings.IndexByte(src[off:], ']')
			fixed := `["A", "B"]`
			if end >= 0 {
				fixed = "[" + strings.Join(literalsIn(src[open+1:off+end]), ", ") + "]"
			}
			return exprProblem{off, fmt.Sprintf("the items of a list are separated by commas; write `%s`", fixed)}
		}
		return exprProblem{off, fmt.Sprintf("%s cannot follow here; is `==` or `and` missing before it?", what)}
	}
	return exprProblem{off, msg}
}

// eofProblem explains a condition that ends too soon: a bracket left open
// or an operator with nothing after it.
func eofProblem(src string) exprProblem {
	var stack []int
	lits, _ := stringLiterals(src)
	inLit := func(i int) bool {
		for _, l := range lits {
			if i > l.from && i < l.to {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(src); i++ {
		if inLit(i) {
			continue
		}
		switch src[i] {
		case '(', '[':
			stack = append(stack, i)
		case ')', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) > 0 {
		at := stack[len(stack)-1]
		closer := ")"
		if src[at] == '[' {
			closer = "]"
		}
		return exprProblem{at, fmt.Sprintf("the `%c` opened at column %s is never closed; add a `%s`", src[at], colHere, closer)}
	}
	trimmed := strings.TrimRight(src, " \t\n")
	for _, op := range []string{"and", "or", "not", "&&", "||", "==", "!=", "in", ">=", "<=", ">", "<", "!"} {
		if strings.HasSuffix(trimmed, op) {
			at := len(trimmed) - len(op)
			return exprProblem{at, fmt.Sprintf("the condition ends after `%s`; something is missing after it", op)}
		}
	}
	return exprProblem{len(trimmed), "the condition ends too soon; something is missing at its end"}
}

func depthAt(src string, off int, open, close byte) int {
	depth := 0
	lits, _ := stringLiterals(src)
	for i := 0; i < off && i < len(src); i++ {
		skip := false
		for _, l := range lits {
			if i >= l.from && i <= l.to {
				skip = true
			}
		}
		if skip {
			continue
		}
		switch src[i] {
		case open:
			depth++
		case close:
			depth--
		}
	}
	return depth
}

func inParens(src string, off int) bool   { return depthAt(src, off, '(', ')') > 0 }
func inBrackets(src string, off int) bool { return depthAt(src, off, '[', ']') > 0 }

var unknownName = regexp.MustCompile(`^unknown name (\S+)`)

// unknownNameProblem explains a word that is not a field: a value left
// unquoted, null, or a field misspelt.
func unknownNameProblem(src string, off int, msg string) exprProblem {
	m := unknownName.FindStringSubmatch(msg)
	if m == nil {
		return exprProblem{off, msg}
	}
	name := m[1]
	switch {
	case name == "null" || name == "NULL" || name == "None" || name == "undefined":
		return exprProblem{off, fmt.Sprintf("unknown name %q; a field Meta did not send is empty: compare with \"\" (text), 0 (a number) or write `nil` for a missing value.key", name)}
	case isKnownValue(name):
		return exprProblem{off, fmt.Sprintf("%q is a value, not an event field; put the word in quotes: \"%s\"", name, name)}
	}
	if s := suggest(name, eventNames()); s != "" {
		return exprProblem{off, fmt.Sprintf("unknown name %q%s", name, s)}
	}
	before := strings.TrimRight(src[:min(off, len(src))], " ")
	for _, op := range []string{"==", "!=", "in", ",", "["} {
		if strings.HasSuffix(before, op) {
			return exprProblem{off, fmt.Sprintf("%q is not an event field; put the word in quotes: \"%s\"", name, name)}
		}
	}
	if name == strings.ToUpper(name) && strings.ContainsAny(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return exprProblem{off, fmt.Sprintf("%q is not an event field; put the word in quotes: \"%s\"", name, name)}
	}
	return exprProblem{off, fmt.Sprintf("unknown name %q; the fields are listed under Event fields in docs/rules.md", name)}
}

// isKnownValue reports whether name is a value some field takes, or a
// webhook field's name, which rule authors leave unquoted.
func isKnownValue(name string) bool {
	if slices.Contains(event.NamesOf(""), name) {
		return true
	}
	for _, v := range event.FieldValues() {
		if slices.Contains(v.Known, name) {
			return true
		}
	}
	return false
}

var (
	mismatched   = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types? (.+?)(?: and (.+))?\)$`)
	expectedBool = regexp.MustCompile(`^expected bool, but got (\S+)`)
)

// typeProblem explains comparing a field with the wrong kind of value,
// from the node the error is about (at byte offset at).
func typeProblem(src string, at int, msg string) (exprProblem, bool) {
	tree, err := parser.Parse(src)
	if err != nil {
		return exprProblem{}, false
	}
	if m := expectedBool.FindStringSubmatch(msg); m != nil {
		node := tree.Node
		text := nodeText(src, node)
		return exprProblem{at, fmt.Sprintf("the condition gives %s, not true or false; compare it, for example `%s == \"...\"`", typeWords(m[1]), text)}, true
	}
	m := mismatched.FindStringSubmatch(msg)
	if m == nil {
		return exprProblem{}, false
	}
	var found ast.Node
	ast.Find(tree.Node, func(n ast.Node) bool {
		if runeToByte(src, n.Location().From) != at {
			return false
		}
		switch n := n.(type) {
		case *ast.BinaryNode:
			if n.Operator == m[1] {
				found = n
				return true
			}
		case *ast.UnaryNode:
			if n.Operator == m[1] {
				found = n
				return true
			}
		}
		return false
	})
	switch n := found.(type) {
	case *ast.UnaryNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok {
			instead := n.Operator + " (...)"
			ast.Find(tree.Node, func(x ast.Node) bool {
				if b, ok := x.(*ast.BinaryNode); ok && b.Left == ast.Node(n) {
					instead = fmt.Sprintf("%s (%s %s %s)", n.Operator, id.Value, b.Operator, nodeText(src, b.Right))
					return true
				}
				return false
			})
			return exprProblem{at, fmt.Sprintf("`%s` applies to `%s` alone here, which is %s, not true or false; put the comparison in parentheses: `%s`", n.Operator, id.Value, typeWords(m[2]), instead)}, true
		}
	case *ast.BinaryNode:
		return binaryProblem(src, at, n, m[2], m[3])
	}
	return exprProblem{}, false
}

func binaryProblem(src string, at int, n *ast.BinaryNode, left, right string) (exprProblem, bool) {
	for _, side := range []ast.Node{n.Left, n.Right} {
		if id, ok := side.(*ast.IdentifierNode); ok && slices.Contains(exprbuiltin.Names, id.Value) {
			return exprProblem{runeToByte(src, id.Location().From), fmt.Sprintf("`%s` is a built-in function, not an event field%s", id.Value, strings.ReplaceAll(suggest(id.Value, eventNames()), `"`, "`"))}, true
		}
	}
	lt, rt := n.Left, n.Right
	if n.Operator == "or" || n.Operator == "||" || n.Operator == "and" || n.Operator == "&&" {
		if cmp, ok := lt.(*ast.BinaryNode); ok && (cmp.Operator == "==" || cmp.Operator == "!=") {
			if val, ok := rt.(*ast.StringNode); ok {
				field := nodeText(src, cmp.Left)
				return exprProblem{runeToByte(src, rt.Location().From), fmt.Sprintf("`%s` joins two conditions, and %s is not one; write `%s %s %s %s %s`, or `%s in [%s, %s]`",
					n.Operator, nodeText(src, rt), nodeText(src, lt), n.Operator, field, cmp.Operator, nodeText(src, val), field, nodeText(src, cmp.Right), nodeText(src, val))}, true
			}
		}
	}
	switch {
	case n.Operator == "in" || n.Operator == "not in":
		if s, ok := rt.(*ast.StringNode); ok {
			var items []string
			for _, it := range strings.Split(s.Value, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, strconv.Quote(it))
				}
			}
			return exprProblem{at, fmt.Sprintf("`in` takes a list; write `%s [%s]`", n.Operator, strings.Join(items, ", "))}, true
		}
		if strings.HasPrefix(left, "[]") {
			return exprProblem{at, fmt.Sprintf("`%s` is a list; put the value first: `\"X\" in %s`", nodeText(src, lt), nodeText(src, lt))}, true
		}
	case strings.HasPrefix(left, "[]") && (right == "string" || right == "int"):
		op := "in"
		if n.Operator == "!=" {
			op = "not in"
		}
		return exprProblem{at, fmt.Sprintf("`%s` is a list; write `%s %s %s`", nodeText(src, lt), nodeText(src, rt), op, nodeText(src, lt))}, true
	case left == "string" && (right == "int" || right == "float64"):
		return exprProblem{at, fmt.Sprintf("`%s` is text; quote the number: `%s %s \"%s\"`", nodeText(src, lt), nodeText(src, lt), n.Operator, nodeText(src, rt))}, true
	case (left == "int" || left == "float64") && right == "string":
		if s, ok := rt.(*ast.StringNode); ok {
			if _, err := strconv.ParseFloat(s.Value, 64); err == nil {
				return exprProblem{at, fmt.Sprintf("`%s` is a number; drop the quotes: `%s %s %s`", nodeText(src, lt), nodeText(src, lt), n.Operator, s.Value)}, true
			}
		}
		return exprProblem{at, fmt.Sprintf("`%s` is a number and cannot be compared with text", nodeText(src, lt))}, true
	case left == "time.Time" || right == "time.Time":
		return exprProblem{at, "a time cannot be compared with text or a number; use within(t, \"72h\") or older_than(t, \"24h\")"}, true
	}
	return exprProblem{at, fmt.Sprintf("`%s` is %s and `%s` is %s: `%s` cannot compare them", nodeText(src, lt), typeWords(left), nodeText(src, rt), typeWords(right), n.Operator)}, true
}

// typeWords names an expr type for a rule author.
func typeWords(t string) string {
	switch {
	case t == "string":
		return "text"
	case t == "int", t == "float64":
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "time.Time":
		return "a time"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map"):
		return "a group of values"
	case strings.HasPrefix(t, "func"):
		return "a function"
	}
	return t
}

// nodeText is the source of n when it is a single token or a simple
// member access, else expr's own printing of it.
func nodeText(src string, n ast.Node) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.StringNode:
		return strconv.Quote(n.Value)
	}
	return n.String()
}

// runeToByte turns expr's offsets, counted in characters, into bytes.
func runeToByte(src string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(src); i++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

// listFields are the event fields that are lists, by expr name.
func listFields() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[event.Event]()
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == reflect.Slice {
			out[f.Tag.Get("expr")] = true
		}
	}
	return out
}

// tokens lexes src; nil when expr's lexer refuses it.
func tokens(src string) []lexer.Token {
	toks, err := lexer.Lex(file.NewSource(src))
	if err != nil {
		return nil
	}
	return toks
}
