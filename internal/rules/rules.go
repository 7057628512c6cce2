package rules

import (
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/expr-lang/expr/vm"

	"github.com/wabarouter/wabarouter/internal/accounts"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/schedule"
)

// Rule is one compiled entry of a rules file.
type Rule struct {
	Name        string
	Description string
	When        string
	// Severity is nil when the rule leaves it to DefaultSeverity.
	Severity *notification.Severity
	To       []string
	// DedupKey is the rule's incident key template (incident.key, or its
	// older spelling dedup.key); empty for the schema's default key.
	DedupKey string
	// DedupWindow is dedup.window, kept for Renotify's sake.
	DedupWindow time.Duration
	// Renotify reminds while an incident stays open, at most once per
	// this long; dedup.window is its older spelling. Zero never reminds.
	Renotify time.Duration
	// ResolveNever keeps the incidents open whatever the schema says
	// (resolve: never); ResolveWhen is the rule's own recovery condition,
	// which replaces the schema's.
	ResolveNever bool
	ResolveWhen  string
	Stop         bool
	Action       notification.Action
	// Runbook is the rule's "what to do" link, a URL template; "" leaves
	// it to the event's field (DefaultRunbook).
	Runbook string
	// Schedules are when the rule's notifications go out (active_during,
	// muted_during); WhenMuted says what becomes of one they keep back
	// ("" holds it, as Hold does).
	Schedules schedule.Gate
	WhenMuted WhenMuted
	// Group, when set, gathers the rule's events that share its fields
	// into one incident and one notification listing them.
	Group *Group
	// Threshold, when set, makes the rule count its matches and fire
	// only once enough of them fall within its window.
	Threshold *Threshold
	// File and Line say where the rule was defined, for error messages.
	File string
	Line int

	program     *vm.Program
	pins        pins
	resolveWhen *vm.Program
	title       *template.Template
	body        *template.Template
	dedup       *template.Template
	runbook     *template.Template
}

// Set is an ordered list of rules, evaluated in file order.
type Set struct {
	Rules []*Rule
	// Now is the clock seen by within and older_than; time.Now by default.
	Now func() time.Time
	// SeverityOverrides are passed to DefaultSeverity for rules without a
	// severity, keyed "field/EVENT" or "field".
	SeverityOverrides map[string]notification.Severity
	// Checksum is the SHA-256 of the rules' text (see checksum), so that
	// replicas can tell whether they run the same rules.
	Checksum string
	// Accounts is the accounts directory the router looks each event's
	// account up in before the rules run; nil lists no account.
	Accounts *accounts.Directory
	// Schedules are the config's schedules the rules' and the sinks'
	// active_during and muted_during name; SinkSchedules are each sink's.
	// They come with the rules so that a reload changes them together.
	Schedules     schedule.Set
	SinkSchedules map[string]schedule.Gate

	// idx is built once the rules are read, before the set is shared;
	// Evaluate uses it only while Rules is what it was built from.
	idx *ruleIndex
}

func newSet() *Set { return &Set{Now: time.Now} }

func (s *Set) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// ParseFile reads one rules file. sinks are the defined sink names. All the
// file's errors are returned joined, each a *Diagnostic written
// FILE:LINE:COL: message; its warnings are left to CheckFile.
func ParseFile(path string, data []byte, sinks []string) (*Set, error) {
	s, diags := CheckFile(path, data, sinks)
	if err := joinErrors(diags); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadFiles reads and merges rules files in order; a rule name defined in
// two files is an error naming both places.
func LoadFiles(paths []string, sinks []string) (*Set, error) {
	return Load(paths, nil, sinks)
}

// Inline holds rules written inside another YAML file (the config's rules
// list) rather than in a rules file of their own.
type Inline struct {
	File   string       // the file they are written in, for messages
	Source []byte       // its text, for positions inside block scalars
	Rules  []*yaml.Node // one mapping per rule
}

// Load reads the rules files in order, then the inline rules, into one
// set, returning every problem of all of them at once.
func Load(paths []string, inline *Inline, sinks []string) (*Set, error) {
	s, diags := Check(paths, inline, sinks)
	if err := joinErrors(diags); err != nil {
		return nil, err
	}
	return s, nil
}
