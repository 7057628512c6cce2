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
	"github.com/wabarouter/wabarouter/internal/notification"
)

// Threshold makes a rule count its matches, apart for each value of its
// By fields, and fire only once Count of them fall within Within.
type Threshold struct {
	Count  int
	Within time.Duration
	// By are the event fields (as conditions name them) whose values
	// count apart; none counts every match of the rule together.
	By []string

	// by are the By fields' places in event.Event.
	by []int
}

// The bounds of a threshold: a count of 1 is the rule without one, and a
// window shorter than a minute is a burst the buckets cannot tell apart.
const (
	MinThresholdCount  = 2
	MinThresholdWithin = time.Minute
)

// Key is what the rule counts ev under, and the key of the incident it
// opens: the rule's name and the values of the By fields, so that two
// threshold rules never share an incident (nor a PagerDuty dedup_key).
func (t *Threshold) Key(rule string, ev event.Event) string {
	var b strings.Builder
	b.WriteString("threshold:")
	b.WriteString(rule)
	v := reflect.ValueOf(ev)
	for i, name := range t.By {
		b.WriteString("/")
		b.WriteString(name)
		b.WriteString("=")
		if i < len(t.by) {
			fmt.Fprint(&b, v.Field(t.by[i]).Interface())
		}
	}
	return b.String()
}

// Counted says what is counted under key: "phone_number_id=1065…", or
// "rule \"failed\"" for a threshold by nothing.
func (t *Threshold) Counted(rule, key string) string {
	_, values, found := strings.Cut(strings.TrimPrefix(key, "threshold:"+rule), "/")
	if !found || values == "" {
		return "rule " + strconv.Quote(rule)
	}
	return strings.ReplaceAll(values, "/", ", ")
}

// Bucket is the size of the buckets a threshold's matches are counted in:
// a tenth of its window, rounded down to a whole second, so that a
// window sums at most 11 buckets however long it is.
func (t *Threshold) Bucket() time.Duration {
	return max(t.Within/10, time.Second).Truncate(time.Second)
}

// String writes the threshold as a rule writes it.
func (t *Threshold) String() string {
	s := fmt.Sprintf("%d within %s", t.Count, ShortDuration(t.Within))
	if len(t.By) > 0 {
		s += " by " + strings.Join(t.By, ", ")
	}
	return s
}

var thresholdKeys = []string{"count", "within", "by"}

// parseThreshold reads threshold: {count: 20, within: 10m, by: [phone_number_id]}.
func (p *fileParser) parseThreshold(r *Rule, v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, r.Name, "threshold must be a mapping; write `threshold: {count: 20, within: 10m, by: [phone_number_id]}`")
		return
	}
	t := &Threshold{}
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "count":
			n, err := strconv.Atoi(val.Value)
			if val.Kind != yaml.ScalarNode || val.Tag != "!!int" || err != nil || n < MinThresholdCount {
				p.errorf(val, r.Name, "threshold.count %q is not a whole number of at least %d; write how many matches fire the rule, such as `count: 20` (a rule that fires on every match needs no threshold)",
					val.Value, MinThresholdCount)
				ok = false
				continue
			}
			t.Count = n
		case "within":
			d := p.duration(r, val, "threshold.within")
			if d == 0 {
				if val.Kind == yaml.ScalarNode && val.Value != "" {
					if _, err := time.ParseDuration(val.Value); err == nil {
						p.errorf(val, r.Name, "threshold.within must be at least %s; write the window the matches are counted in, such as `within: 10m`", ShortDuration(MinThresholdWithin))
					}
				}
				ok = false
				continue
			}
			if d < MinThresholdWithin {
				p.errorf(val, r.Name, "threshold.within %s is shorter than %s; write a window of a minute or more, such as `within: 10m`", val.Value, ShortDuration(MinThresholdWithin))
				ok = false
				continue
			}
			t.Within = d
		case "by":
			if !p.parseThresholdBy(r, t, val) {
				ok = false
			}
		default:
			p.errorf(k, r.Name, "unknown key %q in threshold%s", k.Value, suggest(k.Value, thresholdKeys))
			ok = false
		}
	}
	for _, key := range []string{"count", "within"} {
		if !seen[key] {
			p.errorf(v, r.Name, "threshold needs %s; write `threshold: {count: 20, within: 10m, by: [phone_number_id]}`", key)
			ok = false
		}
	}
	if ok {
		r.Threshold = t
	}
}

// parseThresholdBy reads the fields a threshold counts apart by: one
// name or a list of them, each a field that holds one value.
func (p *fileParser) parseThresholdBy(r *Rule, t *Threshold, v *yaml.Node) bool {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	names := GroupFields()
	ok := true
	for _, item := range items {
		name, isStr := p.str(item, r.Name, "each field in threshold.by")
		if !isStr {
			ok = false
			continue
		}
		idx, known := scalarFields[name]
		switch {
		case known && slices.Contains(t.By, name):
			p.errorf(item, r.Name, "threshold.by names %s twice; name it once", name)
			ok = false
		case known:
			t.By = append(t.By, name)
			t.by = append(t.by, idx)
		case slices.Contains(eventNames(), name):
			p.errorf(item, r.Name, "threshold.by: %s holds a list or a group, not one value to count by; count by a field such as phone_number_id, waba_id or template_name", name)
			ok = false
		default:
			p.errorf(item, r.Name, "threshold.by: %q is not an event field%s", name, suggest(name, names))
			ok = false
		}
	}
	return ok
}

// checkThreshold refuses what a threshold cannot go with: it counts the
// matches of a rule that opens incidents, and the incident is the one of
// its count, so it has no key of its own.
func (p *fileParser) checkThreshold(r *Rule, n *yaml.Node, seen map[string]bool) {
	if r.Threshold == nil {
		return
	}
	if r.Action != notification.Trigger {
		p.errorf(n, r.Name, "a rule with action: %s cannot have a threshold; a threshold counts the matches of a rule that opens incidents", r.Action)
	}
	if seen["incident"] || r.DedupKey != "" {
		p.errorf(n, r.Name, "a rule with a threshold keeps one incident per value of threshold.by; take out incident.key (or dedup.key) and name the fields in threshold.by")
	}
}

// thresholdTexts are the title and body of a threshold rule that writes
// none: what was counted, and the latest match in the event's own words.
func thresholdTexts(r *Rule, ev event.Event, title, body string) (string, string) {
	t := r.Threshold
	key := t.Key(r.Name, ev)
	return fmt.Sprintf("Rule %q matched %d times within %s for %s", r.Name, t.Count, ShortDuration(t.Within), t.Counted(r.Name, key)),
		fmt.Sprintf("The latest: %s. %s", strings.TrimSuffix(title, "."), body)
}

// ShortDuration writes d as a rule writes it: 10m, 1h30m, 90s, not
// 10m0s.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
