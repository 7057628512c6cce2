package cli

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/wabarouter/wabarouter"
	"github.com/wabarouter/wabarouter/internal/config"
)

func runCheck(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("check", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	strict := fs.Bool("strict", false, "judge as serve does: the server section and every ${VAR} are required")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "check", "check takes no arguments")
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
	// Warnings and errors in one list by place, as a reader fixes them
	// from the top of the file down.
	lines := append([]string(nil), j.problems...)
	for _, w := range j.warnings {
		lines = append(lines, w.String())
	}
	sortByPlace(lines)
	for _, line := range lines {
		fmt.Fprintln(stdio.Err, line)
	}
	if len(j.problems) > 0 {
		summary := count(len(j.problems), "error")
		if len(j.warnings) > 0 {
			summary += " and " + count(len(j.warnings), "warning")
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
	if len(j.warnings) > 0 {
		unchecked = fmt.Sprintf("; %s (check --strict judges as serve does)", count(len(j.warnings), "warning"))
	}
	fmt.Fprintf(stdio.Out, "%s: OK: %s %s, %s%s\n", name, count(len(set.Rules), "rule"), where, count(len(cfg.Sinks), "sink"), unchecked)
	return ExitOK
}

// count writes "1 file", "2 files", "0 files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

var place = regexp.MustCompile(`^(.*?):(\d+)(?::(\d+))?: `)

// sortByPlace orders FILE:LINE:COL: messages by file, line and column; a
// message without a line comes first in its file, and one without a place
// keeps its order before all others.
func sortByPlace(lines []string) {
	type key struct {
		file      string
		line, col int
	}
	keyOf := func(s string) key {
		m := place.FindStringSubmatch(s)
		if m == nil {
			return key{}
		}
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		return key{m[1], line, col}
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		ka, kb := keyOf(a), keyOf(b)
		if ka.file != kb.file {
			if ka.file < kb.file {
				return -1
			}
			return 1
		}
		if ka.line != kb.line {
			return ka.line - kb.line
		}
		return ka.col - kb.col
	})
}
