package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"gopkg.in/yaml.v3"
	"os"
	"strings"

	"github.com/wabarouter/wabarouter/internal/schedule"
)

// Level says whether a diagnostic stops the rules from loading.
type Level string

// The levels of a diagnostic.
const (
	// LevelError is a mistake the rules cannot load with.
	LevelError Level = "error"
	// LevelWarning is a rule that loads but very likely does not do what
	// its author meant, such as a comparison with a value the field never
	// takes.
	LevelWarning Level = "warning"
)

// Diagnostic is one problem of a rules file, at its place, in words a
// rule author reads: what is wrong (Message) and what to write instead
// (Hint, which may be empty). Line and Column count from 1; a Line of 0
// is about the whole file.
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Level   Level  `json:"severity"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// Error writes FILE:LINE:COL: [warning: ][rule "NAME": ]message; hint, the
// form every diagnostic of check has.
func (d *Diagnostic) Error() string {
	var b strings.Builder
	switch {
	case d.Line > 0 && d.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", d.File, d.Line, d.Column)
	case d.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", d.File, d.Line)
	default:
		fmt.Fprintf(&b, "%s: ", d.File)
	}
	if d.Level == LevelWarning {
		b.WriteString("warning: ")
	}
	if d.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", d.Rule)
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString("; ")
		b.WriteString(d.Hint)
	}
	return b.String()
}

// SplitHint separates "message; what to do" at the first "; " outside
// double quotes, so that every message written in that form carries its
// fix as the hint.
func SplitHint(msg string) (string, string) {
	quoted := false
	for i := 0; i < len(msg); i++ {
		switch {
		case msg[i] == '\\' && quoted:
			i++
		case msg[i] == '"':
			quoted = !quoted
		case !quoted && strings.HasPrefix(msg[i:], "; "):
			return msg[:i], msg[i+2:]
		}
	}
	return msg, ""
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Level != LevelWarning {
			return true
		}
	}
	return false
}

// joinErrors is the error of a load: every error diagnostic, joined, or
// nil when there is none. Warnings are left out.
func joinErrors(diags []Diagnostic) error {
	var errs []error
	for i := range diags {
		if diags[i].Level != LevelWarning {
			errs = append(errs, &diags[i])
		}
	}
	return errors.Join(errs...)
}

// CheckFile reads one rules file as ParseFile does and returns all its
// diagnostics, errors and warnings, in the order they were found; the set
// is nil when any of them is an error.
func CheckFile(path string, data []byte, sinks []string) (*Set, []Diagnostic) {
	s := newSet()
	diags := s.parseInto(path, data, sinks)
	if HasErrors(diags) {
		return nil, diags
	}
	s.Checksum = checksum([]Source{{Path: path, Data: data}}, nil)
	s.idx = buildIndex(s.Rules)
	return s, diags
}

// Check reads the rules files in order, then the inline rules, as Load
// does, and returns every diagnostic of all of them; the set is nil when
// any of them is an error.
func Check(paths []string, inline *Inline, sinks []string) (*Set, []Diagnostic) {
	var sources []Source
	var unread []Diagnostic
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			unread = append(unread, Diagnostic{File: p, Level: LevelError, Message: fmt.Sprintf("reading rules file: %v", err)})
			continue
		}
		sources = append(sources, Source{Path: p, Data: data})
	}
	s, diags := CheckSources(sources, inline, sinks)
	if len(unread) > 0 {
		return nil, append(unread, diags...)
	}
	return s, diags
}

// Source is the text of one rules file and the name messages give it.
type Source struct {
	Path string
	Data []byte
}

// CheckSources reads rules files already read, in order, then the inline
// rules, as Check does.
func CheckSources(sources []Source, inline *Inline, sinks []string) (*Set, []Diagnostic) {
	return checkSources(sources, inline, sinks, nil)
}

func checkSources(sources []Source, inline *Inline, sinks []string, schedules schedule.Set) (*Set, []Diagnostic) {
	s := newSet()
	s.Schedules = schedules
	var diags []Diagnostic
	for _, src := range sources {
		diags = append(diags, s.parseInto(src.Path, src.Data, sinks)...)
	}
	if inline != nil && len(inline.Rules) > 0 {
		p := newFileParser(s, inline.File, inline.Source, sinks)
		for _, n := range inline.Rules {
			p.parseRule(n)
		}
		diags = append(diags, p.diags...)
	}
	if HasErrors(diags) {
		return nil, diags
	}
	s.Checksum = checksum(sources, inline)
	s.idx = buildIndex(s.Rules)
	return s, diags
}

// checksum is the SHA-256 of the rules' text, the files' in order and then
// the inline rules re-encoded, without their paths: replicas that mount
// the same rules at other paths load the same rules.
func checksum(sources []Source, inline *Inline) string {
	h := sha256.New()
	for _, src := range sources {
		fmt.Fprintf(h, "%d\n", len(src.Data))
		h.Write(src.Data)
	}
	if inline != nil {
		for _, n := range inline.Rules {
			b, err := yaml.Marshal(n)
			if err == nil {
				fmt.Fprintf(h, "%d\n", len(b))
				h.Write(b)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
