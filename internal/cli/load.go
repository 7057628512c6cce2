package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/wabarouter/wabarouter"
	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// embeddedPrefix names the files built into the binary in messages, so
// that embedded:config.example.yaml:9:17 is not taken for a file on disk.
// Its folder is ".", so the store (data/wabarouter.db) and any other
// relative path of the built-in config land under the working directory.
const embeddedPrefix = "embedded:"

// embeddedNote is what a command without --config says it runs on.
const embeddedNote = "no --config: using the built-in copy of " + wabarouter.DefaultConfig

// readConfig reads the config at path, or the built-in example when path
// is empty.
func readConfig(path string, opts config.Options) (*config.Config, []config.Warning, error) {
	if path != "" {
		return config.LoadFor(path, opts)
	}
	data, err := fs.ReadFile(wabarouter.Defaults, wabarouter.DefaultConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the built-in config: %w", err)
	}
	opts.FS = wabarouter.Defaults
	return config.ParseFor(embeddedPrefix+wabarouter.DefaultConfig, data, opts)
}

// loadRouting loads the config and every rules file it names, the same way
// serve does, and returns every problem found in either at once, with
// what purpose let go unchecked.
func loadRouting(path string, purpose config.Purpose) (*config.Config, *rules.Set, []config.Warning, error) {
	cfg, warnings, err := readConfig(path, config.Options{Purpose: purpose})
	if err != nil {
		return nil, nil, warnings, err
	}
	set, err := loadRules(cfg)
	if err != nil {
		return cfg, nil, warnings, err
	}
	set.SeverityOverrides = cfg.Severity
	return cfg, set, warnings, nil
}

func loadRules(cfg *config.Config) (*rules.Set, error) {
	inline := &rules.Inline{File: cfg.Path, Source: cfg.Source, Rules: cfg.InlineRules}
	if cfg.FS == nil {
		return rules.Load(cfg.RuleFiles, inline, cfg.SinkNames())
	}
	return loadRulesFS(cfg.FS, cfg.RuleFiles, inline, cfg.SinkNames())
}

// loadRulesFS is rules.Load for rules files in fsys (the built-in config's),
// since rules.Load reads the operating system's files: each file is parsed
// by rules.ParseFile and the sets are merged in order, a name defined
// twice being an error as it is there.
func loadRulesFS(fsys fs.FS, files []string, inline *rules.Inline, sinks []string) (*rules.Set, error) {
	set := &rules.Set{}
	var errs []error
	first := map[string]*rules.Rule{}
	add := func(s *rules.Set) {
		for _, r := range s.Rules {
			if f, dup := first[r.Name]; dup {
				errs = append(errs, fmt.Errorf("%s:%d: rule %q: duplicate rule name; first defined at %s:%d", r.File, r.Line, r.Name, f.File, f.Line))
				continue
			}
			first[r.Name] = r
			set.Rules = append(set.Rules, r)
		}
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading rules file: %w", err))
			continue
		}
		s, err := rules.ParseFile(embeddedPrefix+f, data, sinks)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		add(s)
	}
	if len(inline.Rules) > 0 {
		s, err := rules.Load(nil, inline, sinks)
		if err != nil {
			errs = append(errs, err)
		} else {
			add(s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return set, nil
}

// judgement is what check reports and what serve refuses to start on.
type judgement struct {
	cfg      *config.Config
	set      *rules.Set
	warnings []config.Warning
	// problems are FILE:LINE:COL: messages, sorted by place.
	problems []string
}

// judge loads the config and its rules for purpose and builds every sink
// that is complete exactly as serve does, so that a setting serve would
// refuse (an email tls mode, a URL, a missing ca_file) is a problem too.
// Building has no side effects: nothing connects, and the log sink opens
// its file only when it first writes. check --strict and serve both judge
// with ForServe, so they refuse the same configs with the same messages.
func judge(path string, purpose config.Purpose) judgement {
	cfg, set, warnings, err := loadRouting(path, purpose)
	j := judgement{cfg: cfg, set: set, warnings: warnings}
	if err != nil {
		j.problems = errorLines(err)
	}
	if cfg != nil {
		complete := *cfg
		complete.Sinks = nil
		for _, s := range cfg.Sinks {
			if s.Complete() {
				complete.Sinks = append(complete.Sinks, s)
			}
		}
		built, err := app.BuildSinks(&complete)
		if err != nil {
			j.problems = append(j.problems, errorLines(err)...)
		}
		_ = app.CloseSinks(built)
	}
	sortByPlace(j.problems)
	return j
}

// printWarnings writes each warning on a line of its own.
func printWarnings(w io.Writer, warnings []config.Warning) {
	for _, warning := range warnings {
		fmt.Fprintln(w, warning.String())
	}
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

// closeQuietly closes c at the end of a command and reports, without
// changing the exit code, a failure to close what the command already
// finished with.
func closeQuietly(stdio IO, what string, c io.Closer) {
	if err := c.Close(); err != nil {
		fmt.Fprintf(stdio.Err, "warning: closing %s: %v\n", what, err)
	}
}
