package config

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/schedule"
)

// scheduleRef is a schedule name a sink gives, checked once the whole
// file is read, since schedules may be written after the sinks.
type scheduleRef struct {
	node       *yaml.Node
	where, key string
}

// schedules reads the top-level schedules mapping: each name holds one
// interval (a mapping) or several (a list of them), as Alertmanager's
// time_intervals entries do.
func (p *parser) schedules(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "schedules must be a mapping of names to intervals, such as `business-hours: {time_zone: Europe/Berlin, "+
			"weekdays: [\"monday:friday\"], times: [{start: \"09:00\", end: \"18:00\"}]}`, got %s", kindName(v))
		return
	}
	cfg.Schedules = schedule.Set{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := deref(v.Content[i]), deref(v.Content[i+1])
		name := k.Value
		where := fmt.Sprintf("schedule %q", name)
		switch {
		case k.Kind != yaml.ScalarNode || name == "":
			p.errorf(k, "schedules: a schedule's name must be a word such as business-hours")
			continue
		case cfg.Schedules[name] != nil:
			p.errorf(k, "%s is defined twice", where)
			continue
		}
		items := []*yaml.Node{val}
		switch {
		case isNull(val):
			p.errorf(val, "%s has no interval; give it time_zone, weekdays, times, days_of_month, months or years", where)
			continue
		case val.Kind == yaml.SequenceNode:
			items = val.Content
			if len(items) == 0 {
				p.errorf(val, "%s has no interval; list at least one", where)
				continue
			}
		}
		s := &schedule.Schedule{Name: name}
		ok := true
		for j, item := range items {
			at := where
			if val.Kind == yaml.SequenceNode {
				at = fmt.Sprintf("%s[%d]", where, j)
			}
			iv, good := p.interval(deref(item), at)
			ok = ok && good
			s.Intervals = append(s.Intervals, iv)
		}
		if ok {
			cfg.Schedules[name] = s
		} else {
			// Known, so that rules and sinks naming it are not told it is
			// undefined on top of its own errors.
			cfg.Schedules[name] = &schedule.Schedule{Name: name}
		}
	}
}

// alertmanagerSpelling is what a key written as Alertmanager spells it is
// called here.
var alertmanagerSpelling = map[string]string{"location": "time_zone", "start_time": "start", "end_time": "end"}

// interval reads one interval; ok is false when it had an error.
func (p *parser) interval(m *yaml.Node, where string) (schedule.Interval, bool) {
	iv := schedule.Interval{}
	if m.Kind != yaml.MappingNode {
		p.errorf(m, "%s must be a mapping with time_zone, weekdays, times, days_of_month, months or years, got %s", where, kindName(m))
		return iv, false
	}
	before := len(p.errs)
	list := func(key string, parse func(string) (schedule.Range, error), into *[]schedule.Range) func(_, v *yaml.Node) {
		return func(_, v *yaml.Node) {
			*into = []schedule.Range{}
			for _, item := range p.scheduleList(v, where+"."+key) {
				s, ok := p.str(item, where+"."+key)
				if !ok {
					continue
				}
				r, err := parse(s)
				if err != nil {
					p.errorf(deref(item), "%s.%s: %v", where, key, err)
					continue
				}
				*into = append(*into, r)
			}
		}
	}
	handlers := map[string]func(k, v *yaml.Node){
		"time_zone": func(_, v *yaml.Node) {
			s, ok := p.str(v, where+".time_zone")
			if !ok {
				return
			}
			loc, err := schedule.LoadLocation(s)
			if err != nil {
				p.errorf(v, "%s: %v", where, err)
				return
			}
			iv.Location = loc
		},
		"times":         func(_, v *yaml.Node) { iv.Times = p.times(v, where+".times") },
		"weekdays":      list("weekdays", schedule.ParseWeekdays, &iv.Weekdays),
		"days_of_month": list("days_of_month", schedule.ParseDaysOfMonth, &iv.DaysOfMonth),
		"months":        list("months", schedule.ParseMonths, &iv.Months),
		"years":         list("years", schedule.ParseYears, &iv.Years),
	}
	p.spelledAsAlertmanager(m, where, handlers)
	p.fields(m, where, handlers)
	return iv, len(p.errs) == before
}

// spelledAsAlertmanager gives the keys Alertmanager spells otherwise a
// handler that names the key wanted here, rather than a guess.
func (p *parser) spelledAsAlertmanager(m *yaml.Node, where string, handlers map[string]func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := m.Content[i].Value
		if want, ok := alertmanagerSpelling[key]; ok && handlers[key] == nil && handlers[want] != nil {
			handlers[key] = func(k, _ *yaml.Node) {
				p.errorf(k, "%s: unknown key %q; here it is called %q", where, key, want)
			}
		}
	}
}

// scheduleList is a list's items, or a single value as a list of one.
func (p *parser) scheduleList(v *yaml.Node, where string) []*yaml.Node {
	switch {
	case isNull(v):
		p.errorf(v, "%s is empty; leave it out to mean every one", where)
		return nil
	case v.Kind == yaml.SequenceNode:
		return v.Content
	}
	return []*yaml.Node{v}
}

// times reads a list of {start, end} spans of the day.
func (p *parser) times(v *yaml.Node, where string) []schedule.TimeRange {
	out := []schedule.TimeRange{}
	for j, item := range p.scheduleList(v, where) {
		item = deref(item)
		at := fmt.Sprintf("%s[%d]", where, j)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "%s must be a mapping such as {start: \"09:00\", end: \"18:00\"}, got %s", at, kindName(item))
			continue
		}
		var start, end *yaml.Node
		handlers := map[string]func(k, v *yaml.Node){
			"start": func(_, v *yaml.Node) { start = v },
			"end":   func(_, v *yaml.Node) { end = v },
		}
		before := len(p.errs)
		p.spelledAsAlertmanager(item, at, handlers)
		p.fields(item, at, handlers)
		if len(p.errs) > before {
			continue // a misspelt start or end is already reported
		}
		if start == nil || end == nil {
			p.errorf(item, "%s needs both start and end, such as {start: \"09:00\", end: \"18:00\"}", at)
			continue
		}
		a, okA := p.str(start, at+".start")
		b, okB := p.str(end, at+".end")
		if !okA || !okB {
			continue
		}
		if _, err := schedule.ParseTime(a); err != nil {
			p.errorf(start, "%s.start: %v", at, err)
			continue
		}
		tr, err := schedule.ParseTimeRange(a, b)
		if err != nil {
			node := end
			if strings.HasPrefix(err.Error(), "start") {
				node = start
			}
			p.errorf(node, "%s: %v", at, err)
			continue
		}
		out = append(out, tr)
	}
	return out
}

// sinkSchedules adds a sink's active_during and muted_during to its
// handlers.
func (p *parser) sinkSchedules(handlers map[string]func(k, v *yaml.Node), where string, s *Sink) {
	handlers["active_during"] = func(_, v *yaml.Node) {
		s.Schedules.ActiveDuring = p.scheduleNames(v, where, "active_during")
	}
	handlers["muted_during"] = func(_, v *yaml.Node) {
		s.Schedules.MutedDuring = p.scheduleNames(v, where, "muted_during")
	}
}

// scheduleNames reads a list of schedule names, keeping each for
// checkScheduleRefs.
func (p *parser) scheduleNames(v *yaml.Node, where, key string) []string {
	var names []string
	for _, item := range p.scheduleList(v, where+"."+key) {
		name, ok := p.str(item, where+"."+key)
		if !ok || name == "" {
			continue
		}
		names = append(names, name)
		p.scheduleRefs = append(p.scheduleRefs, scheduleRef{node: deref(item), where: where, key: key})
	}
	return names
}

// checkScheduleRefs reports each schedule a sink names that the file does
// not define.
func (p *parser) checkScheduleRefs(cfg *Config) {
	defined := cfg.Schedules.Names()
	slices.Sort(defined)
	for _, ref := range p.scheduleRefs {
		name := ref.node.Value
		if cfg.Schedules[name] != nil {
			continue
		}
		msg := fmt.Sprintf("%s: %s: schedule %q is not defined", ref.where, ref.key, name)
		switch near, ok := nearKey(name, cfg.Schedules); {
		case ok:
			msg += fmt.Sprintf("; did you mean %q?", near)
		case len(defined) > 0:
			msg += "; defined schedules: " + strings.Join(defined, ", ")
		default:
			msg += "; define it under the top-level schedules"
		}
		p.errorf(ref.node, "%s", msg)
	}
}
