package rules

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// fileParser collects every error of one file instead of stopping at the
// first, so an author fixes them all in one round.
type fileParser struct {
	set   *Set
	file  string
	sinks []string
	lines []string
	diags []Diagnostic
}

func newFileParser(s *Set, file string, source []byte, sinks []string) *fileParser {
	return &fileParser{set: s, file: file, sinks: sinks, lines: strings.Split(string(source), "\n")}
}

func (p *fileParser) errorf(n *yaml.Node, rule, format string, args ...any) {
	p.errorAt(n.Line, n.Column, rule, fmt.Sprintf(format, args...))
}

// errorAt records an error; a message written "what; what to do" keeps
// the part after "; " as its hint.
func (p *fileParser) errorAt(line, col int, rule, msg string) {
	p.report(LevelError, line, col, rule, msg)
}

func (p *fileParser) warnf(n *yaml.Node, rule, format string, args ...any) {
	p.warnAt(n.Line, n.Column, rule, fmt.Sprintf(format, args...))
}

func (p *fileParser) warnAt(line, col int, rule, msg string) {
	p.report(LevelWarning, line, col, rule, msg)
}

func (p *fileParser) report(level Level, line, col int, rule, msg string) {
	m, hint := SplitHint(msg)
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: line, Column: col, Level: level, Rule: rule, Message: m, Hint: hint})
}

func (p *fileParser) parseTop(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "want a mapping with a \"rules:\" list")
		return
	}
	var found, unknown bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "rules" {
			p.errorf(k, "", "unknown key %q; a rules file has one key, \"rules:\", with the list of rules", k.Value)
			unknown = true
			continue
		}
		found = true
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" || v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			p.warnf(k, "", "this rules file has no rules; add rules under \"rules:\", or take the file out of the config's rules")
			continue
		}
		if v.Kind != yaml.SequenceNode {
			p.errorf(v, "", "rules must be a list; write each rule as an entry starting with \"- \" under \"rules:\"")
			continue
		}
		for _, r := range v.Content {
			p.parseRule(r)
		}
	}
	if !found && !unknown {
		p.errorf(n, "", "no \"rules:\" list; write the rules under \"rules:\"")
	}
}

// ruleName finds the name before the other keys so every error of a rule
// can say which rule it is about, whatever the key order.
func ruleName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func (p *fileParser) parseRule(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "a rule must be a mapping")
		return
	}
	name := ruleName(n)
	r := &Rule{Name: name, File: p.file, Line: n.Line, Action: notification.Trigger}
	seen := map[string]bool{}
	var whenNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errorf(k, name, "key %q given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		if k.Value == "when" {
			whenNode = v
		}
		p.parseKey(r, k, v)
	}
	p.checkRequired(r, n, seen)
	p.checkIncidentKeys(r, n, seen)
	p.checkThreshold(r, n, seen)
	if whenNode != nil && whenNode.Kind == yaml.ScalarNode && whenNode.Value != "" && standardTag(whenNode) {
		p.compileWhen(r, whenNode)
	}
	p.addRule(r, n)
}

// checkIncidentKeys refuses a rule that says one thing twice, in the
// incident settings and in their older dedup spellings, or asks for a
// recovery it cannot have.
func (p *fileParser) checkIncidentKeys(r *Rule, n *yaml.Node, seen map[string]bool) {
	if seen["incident"] && seen["dedup"] && r.DedupKey != "" {
		p.errorf(n, r.Name, "incident.key and dedup.key name the same thing; keep incident.key")
	}
	if seen["renotify"] && r.DedupWindow > 0 {
		p.errorf(n, r.Name, "renotify and dedup.window name the same thing; keep renotify")
	}
	if r.Renotify == 0 {
		r.Renotify = r.DedupWindow
	}
	if r.ResolveNever && seen["resolve_when"] {
		p.errorf(n, r.Name, "resolve: never and resolve_when contradict each other; keep one")
	}
	if r.Action == notification.Resolve && (seen["resolve"] || seen["resolve_when"] || seen["renotify"]) {
		p.errorf(n, r.Name, "a rule with action: resolve closes incidents; resolve, resolve_when and renotify belong on the rule that opens them")
	}
	if r.Action == notification.Change && (seen["incident"] || seen["resolve"] || seen["resolve_when"] || seen["renotify"] || seen["dedup"]) {
		p.errorf(n, r.Name, "a rule with action: change sends good news outside any incident; incident, resolve, resolve_when, renotify and dedup belong on rules that open incidents")
	}
}

// requiredHint says how to write a missing required key.
func requiredHint(key string, sinks []string) string {
	switch key {
	case "name":
		return "give the rule a short name of its own, such as `name: account-restricted`"
	case "when":
		return "write the condition, such as `when: field == \"account_update\"`"
	}
	if len(sinks) > 0 {
		return fmt.Sprintf("name the sinks to alert, such as `to: [%s]`", sinks[0])
	}
	return "name the sinks to alert, such as `to: [compliance-slack]`"
}

func (p *fileParser) checkRequired(r *Rule, n *yaml.Node, seen map[string]bool) {
	for _, k := range []string{"name", "when", "to"} {
		if !seen[k] {
			p.errorf(n, r.Name, "missing required key %q; %s", k, requiredHint(k, p.sinks))
		}
	}
}

func (p *fileParser) addRule(r *Rule, n *yaml.Node) {
	if r.Name == "" {
		return
	}
	for _, old := range p.set.Rules {
		if old.Name == r.Name {
			p.errorf(n, r.Name, "duplicate rule name; first defined at %s:%d; give each rule a name of its own", old.File, old.Line)
			return
		}
	}
	p.set.Rules = append(p.set.Rules, r)
}

var ruleKeys = []string{"name", "description", "when", "severity", "to", "incident", "renotify", "resolve", "resolve_when",
	"dedup", "stop", "action", "title", "body", "runbook", "active_during", "muted_during", "when_muted",
	"threshold"}

func (p *fileParser) parseKey(r *Rule, k, v *yaml.Node) {
	switch k.Value {
	case "name":
		if s, ok := p.str(v, r.Name, "name"); ok && s == "" {
			p.errorf(v, "", "name must not be empty")
		}
	case "description":
		r.Description, _ = p.str(v, r.Name, "description")
	case "when":
		if s, ok := p.str(v, r.Name, "when"); ok && strings.TrimSpace(s) == "" {
			p.errorf(v, r.Name, "when must not be empty")
		}
		r.When = v.Value
	case "severity":
		p.parseSeverity(r, v)
	case "to":
		p.parseTo(r, v)
	case "incident":
		p.parseIncident(r, v)
	case "renotify":
		r.Renotify = p.duration(r, v, "renotify")
	case "resolve":
		p.parseResolve(r, v)
	case "resolve_when":
		s, ok := p.str(v, r.Name, "resolve_when")
		if !ok {
			return
		}
		if strings.TrimSpace(s) == "" {
			p.errorf(v, r.Name, "resolve_when must not be empty")
			return
		}
		r.ResolveWhen = v.Value
		if v.Kind == yaml.ScalarNode {
			r.resolveWhen = p.compileCondition(r, v, "resolve_when")
		}
	case "dedup":
		p.parseDedup(r, v)
	case "stop":
		p.parseStop(r, v)
	case "action":
		p.parseAction(r, v)
	case "title":
		r.title = p.template(r, v, "title")
	case "body":
		r.body = p.template(r, v, "body")
	case "runbook":
		p.parseRunbook(r, v)
	case "active_during":
		r.Schedules.ActiveDuring = p.parseSchedules(r, v, "active_during")
	case "muted_during":
		r.Schedules.MutedDuring = p.parseSchedules(r, v, "muted_during")
	case "when_muted":
		p.parseWhenMuted(r, v)
	case "threshold":
		p.parseThreshold(r, v)
	default:
		p.errorf(k, r.Name, "unknown key %q%s", k.Value, suggest(k.Value, ruleKeys))
	}
}

func (p *fileParser) str(v *yaml.Node, rule, key string) (string, bool) {
	if !standardTag(v) {
		what := "value"
		if key == "when" || key == "resolve_when" {
			what = "condition"
		}
		p.errorf(v, rule, "YAML reads a value starting with `!` as a tag; write `not` instead of `!`, or quote the whole %s", what)
		return "", false
	}
	if v.Kind != yaml.ScalarNode {
		if p.startsWithBraces(v) {
			p.errorf(v, rule, "a value starting with `{{` must be quoted; write `%s: '%s'`", key, strings.ReplaceAll(p.restOfLine(v), "'", "''"))
			return "", false
		}
		p.errorf(v, rule, "%s must be a string", key)
		return "", false
	}
	return v.Value, true
}

// standardTag reports whether v has no tag of its own: `when: !(a)` is a
// value tagged "!(a)" to YAML, not a negation.
func standardTag(v *yaml.Node) bool {
	return v.Tag == "" || strings.HasPrefix(v.Tag, "!!")
}

// startsWithBraces reports whether v is a template YAML read as a
// mapping: `title: {{.waba_id}}` is a mapping in a mapping to YAML.
func (p *fileParser) startsWithBraces(v *yaml.Node) bool {
	return v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle != 0 && strings.HasPrefix(p.restOfLine(v), "{{")
}

// restOfLine is the file's text from n to the end of its line, without
// a trailing comment.
func (p *fileParser) restOfLine(n *yaml.Node) string {
	if n.Line < 1 || n.Line > len(p.lines) {
		return ""
	}
	runes := []rune(strings.TrimRight(p.lines[n.Line-1], "\r"))
	if n.Column < 1 || n.Column > len(runes) {
		return ""
	}
	return stripComment(string(runes[n.Column-1:]))
}

func (p *fileParser) parseSeverity(r *Rule, v *yaml.Node) {
	s, ok := p.str(v, r.Name, "severity")
	if !ok {
		return
	}
	sev, err := notification.ParseSeverity(s)
	if err != nil {
		p.errorf(v, r.Name, "%v", err)
		return
	}
	r.Severity = &sev
}

func (p *fileParser) parseTo(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		example := "compliance-slack"
		if len(p.sinks) > 0 {
			example = p.sinks[0]
		}
		if v.Kind == yaml.ScalarNode && v.Value != "" {
			example = v.Value
		}
		p.errorf(v, r.Name, "to must be a list of sink names; write `to: [%s]`", example)
		return
	}
	for _, item := range v.Content {
		s, ok := p.str(item, r.Name, "each sink in to")
		if !ok {
			continue
		}
		if !contains(p.sinks, s) {
			p.errorf(item, r.Name, "sink %q is not defined; defined sinks: %s%s",
				s, strings.Join(p.sinks, ", "), suggest(s, p.sinks))
			continue
		}
		r.To = append(r.To, s)
	}
}

func (p *fileParser) parseDedup(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, r.Name, "dedup must be a mapping with key and window")
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "key":
			if t := p.template(r, val, "dedup.key"); t != nil {
				r.dedup, r.DedupKey = t, val.Value
			}
		case "window":
			p.parseWindow(r, val)
		default:
			p.errorf(k, r.Name, "unknown key %q in dedup%s", k.Value, suggest(k.Value, []string{"key", "window"}))
		}
	}
}

func (p *fileParser) parseWindow(r *Rule, v *yaml.Node) {
	r.DedupWindow = p.duration(r, v, "dedup.window")
}

// duration reads a positive duration such as 90m or 24h.
func (p *fileParser) duration(r *Rule, v *yaml.Node, key string) time.Duration {
	s, ok := p.str(v, r.Name, key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		fix := ""
		if f := durationFix(s); f != "" {
			fix = "; write " + f
		}
		p.errorf(v, r.Name, "%s %q is not a duration like 90m or 6h%s", key, s, fix)
		return 0
	}
	return d
}

// parseIncident reads incident: {key: TEMPLATE}, the rule's own name for
// the problem it reports (dedup.key is its older spelling).
func (p *fileParser) parseIncident(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, r.Name, "incident must be a mapping with key")
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "key":
			if t := p.template(r, val, "incident.key"); t != nil {
				r.dedup, r.DedupKey = t, val.Value
			}
		default:
			p.errorf(k, r.Name, "unknown key %q in incident%s", k.Value, suggest(k.Value, []string{"key"}))
		}
	}
}

// parseResolve reads resolve: never (the incident stays open until a
// resolve rule or an operator closes it) or resolve: auto (the default:
// the schema's recovery events and timers close it).
func (p *fileParser) parseResolve(r *Rule, v *yaml.Node) {
	s, ok := p.str(v, r.Name, "resolve")
	if !ok {
		return
	}
	switch s {
	case "never":
		r.ResolveNever = true
	case "auto":
	default:
		p.errorf(v, r.Name, "resolve %q is not never or auto (to name your own recovery, use resolve_when)", s)
	}
}

func (p *fileParser) parseStop(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(v, r.Name, "stop must be true or false; write `stop: true` or leave it out")
		return
	}
	r.Stop = v.Value == "true"
}

func (p *fileParser) parseAction(r *Rule, v *yaml.Node) {
	s, ok := p.str(v, r.Name, "action")
	if !ok {
		return
	}
	switch notification.Action(s) {
	case notification.Trigger, notification.Resolve, notification.Change:
		r.Action = notification.Action(s)
	default:
		p.errorf(v, r.Name, "action %q is not trigger, resolve or change; write `action: resolve` to close incidents, `action: change` for good news outside any incident, or leave it out to open them", s)
	}
}

// parseRunbook reads the rule's "what to do" link, a URL template. One
// without template actions is checked as a URL now; one with them is
// checked when it is rendered.
func (p *fileParser) parseRunbook(r *Rule, v *yaml.Node) {
	s, ok := p.str(v, r.Name, "runbook")
	if !ok {
		return
	}
	if !strings.Contains(s, "{{") {
		if err := checkRunbookURL(s); err != nil {
			p.errorf(v, r.Name, "runbook: %v", err)
			return
		}
	}
	r.Runbook = s
	r.runbook = p.template(r, v, "runbook")
}

// template parses a title, body or dedup key override at load so a typo
// fails the load, not the first matching event.
func (p *fileParser) template(r *Rule, v *yaml.Node, key string) *template.Template {
	s, ok := p.str(v, r.Name, key)
	if !ok {
		return nil
	}
	t, err := newTemplate(key, s)
	if err != nil {
		pr := templateSyntax(s, err)
		line, col := p.valuePosition(v, pr.offset)
		p.errorAt(line, col, r.Name, key+": "+pr.msg)
		return nil
	}
	problems := checkTemplate(t, s)
	for _, pr := range problems {
		line, col := p.valuePosition(v, pr.offset)
		p.errorAt(line, col, r.Name, key+": "+pr.msg)
	}
	if len(problems) > 0 {
		return nil
	}
	return t
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Keys lists the keys a rule may have, for the JSON Schema's test.
func Keys() []string { return slices.Clone(ruleKeys) }
