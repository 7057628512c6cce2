package rules

import (
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

// A rule's title, body and dedup key are checked when the rules load, so
// that a template that cannot work is a load error with its place in the
// file rather than a rule error on every event. Two checks run:
//
//   - a walk over the template that knows the event's shape: a name that
//     is not an event field (or not a field of other_info, of each
//     restriction, of each error) and a {{template}} that is not defined;
//   - filling the template in with two sample events, one with every
//     field empty and one with every field set, keeping only the errors
//     that do not depend on what Meta sends (a wrong type for a helper, a
//     field of text). A key missing under value, a list that is empty, or
//     index out of range depend on the event and are not load errors.

// tmplProblem is one problem at a byte offset of the template's text.
type tmplProblem struct {
	offset int
	msg    string
}

// defaultShortcuts are the named templates of the default texts, with
// what a rule author writes instead.
var defaultShortcuts = map[string]string{
	"waba": "WABA {{.waba_id}}",
	"tmpl": `Template "{{.template_name}}" on WABA {{.waba_id}}`,
	"when": "Reported by Meta at {{utc .time}}.",
}

// checkTemplate returns the problems of t, parsed from src: the walk's
// first; when it finds some the template is not filled in, so that each
// mistake is reported once.
func checkTemplate(t *template.Template, src string) []tmplProblem {
	c := &tmplChecker{tmpl: t}
	top := shape{t: eventType}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		dot := shape{} // what a {{define}}d template is given is not known
		if tt.Name() == t.Name() {
			dot = top
		}
		c.list(tt.Root, dot, map[string]shape{"$": dot})
	}
	if len(c.problems) > 0 {
		return c.problems
	}
	if p, ok := fillSamples(t, src); ok {
		return []tmplProblem{p}
	}
	return nil
}

var eventType = reflect.TypeFor[event.Event]()

// shape is what a template value is known to be: an event, a group of it
// (other_info, one restriction, one error), a list of groups, a time...
// The zero shape is unknown (value's contents, a function's result) and
// is not checked.
type shape struct {
	t     reflect.Type
	label string // for messages: "other_info", "errors[]"
}

// templateNames are the keys templateData gives a struct of type t.
func templateNames(t reflect.Type) (json []string, all map[string]reflect.Type) {
	all = map[string]reflect.Type{}
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		json = append(json, f.name)
		all[f.name] = ft
		if t != eventType {
			all[f.goName] = ft
		}
	}
	return json, all
}

type tmplChecker struct {
	tmpl     *template.Template
	problems []tmplProblem
}

func (c *tmplChecker) add(offset int, format string, args ...any) {
	c.problems = append(c.problems, tmplProblem{offset: offset, msg: fmt.Sprintf(format, args...)})
}

func copyVars(vars map[string]shape) map[string]shape {
	out := make(map[string]shape, len(vars))
	for k, v := range vars {
		out[k] = v
	}
	return out
}

func (c *tmplChecker) list(l *parse.ListNode, dot shape, vars map[string]shape) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(n, dot, vars)
	}
}

func (c *tmplChecker) node(n parse.Node, dot shape, vars map[string]shape) {
	switch n := n.(type) {
	case *parse.ActionNode:
		s := c.pipe(n.Pipe, dot, vars)
		c.declare(n.Pipe, s, vars)
	case *parse.IfNode:
		inner := copyVars(vars)
		c.pipe(n.Pipe, dot, inner)
		c.list(n.List, dot, inner)
		c.list(n.ElseList, dot, copyVars(vars))
	case *parse.WithNode:
		inner := copyVars(vars)
		s := c.pipe(n.Pipe, dot, inner)
		c.declare(n.Pipe, s, inner)
		c.list(n.List, s, inner)
		c.list(n.ElseList, dot, copyVars(vars))
	case *parse.RangeNode:
		inner := copyVars(vars)
		s := c.pipe(n.Pipe, dot, inner)
		elem := elemOf(s)
		switch len(n.Pipe.Decl) {
		case 1:
			inner[n.Pipe.Decl[0].Ident[0]] = elem
		case 2:
			inner[n.Pipe.Decl[0].Ident[0]] = shape{}
			inner[n.Pipe.Decl[1].Ident[0]] = elem
		}
		c.list(n.List, elem, inner)
		c.list(n.ElseList, dot, copyVars(vars))
	case *parse.TemplateNode:
		if c.tmpl.Lookup(n.Name) == nil {
			if instead, ok := defaultShortcuts[n.Name]; ok {
				c.add(int(n.Pos), "{{template %q}} is a shortcut of the default texts, not available in a rule's own template; write %s instead", n.Name, instead)
			} else {
				c.add(int(n.Pos), "no template named %q is defined", n.Name)
			}
		}
		if n.Pipe != nil {
			c.pipe(n.Pipe, dot, vars)
		}
	}
}

// declare binds the variables of {{$x := pipeline}} to its shape.
func (c *tmplChecker) declare(p *parse.PipeNode, s shape, vars map[string]shape) {
	if p == nil {
		return
	}
	for _, d := range p.Decl {
		vars[d.Ident[0]] = s
	}
}

func elemOf(s shape) shape {
	if s.t != nil && s.t.Kind() == reflect.Slice && s.t.Elem().Kind() == reflect.Struct && s.t.Elem() != timeType {
		return shape{t: s.t.Elem(), label: s.label + "[]"}
	}
	return shape{}
}

// pipe checks every argument of p and returns the shape of its result
// when that is plain: one field or variable, or index of a list.
func (c *tmplChecker) pipe(p *parse.PipeNode, dot shape, vars map[string]shape) shape {
	if p == nil {
		return shape{}
	}
	var result shape
	for i, cmd := range p.Cmds {
		shapes := make([]shape, len(cmd.Args))
		for j, a := range cmd.Args {
			shapes[j] = c.arg(a, dot, vars)
		}
		result = shape{}
		if i > 0 {
			continue
		}
		switch {
		case len(cmd.Args) == 1:
			result = shapes[0]
		case len(cmd.Args) == 3 && isIdent(cmd.Args[0], "index"):
			result = elemOf(shapes[1])
		}
	}
	if len(p.Cmds) > 1 {
		return shape{}
	}
	return result
}

func isIdent(n parse.Node, name string) bool {
	id, ok := n.(*parse.IdentifierNode)
	return ok && id.Ident == name
}

func (c *tmplChecker) arg(n parse.Node, dot shape, vars map[string]shape) shape {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		// The node sits at its second field when there are several.
		start := int(n.Pos)
		if len(n.Ident) > 1 {
			start -= 1 + len(n.Ident[0])
		}
		return c.fields(dot, n.Ident, start)
	case *parse.VariableNode:
		base, ok := vars[n.Ident[0]]
		if !ok || len(n.Ident) == 1 {
			return base
		}
		return c.fields(base, n.Ident[1:], int(n.Pos))
	case *parse.ChainNode:
		return c.fields(c.arg(n.Node, dot, vars), n.Field, int(n.Pos))
	case *parse.PipeNode:
		return c.pipe(n, dot, vars)
	}
	return shape{}
}

// fields follows .a.b.c from base; offset is where ".a" starts.
func (c *tmplChecker) fields(base shape, idents []string, offset int) shape {
	s := base
	for _, id := range idents {
		if s.t == nil || s.t.Kind() != reflect.Struct || s.t == timeType {
			return shape{} // a map, a time's methods, or a mistake filling in reports
		}
		json, all := templateNames(s.t)
		ft, ok := all[id]
		if !ok {
			in := ""
			if s.label != "" {
				in = " in " + s.label
			}
			c.add(offset, "unknown name %q%s%s", id, in, suggest(id, json))
			return shape{}
		}
		label := id
		if s.label != "" {
			label = s.label + "." + id
		}
		s = shape{t: ft, label: label}
		offset += 1 + len(id)
	}
	return s
}

// samples are the events a template is filled in with when it loads.
var samples = sync.OnceValue(func() []map[string]any {
	empty := event.Event{Value: map[string]any{}}
	full := event.Event{}
	fill(reflect.ValueOf(&full).Elem())
	full.Value = map[string]any{}
	return []map[string]any{templateData(empty), templateData(full)}
})

// fill sets every field of a sample event: text, a number, a time, one
// item in each list.
func fill(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	case v.Kind() == reflect.String:
		v.SetString("SAMPLE")
	case v.Kind() == reflect.Int:
		v.SetInt(1)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	}
}

var execError = regexp.MustCompile(`(?s)^template: [^:]*:(\d+):(\d+): executing "[^"]*" at <(.*?)>: (.*)$`)

// eventIndependent are the errors of filling in that no event can avoid:
// they come from the template and the event's types, not from its values.
var eventIndependent = []string{
	"can't evaluate field", "wrong number of args", "is not a method but has arguments",
	"cannot be invoked as function", "is an unexported field", "incompatible types for comparison",
	"can't call method/function", "range can't iterate over", "not defined",
}

// fillSamples fills t in with each sample and returns the first error that
// does not depend on the event's values.
func fillSamples(t *template.Template, src string) (tmplProblem, bool) {
	for _, data := range samples() {
		err := t.Execute(io.Discard, data)
		if err == nil {
			continue
		}
		m := execError.FindStringSubmatch(err.Error())
		if m == nil {
			continue
		}
		msg := m[4]
		independent := strings.HasPrefix(msg, "wrong type for value") && !strings.HasSuffix(msg, "got interface {}")
		for _, s := range eventIndependent {
			independent = independent || strings.Contains(msg, s)
		}
		if !independent {
			continue
		}
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return tmplProblem{offset: offsetOf(src, line, col), msg: fmt.Sprintf("cannot be filled in: <%s>: %s", m[3], msg)}, true
	}
	return tmplProblem{}, false
}

// offsetOf turns text/template's line (from 1) and column (from 0) into
// an offset into text.
func offsetOf(text string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	return min(off+col, len(text))
}

var templateParseError = regexp.MustCompile(`^template: [^:]*:(\d+): (.*)$`)

// templateSyntax explains a template that does not parse, at the byte
// offset of src where the mistake is as near as the error lets us say.
func templateSyntax(src string, err error) tmplProblem {
	m := templateParseError.FindStringSubmatch(err.Error())
	if m == nil {
		return tmplProblem{0, "the template does not parse: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	lineStart := offsetOf(src, line, 0)
	msg := m[2]
	lastOpen := func() int {
		if i := strings.LastIndex(src, "{{"); i >= 0 && !strings.Contains(src[i:], "}}") {
			return i
		}
		return lineStart
	}
	if i := strings.LastIndex(src, "{{"); i >= 0 && !strings.Contains(src[i:], "}}") {
		return tmplProblem{i, "this `{{` is never closed; end it with `}}`"}
	}
	switch {
	case msg == "unclosed action" || msg == "unexpected EOF" || strings.HasPrefix(msg, "unclosed action started at"):
		return tmplProblem{lastOpen(), "this `{{` is never closed; end it with `}}`"}
	case strings.HasPrefix(msg, "function ") && strings.HasSuffix(msg, " not defined"):
		name := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(msg, "function "), " not defined"), `"`)
		at := lineStart
		if i := strings.Index(src, name); i >= 0 {
			at = i
		}
		return tmplProblem{at, fmt.Sprintf("there is no function %q; the functions are utc, phone, human, join, restrictions and sentence, and Go's own (eq, ne, len, index, printf, ...)%s", name, suggest(name, templateFuncNames()))}
	case strings.HasPrefix(msg, "unexpected {{end}}"):
		if i := strings.Index(src, "{{end"); i >= 0 {
			return tmplProblem{i, "this `{{end}}` closes nothing; remove it, or open an `{{if}}`, `{{with}}` or `{{range}}` before it"}
		}
	case strings.HasPrefix(msg, "unexpected EOF") || strings.Contains(msg, "missing end") || strings.HasSuffix(msg, "EOF"):
		return tmplProblem{lastOpen(), "an `{{if}}`, `{{with}}` or `{{range}}` is never closed; end it with `{{end}}`"}
	}
	return tmplProblem{lineStart, "the template does not parse: " + msg}
}

// templateFuncNames are the functions a template may call.
func templateFuncNames() []string {
	names := []string{"and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call"}
	for name := range funcs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
