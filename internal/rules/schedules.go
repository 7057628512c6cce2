package rules

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/schedule"
)

// WhenMuted is what becomes of a rule's notification that a schedule
// keeps from a sink.
type WhenMuted string

// Hold (the default) queues it for the first instant the schedules let it
// through; Drop makes no notification for that sink.
const (
	Hold WhenMuted = "hold"
	Drop WhenMuted = "drop"
)

// CheckSourcesWith is CheckSources for rules that may name the config's
// schedules in active_during and muted_during; the set keeps them for
// routing.
func CheckSourcesWith(sources []Source, inline *Inline, sinks []string, schedules schedule.Set) (*Set, []Diagnostic) {
	return checkSources(sources, inline, sinks, schedules)
}

// ParseFileWith is ParseFile for a rules file that may name schedules.
func ParseFileWith(path string, data []byte, sinks []string, schedules schedule.Set) (*Set, error) {
	s, diags := checkSources([]Source{{Path: path, Data: data}}, nil, sinks, schedules)
	if err := joinErrors(diags); err != nil {
		return nil, err
	}
	return s, nil
}

// parseSchedules reads active_during or muted_during: schedule names the
// config defines, one or a list.
func (p *fileParser) parseSchedules(r *Rule, v *yaml.Node, key string) []string {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	if len(items) == 0 || v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		p.errorf(v, r.Name, "%s must name at least one schedule; leave it out to take notifications at any time", key)
		return nil
	}
	defined := p.set.Schedules.Names()
	slices.Sort(defined)
	var names []string
	for _, item := range items {
		name, ok := p.str(item, r.Name, "each schedule in "+key)
		if !ok {
			continue
		}
		if p.set.Schedules[name] == nil {
			switch {
			case len(defined) == 0:
				p.errorf(item, r.Name, "%s: schedule %q is not defined; define it under the config's schedules", key, name)
			default:
				p.errorf(item, r.Name, "%s: schedule %q is not defined; defined schedules: %s%s", key, name,
					strings.Join(defined, ", "), suggest(name, defined))
			}
			continue
		}
		names = append(names, name)
	}
	return names
}

func (p *fileParser) parseWhenMuted(r *Rule, v *yaml.Node) {
	s, ok := p.str(v, r.Name, "when_muted")
	if !ok {
		return
	}
	switch WhenMuted(s) {
	case Hold, Drop:
		r.WhenMuted = WhenMuted(s)
	default:
		p.errorf(v, r.Name, "when_muted %q is not hold or drop; hold sends it when the schedule lets it through, drop never sends it", s)
	}
}
