package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"github.com/wabarouter/wabarouter/internal/app"
)

func runCheck(_ context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *configPath == "" {
		fmt.Fprintln(stdio.Err, "check: --config FILE is required")
		return ExitUsage
	}
	cfg, set, err := loadRouting(*configPath)
	var lines []string
	if err != nil {
		lines = errorLines(err)
	}
	// Build every sink exactly as serve does, so that a setting serve would
	// refuse (an email tls mode, a URL, a missing ca_file) fails check too.
	// Building has no side effects: nothing connects, and the log sink
	// opens its file only when it first writes.
	if cfg != nil {
		built, err := app.BuildSinks(cfg)
		if err != nil {
			lines = append(lines, errorLines(err)...)
		}
		for _, s := range built {
			if c, ok := s.(io.Closer); ok {
				_ = c.Close()
			}
		}
	}
	if len(lines) > 0 {
		sortByPlace(lines)
		for _, line := range lines {
			fmt.Fprintln(stdio.Err, line)
		}
		fmt.Fprintf(stdio.Err, "%s: %s; nothing was changed\n", *configPath, count(len(lines), "error"))
		return ExitFailure
	}
	where := "in " + count(len(cfg.RuleFiles), "file")
	if n := len(cfg.InlineRules); n > 0 {
		where = fmt.Sprintf("(%d inline, %d from %s)", n, len(set.Rules)-n, count(len(cfg.RuleFiles), "file"))
	}
	fmt.Fprintf(stdio.Out, "%s: OK: %s %s, %s\n", *configPath, count(len(set.Rules), "rule"), where, count(len(cfg.Sinks), "sink"))
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
