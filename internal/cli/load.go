package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/wabarouter/wabarouter"
	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/schedule"
)

// embeddedPrefix names the files built into the binary in messages, so
// that embedded:config.example.yaml:10:17 is not taken for a file on disk.
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
// what purpose let go unchecked and the rules' warnings as warnings.
func loadRouting(path string, purpose config.Purpose) (*config.Config, *rules.Set, []config.Warning, error) {
	cfg, set, warnings, diags, err := loadRoutingDiagnostics(path, purpose)
	if err != nil {
		return cfg, nil, warnings, err
	}
	var errs []error
	for i := range diags {
		d := &diags[i]
		if d.Level == rules.LevelWarning {
			warnings = append(warnings, config.Warning{File: d.File, Line: d.Line, Column: d.Column, Msg: ruleWarningText(d)})
			continue
		}
		errs = append(errs, d)
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, nil, warnings, err
	}
	return cfg, set, warnings, nil
}

// ruleWarningText is a rules warning as config.Warning words it after
// "warning: ", so that both print alike.
func ruleWarningText(d *rules.Diagnostic) string {
	plain := *d
	plain.Level, plain.File, plain.Line, plain.Column = rules.LevelError, "", 0, 0
	return strings.TrimPrefix(plain.Error(), ": ")
}

// loadRoutingDiagnostics is loadRouting with the rules' diagnostics, errors
// and warnings, kept apart from the config's problems (err).
func loadRoutingDiagnostics(path string, purpose config.Purpose) (*config.Config, *rules.Set, []config.Warning, []rules.Diagnostic, error) {
	cfg, warnings, err := readConfig(path, config.Options{Purpose: purpose})
	if err != nil {
		return nil, nil, warnings, nil, err
	}
	set, diags := loadRules(cfg)
	if set != nil {
		set.SeverityOverrides = cfg.Severity
		set.Accounts = cfg.Accounts
		set.SinkSchedules = sinkSchedules(cfg)
		diags = append(diags, unlistedAccounts(set)...)
	}
	return cfg, set, warnings, diags, nil
}

// sinkSchedules are the sinks' active_during and muted_during, for the
// router to read with the rules.
func sinkSchedules(cfg *config.Config) map[string]schedule.Gate {
	out := map[string]schedule.Gate{}
	for _, s := range cfg.Sinks {
		if !s.Schedules.IsZero() {
			out[s.Name] = s.Schedules
		}
	}
	return out
}

// unlistedAccounts warns of each WABA id a rule's condition names that
// the accounts directory lacks. Without a directory there is nothing to
// hold the ids against.
func unlistedAccounts(set *rules.Set) []rules.Diagnostic {
	if set.Accounts.Len() == 0 {
		return nil
	}
	var diags []rules.Diagnostic
	for _, r := range set.Rules {
		for _, id := range r.WabaIDs() {
			if set.Accounts.Has(id) {
				continue
			}
			diags = append(diags, rules.Diagnostic{File: r.File, Line: r.Line, Rule: r.Name, Level: rules.LevelWarning,
				Message: fmt.Sprintf("when compares waba_id with %q, which the accounts directory does not list", id),
				Hint:    fmt.Sprintf("check the id for a typo, or add the account to accounts (it lists %d)", set.Accounts.Len())})
		}
	}
	return diags
}

// loadRules reads the rules files the config names, from the operating
// system or from the built-in files, and checks them with the inline rules.
func loadRules(cfg *config.Config) (*rules.Set, []rules.Diagnostic) {
	inline := &rules.Inline{File: cfg.Path, Source: cfg.Source, Rules: cfg.InlineRules}
	var sources []rules.Source
	var unread []rules.Diagnostic
	for _, f := range cfg.RuleFiles {
		var data []byte
		var err error
		name := f
		if cfg.FS == nil {
			data, err = os.ReadFile(f)
		} else {
			data, err = fs.ReadFile(cfg.FS, f)
			name = embeddedPrefix + f
		}
		if err != nil {
			unread = append(unread, rules.Diagnostic{File: name, Level: rules.LevelError, Message: fmt.Sprintf("reading rules file: %v", err)})
			continue
		}
		sources = append(sources, rules.Source{Path: name, Data: data})
	}
	set, diags := rules.CheckSourcesWith(sources, inline, cfg.SinkNames(), cfg.Schedules)
	if len(unread) > 0 {
		return nil, append(unread, diags...)
	}
	return set, diags
}

// judgement is what check reports and what serve refuses to start on.
type judgement struct {
	cfg      *config.Config
	set      *rules.Set
	warnings []config.Warning
	// problems are FILE:LINE:COL: messages, sorted by place.
	problems []string
	// diagnostics are the problems and every warning, the rules' included,
	// sorted by place, for check to print in either form.
	diagnostics []diagnostic
}

// judge loads the config and its rules for purpose and builds every sink
// that is complete exactly as serve does, so that a setting serve would
// refuse (an email tls mode, a URL, a missing ca_file) is a problem too.
// Building has no side effects: nothing connects, and the log sink opens
// its file only when it first writes. check --strict and serve both judge
// with ForServe, so they refuse the same configs with the same messages.
func judge(path string, purpose config.Purpose) judgement {
	cfg, set, warnings, ruleDiags, err := loadRoutingDiagnostics(path, purpose)
	j := judgement{cfg: cfg, set: set, warnings: warnings}
	if err != nil {
		j.addErrors(err)
	}
	for _, w := range warnings {
		msg, hint := rules.SplitHint(w.Msg)
		j.diagnostics = append(j.diagnostics, diagnostic{File: w.File, Line: w.Line, Column: w.Column,
			Severity: string(rules.LevelWarning), Message: msg, Hint: hint, text: w.String()})
	}
	for i := range ruleDiags {
		j.diagnostics = append(j.diagnostics, fromRules(&ruleDiags[i]))
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
			j.addErrors(err)
		}
		_ = app.CloseSinks(built)
	}
	sortDiagnostics(j.diagnostics)
	for _, d := range j.diagnostics {
		if d.Severity == string(rules.LevelError) {
			j.problems = append(j.problems, d.text)
		}
	}
	return j
}

// addErrors adds each problem of err, with its place when it has one.
func (j *judgement) addErrors(err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			j.addErrors(e)
		}
		return
	}
	j.diagnostics = append(j.diagnostics, fromError(err))
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
