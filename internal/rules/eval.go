package rules

import (
	"fmt"
	"text/template"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// builtin are the default titles and bodies, parsed once and read-only.
var builtin, builtinErr = newDefaults()

// Match is one rule that fired on one event, with its texts rendered.
type Match struct {
	Rule        *Rule
	Event       event.Event
	Severity    notification.Severity
	Action      notification.Action
	Title       string
	Body        string
	DedupKey    string
	Runbook     string
	DedupWindow time.Duration
	Sinks       []string
}

// RuleError is one rule failing on one event at run time, e.g. a template
// calling a function on a missing value. It names the rule so callers can
// log and count it.
type RuleError struct {
	Rule, Field, Event string
	Err                error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %q on %s/%s: %v", e.Rule, e.Field, e.Event, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// Evaluate runs every rule in file order and returns those whose when is
// true, up to and including the first with stop: true. A rule failing on
// this event is reported in errs and the others still run, so one bad
// rule cannot silence the rest.
func (s *Set) Evaluate(ev event.Event) (matches []Match, errs []error) {
	var data map[string]any
	// Boxing the event once spares each rule a copy of the whole struct.
	var env any = ev
	// One VM for all rules: expr.Run would allocate a VM and its stack per
	// rule, which dominated evaluation of large rule sets.
	var machine vm.VM
	var buf [64]int
	for _, i := range s.candidateRules(buf[:0], ev.Field, ev.Event) {
		r := s.Rules[i]
		if !r.pins.admits(ev.Field, ev.Event) {
			continue
		}
		ok, err := r.matches(&machine, env)
		if err != nil {
			errs = append(errs, &RuleError{Rule: r.Name, Field: ev.Field, Event: ev.Event, Err: err})
			continue
		}
		if !ok {
			continue
		}
		if data == nil {
			data = templateData(ev)
		}
		m, err := s.match(r, ev, data)
		if err != nil {
			errs = append(errs, &RuleError{Rule: r.Name, Field: ev.Field, Event: ev.Event, Err: err})
			continue
		}
		matches = append(matches, m)
		if r.Stop {
			break
		}
	}
	return matches, errs
}

func (r *Rule) matches(machine *vm.VM, env any) (bool, error) {
	if r.program == nil {
		return false, fmt.Errorf("rule was not compiled")
	}
	out, err := machine.Run(r.program, env)
	if err != nil {
		return false, fmt.Errorf("evaluating when: %w", err)
	}
	b, _ := out.(bool)
	return b, nil
}

func (s *Set) match(r *Rule, ev event.Event, data map[string]any) (Match, error) {
	m := Match{Rule: r, Event: ev, Action: r.Action, DedupWindow: r.DedupWindow, Sinks: r.To}
	m.Severity = DefaultSeverity(ev, s.SeverityOverrides)
	if r.Severity != nil {
		m.Severity = *r.Severity
	}
	if builtinErr != nil {
		return m, fmt.Errorf("default templates: %w", builtinErr)
	}
	def := builtin.lookup(ev)
	var err error
	if m.Title, err = render(pick(r.title, def[0]), data); err != nil {
		return m, err
	}
	if m.Body, err = render(pick(r.body, def[1]), data); err != nil {
		return m, err
	}
	if r.Threshold != nil {
		if r.title == nil || r.body == nil {
			t, b := thresholdTexts(r, ev, m.Title, m.Body)
			if r.title == nil {
				m.Title = t
			}
			if r.body == nil {
				m.Body = b
			}
		}
	}
	if m.Runbook, err = runbook(r, ev, data); err != nil {
		return m, err
	}
	m.DedupKey, err = s.dedupKey(r, ev, data)
	return m, err
}

func pick(override, def *template.Template) *template.Template {
	if override != nil {
		return override
	}
	return def
}

// dedupKey defaults to the problem the event is about (event.ProblemKey),
// so that the events opening and closing one problem share a key and two
// problems never do: the key is also the PagerDuty incident and the e-mail
// thread. It names no rule; the router keeps dedup state per rule, so two
// rules matching one event still hold back only their own repeats.
func (s *Set) dedupKey(r *Rule, ev event.Event, data map[string]any) (string, error) {
	if r.dedup != nil {
		return render(r.dedup, data)
	}
	if r.Threshold != nil {
		return r.Threshold.Key(r.Name, ev), nil
	}
	key, err := event.ProblemKey(ev)
	if err != nil {
		return "", fmt.Errorf("default dedup key: %w", err)
	}
	return key, nil
}

// Notifications makes one notification per target sink; the caller
// assigns IDs.
func (m Match) Notifications(now time.Time) []notification.Notification {
	out := make([]notification.Notification, 0, len(m.Sinks))
	for _, sink := range m.Sinks {
		out = append(out, notification.Notification{
			Sink:            sink,
			Rule:            m.Rule.Name,
			RuleDescription: m.Rule.Description,
			Severity:        m.Severity,
			Action:          m.Action,
			Title:           m.Title,
			Body:            m.Body,
			DedupKey:        m.DedupKey,
			Runbook:         m.Runbook,
			CreatedAt:       now,
			Event:           m.Event,
		})
	}
	return out
}

// Recovers reports whether ev is the rule's own recovery: its
// resolve_when holds. A rule without one leaves recovery to the schema.
func (r *Rule) Recovers(ev event.Event) (bool, error) {
	if r.resolveWhen == nil {
		return false, nil
	}
	var machine vm.VM
	out, err := machine.Run(r.resolveWhen, ev)
	if err != nil {
		return false, &RuleError{Rule: r.Name, Field: ev.Field, Event: ev.Event, Err: fmt.Errorf("evaluating resolve_when: %w", err)}
	}
	b, _ := out.(bool)
	return b, nil
}

// IncidentKey is the key of the incident r would report ev under: its
// incident.key, or the schema's problem key.
func (s *Set) IncidentKey(r *Rule, ev event.Event) (string, error) {
	return s.dedupKey(r, ev, templateData(ev))
}

// DefaultTexts are the title and body the rules write for ev when a rule
// sets none: what a resolve says about the event that ended an incident.
func (s *Set) DefaultTexts(ev event.Event) (title, body string, err error) {
	if builtinErr != nil {
		return "", "", fmt.Errorf("default templates: %w", builtinErr)
	}
	def := builtin.lookup(ev)
	data := templateData(ev)
	if title, err = render(def[0], data); err != nil {
		return "", "", err
	}
	body, err = render(def[1], data)
	return title, body, err
}

// Rule returns the rule named name, or nil.
func (s *Set) Rule(name string) *Rule {
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}
