package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/wabarouter/wabarouter"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

func runCheck(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("check", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	strict := fs.Bool("strict", false, "judge as serve does (the server section and every ${VAR} are required), and fail on warnings too")
	format := fs.String("format", "text", "text, or json: one diagnostic per line (file, line, column, severity, rule, message, hint)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "check", "check takes no arguments")
	}
	if *format != "text" && *format != "json" {
		return usageFailure(stdio, "check", fmt.Sprintf("--format %q: want text or json", *format))
	}
	purpose := config.ForRules
	if *strict {
		purpose = config.ForServe
	}
	j := judge(*configPath, purpose)
	name := *configPath
	if name == "" {
		name = embeddedPrefix + wabarouter.DefaultConfig
	}
	warnings := len(j.diagnostics) - len(j.problems)
	failed := len(j.problems) > 0 || (*strict && warnings > 0)
	if *format == "json" {
		enc := json.NewEncoder(stdio.Out)
		for _, d := range j.diagnostics {
			if err := enc.Encode(d); err != nil {
				fmt.Fprintf(stdio.Err, "check: writing a diagnostic: %v\n", err)
				return ExitFailure
			}
		}
		if failed {
			return ExitFailure
		}
		return ExitOK
	}
	// Warnings and errors in one list by place, as a reader fixes them
	// from the top of the file down.
	for _, d := range j.diagnostics {
		fmt.Fprintln(stdio.Err, d.text)
	}
	if failed {
		summary := count(len(j.problems), "error")
		if warnings > 0 {
			summary += " and " + count(warnings, "warning")
		}
		if len(j.problems) == 0 {
			summary = count(warnings, "warning") + ", which --strict refuses"
		}
		fmt.Fprintf(stdio.Err, "%s: %s; nothing was changed\n", name, summary)
		return ExitFailure
	}
	cfg, set := j.cfg, j.set
	where := "in " + count(len(cfg.RuleFiles), "file")
	if n := len(cfg.InlineRules); n > 0 {
		where = fmt.Sprintf("(%d inline, %d from %s)", n, len(set.Rules)-n, count(len(cfg.RuleFiles), "file"))
	}
	unchecked := ""
	if warnings > 0 {
		unchecked = fmt.Sprintf("; %s (check --strict judges as serve does)", count(warnings, "warning"))
	}
	fmt.Fprintf(stdio.Out, "%s: OK: %s %s, %s%s\n", name, count(len(set.Rules), "rule"), where, count(len(cfg.Sinks), "sink"), unchecked)
	return ExitOK
}

// diagnostic is one line of check: an error or a warning at its place,
// what is wrong and what to do, as check --format json writes it.
type diagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	// text is the line check prints for it.
	text string
}

func fromRules(d *rules.Diagnostic) diagnostic {
	return diagnostic{File: d.File, Line: d.Line, Column: d.Column, Severity: string(d.Level), Rule: d.Rule,
		Message: d.Message, Hint: d.Hint, text: d.Error()}
}

// ruleNamed finds the `rule "NAME": ` a config or sink message may start
// with, as the rules' do.
var (
	place     = regexp.MustCompile(`^(.*?):(\d+)(?::(\d+))?: `)
	ruleNamed = regexp.MustCompile(`^rule "((?:[^"\\]|\\.)*)": `)
)

// fromError places a config, sink or rules error: its fields when it has
// them, else the FILE:LINE:COL: it starts with.
func fromError(err error) diagnostic {
	d := diagnostic{Severity: string(rules.LevelError), text: err.Error()}
	var rd *rules.Diagnostic
	var ce *config.Error
	msg := err.Error()
	switch {
	case errors.As(err, &rd):
		return fromRules(rd)
	case errors.As(err, &ce):
		d.File, d.Line, d.Column, msg = ce.File, ce.Line, ce.Column, ce.Msg
	default:
		if m := place.FindStringSubmatch(msg); m != nil {
			d.File = m[1]
			d.Line, _ = strconv.Atoi(m[2])
			d.Column, _ = strconv.Atoi(m[3])
			msg = msg[len(m[0]):]
		}
	}
	if m := ruleNamed.FindStringSubmatch(msg); m != nil {
		d.Rule, _ = strconv.Unquote(`"` + m[1] + `"`)
		msg = msg[len(m[0]):]
	}
	d.Message, d.Hint = rules.SplitHint(msg)
	return d
}

// count writes "1 file", "2 files", "0 files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sortDiagnostics orders diagnostics by file, line and column; one about
// a whole file (no line) keeps its order before all others.
func sortDiagnostics(diags []diagnostic) {
	file := func(d diagnostic) string {
		if d.Line == 0 {
			return ""
		}
		return d.File
	}
	slices.SortStableFunc(diags, func(a, b diagnostic) int {
		if fa, fb := file(a), file(b); fa != fb {
			if fa < fb {
				return -1
			}
			return 1
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
