package rules

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Condition is a when condition outside any rule, such as a silence's:
// compiled and checked exactly as a rule's when is.
type Condition struct {
	Source  string
	program *vm.Program
}

// CompileCondition compiles src as a rule's when. name is what its
// diagnostics are located in ("--when"); their lines and columns count in
// src itself. Warnings come back with a compiled condition; an error means
// none.
func CompileCondition(name, src string) (*Condition, []Diagnostic) {
	if strings.TrimSpace(src) == "" {
		return nil, []Diagnostic{{File: name, Line: 1, Column: 1, Level: LevelError, Message: "the condition is empty",
			Hint: `write it as a rule's when, such as 'waba_id == "102290129340398" && field == "account_update"'`}}
	}
	s := newSet()
	p := newFileParser(s, name, []byte(src), nil)
	node := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: src, Line: 1, Column: 1}
	if strings.Contains(src, "\n") {
		node.Style = yaml.LiteralStyle
	}
	prog := p.compileCondition(&Rule{}, node, "when")
	if prog == nil {
		return nil, p.diags
	}
	return &Condition{Source: src, program: prog}, p.diags
}

// Matches reports whether ev satisfies c.
func (c *Condition) Matches(ev event.Event) (bool, error) {
	if c == nil || c.program == nil {
		return false, fmt.Errorf("condition was not compiled")
	}
	var machine vm.VM
	out, err := machine.Run(c.program, ev)
	if err != nil {
		return false, fmt.Errorf("evaluating %q: %w", c.Source, err)
	}
	b, _ := out.(bool)
	return b, nil
}
