package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Group is a rule's group: setting. The events the rule matches that
// share the values of By within Wait go out as one notification listing
// each of them (an item), at most Max of them by name.
type Group struct {
	// By are event fields (their names in `when`); the group's key is
	// their values.
	By []string
	// Wait is how long the group gathers items before its first
	// notification, and the least time between two of its updates.
	Wait time.Duration
	// Max bounds the items the group lists and follows; more are
	// counted ("and 12 more").
	Max int
}

// The group's defaults and bounds.
const (
	DefaultGroupWait = 30 * time.Second
	DefaultGroupMax  = 100
	MinGroupWait     = time.Second
	MaxGroupItems    = 1000
)

// scalarFields are the event's fields that hold one value, by their names
// in `when`: the text and number fields at the top of an event. A group
// is by them, and a threshold counts by them; lists, times and groups of
// fields have no one value to share.
var scalarFields = func() map[string]int {
	t := reflect.TypeFor[event.Event]()
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		if name == "" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.String, reflect.Int:
			out[name] = i
		}
	}
	return out
}()

// GroupFields lists the fields a group may be by (and a threshold count
// by), sorted.
func GroupFields() []string {
	names := make([]string, 0, len(scalarFields))
	for n := range scalarFields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Values are ev's values of the group's fields, in By's order; a field
// Meta did not send is "".
func (g *Group) Values(ev event.Event) []string {
	v := reflect.ValueOf(ev)
	out := make([]string, len(g.By))
	for i, name := range g.By {
		idx, ok := scalarFields[name]
		if !ok {
			continue
		}
		switch f := v.Field(idx); f.Kind() {
		case reflect.String:
			out[i] = f.String()
		case reflect.Int:
			if f.Int() != 0 {
				out[i] = strconv.FormatInt(f.Int(), 10)
			}
		}
	}
	return out
}

// Key is the key of the group ev belongs to under rule: the values of By
// as an incident key is written, "102290129340398/message_template_status_update",
// then "group/" and the rule's name, so that two rules grouping by the
// same fields keep apart (the key is also PagerDuty's dedup_key). A
// field Meta did not send is "-".
func (g *Group) Key(rule string, ev event.Event) string {
	vals := g.Values(ev)
	for i, v := range vals {
		if v == "" {
			vals[i] = "-"
		}
	}
	return strings.Join(vals, "/") + "/group/" + rule
}

// Project is ev reduced to what every item of its group shares: the
// object, the account and the fields of By, with the event's time. A
// group's notification is about that, not about its first item.
func (g *Group) Project(ev event.Event) event.Event {
	out := event.Event{Object: ev.Object, WabaID: ev.WabaID, Time: ev.Time, Field: ev.Field, Account: ev.Account}
	src, dst := reflect.ValueOf(ev), reflect.ValueOf(&out).Elem()
	for _, name := range g.By {
		if idx, ok := scalarFields[name]; ok {
			dst.Field(idx).Set(src.Field(idx))
		}
	}
	return out
}

var groupKeys = []string{"by", "wait", "max"}

// parseGroup reads group: {by: [FIELD, ...], wait: DURATION, max: N}.
func (p *fileParser) parseGroup(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, r.Name, "group must be a mapping; write `group: {by: [waba_id, field], wait: 30s, max: 100}`")
		return
	}
	g := &Group{Wait: DefaultGroupWait, Max: DefaultGroupMax}
	ok, seenBy := true, false
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "by":
			seenBy = true
			ok = p.parseGroupBy(r, g, val) && ok
		case "wait":
			before := len(p.diags)
			d := p.duration(r, val, "group.wait")
			switch {
			case len(p.diags) > before:
				ok = false // the duration's own error was reported
			case d < MinGroupWait:
				p.errorf(val, r.Name, "group.wait %q is shorter than 1s; write how long the group gathers events before it is sent, such as `wait: 30s`", val.Value)
				ok = false
			default:
				g.Wait = d
			}
		case "max":
			n, err := strconv.Atoi(val.Value)
			if val.Kind != yaml.ScalarNode || err != nil || n < 1 || n > MaxGroupItems {
				p.errorf(val, r.Name, "group.max %q is not a number from 1 to %d; write how many items the group lists, such as `max: 100`", val.Value, MaxGroupItems)
				ok = false
				continue
			}
			g.Max = n
		default:
			p.errorf(k, r.Name, "unknown key %q in group%s", k.Value, suggest(k.Value, groupKeys))
			ok = false
		}
	}
	if !seenBy {
		p.errorf(v, r.Name, "group needs by, the event fields its items share; write `by: [waba_id, field]`")
		ok = false
	}
	if ok {
		r.Group = g
	}
}

func (p *fileParser) parseGroupBy(r *Rule, g *Group, v *yaml.Node) bool {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		p.errorf(v, r.Name, "group.by must be a list of event fields; write `by: [waba_id, field]`")
		return false
	}
	ok := true
	fields := GroupFields()
	for _, item := range v.Content {
		s, good := p.str(item, r.Name, "each field in group.by")
		if !good {
			ok = false
			continue
		}
		if _, known := scalarFields[s]; !known {
			p.errorf(item, r.Name, "group.by: %q is not an event field a group can share; use a text field such as waba_id, field, event, phone_number or template_name%s", s, suggest(s, fields))
			ok = false
			continue
		}
		if slices.Contains(g.By, s) {
			p.errorf(item, r.Name, "group.by names %q twice; name it once", s)
			ok = false
			continue
		}
		g.By = append(g.By, s)
	}
	return ok
}

// checkGroup refuses a group on a rule that opens no incidents.
func (p *fileParser) checkGroup(r *Rule, n *yaml.Node, seen map[string]bool) {
	if seen["group"] && r.Action != "" && r.Action != "trigger" {
		p.errorf(n, r.Name, "%s", fmt.Sprintf("a rule with action: %s opens no incidents, so it has nothing to group; group belongs on a rule that opens them", r.Action))
		r.Group = nil
	}
	if seen["group"] && seen["threshold"] {
		p.errorf(n, r.Name, "threshold and group both decide when the rule's incident opens; keep one (a threshold rule's incident is already one per value of its by)")
		r.Group = nil
	}
}
