package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// loadRouting loads the config and every rules file it names, the same way
// serve does, and returns every problem found in either at once.
func loadRouting(path string) (*config.Config, *rules.Set, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	set, err := rules.Load(cfg.RuleFiles, &rules.Inline{File: cfg.Path, Source: cfg.Source, Rules: cfg.InlineRules}, cfg.SinkNames())
	if err != nil {
		return cfg, nil, err
	}
	set.SeverityOverrides = cfg.Severity
	return cfg, set, nil
}

// printErrors writes each problem of err on a line of its own.
func printErrors(w io.Writer, err error) {
	for _, line := range errorLines(err) {
		fmt.Fprintln(w, line)
	}
}

// errorLines splits a joined error into one message per problem.
func errorLines(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var lines []string
		for _, e := range joined.Unwrap() {
			lines = append(lines, errorLines(e)...)
		}
		return lines
	}
	return []string{err.Error()}
}
