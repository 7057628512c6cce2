// Package rules owns the routing rules: it reads rule files (YAML with
// positioned errors), compiles each rule's `when` expression once at load,
// evaluates a Set of rules against an event.Event and renders the title,
// body and dedup key of each match. It knows nothing of HTTP or sinks beyond
// their names; delivery and deduplication belong to the caller.
//
// A rule's `when` is an expr expression (https://expr-lang.org) over the
// fields of event.Event, named as in `wabarouter parse` output (waba_id,
// field, event, ban_state, types, value.some_key, ...). expr's builtins
// lower, upper, hasPrefix, contains, in, len and friends are available, and
// its operator `s matches "^RESTRICTED_"` tests a regular expression;
// this package adds:
//
//	within(t, "72h")            t is in the future and no later than now+72h
//	older_than(t, "24h")        t is set and more than 24h before now
//	contains_any(list, "A", "B") list holds at least one of the items
//
// Durations use Go syntax (90m, 6h, 1h30m). "now" comes from Set.Now so
// tests can pin it.
//
// Templates (title, body, dedup.key) are Go text/template over a map keyed
// by the event's json field names at every level ({{.waba_id}},
// {{.other_info.title}}, {{range .errors}}{{.code}}{{end}}) with the
// helpers phone (readable phone number), utc (2006-01-02 15:04 UTC), join,
// human (ENUM_NAME to "enum name"), sentence and restrictions
// (plain-English restriction phrases). They are checked at load: unknown
// names, undefined {{template}}s, and errors that filling in sample events
// shows no event can avoid, are load errors with their position.
//
// A rule without dedup.key gets event.ProblemKey, which names the problem
// (the account's ban, one phone number's quality, one template's status)
// rather than the rule or the event.
//
// Loading reports Diagnostics, in words a rule author reads, each at its
// FILE:LINE:COL with a hint saying what to write: errors (the rules do not
// load) and warnings (a rule that loads but very likely never does what
// it says, judged against the values event.FieldValues and event.NamesOf
// say a field takes). A file YAML cannot read is explained line by line
// (yamllint.go) and its other rules are still read one by one (syntax.go);
// expr's compile errors are explained in explain.go, a condition's likely
// mistakes found in condlint.go, and positions inside values written over
// several lines mapped back to the file in position.go.
package rules
