package rules

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/words"
)

var funcs = template.FuncMap{
	"phone":        words.Phone,
	"utc":          words.UTC,
	"join":         strings.Join,
	"human":        words.Enum,
	"capitalized":  words.Capitalized,
	"after":        after,
	"restrictions": restrictionPhrase,
	"sentence":     sentence,
}

// after reports whether t is later than ref; ref is meant to be the
// event's .time, so that a date reads in the future tense ("will be
// banned on") the same way whenever the event is rendered. A zero t is
// never after anything.
func after(t, ref time.Time) bool { return words.Future(t, ref) }

// sentence ends s with exactly one full stop, since Meta's texts sometimes
// carry their own.
func sentence(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".") + "."
}

func newTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
}

var timeType = reflect.TypeFor[time.Time]()

// templateField is one field of a struct as templates see it: its json
// name and, for the groups inside an event, its Go name as an alias.
type templateField struct {
	index        int
	name, goName string
}

var templateFields sync.Map // reflect.Type → []templateField

func fieldsOf(t reflect.Type) []templateField {
	if fs, ok := templateFields.Load(t); ok {
		return fs.([]templateField)
	}
	var fs []templateField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && f.IsExported() {
			fs = append(fs, templateField{index: i, name: name, goName: f.Name})
		}
	}
	templateFields.Store(t, fs)
	return fs
}

// templateData is the event as templates see it: a map keyed by the json
// names of `wabarouter parse` and `when` at every level, so
// {{.other_info.title}} and {{range .errors}}{{.code}}{{end}} work. Groups
// and lists of groups become maps (and lists of maps); times stay
// time.Time for utc and their methods, lists of text stay []string for
// join, and every field is present, empty when Meta did not send it, as in
// `when`. Inside groups the capitalised Go names ({{.other_info.Title}})
// of earlier versions are kept as aliases.
func templateData(ev event.Event) map[string]any {
	return structData(reflect.ValueOf(ev), false)
}

func structData(v reflect.Value, aliases bool) map[string]any {
	fs := fieldsOf(v.Type())
	n := len(fs)
	if aliases {
		n *= 2
	}
	m := make(map[string]any, n)
	for _, f := range fs {
		x := templateValue(v.Field(f.index))
		m[f.name] = x
		if aliases && f.goName != f.name {
			m[f.goName] = x
		}
	}
	return m
}

func templateValue(v reflect.Value) any {
	t := v.Type()
	switch {
	case t == timeType:
		return v.Interface()
	case t.Kind() == reflect.Struct:
		return structData(v, true)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && t.Elem() != timeType:
		if v.IsNil() {
			return []map[string]any(nil)
		}
		list := make([]map[string]any, v.Len())
		for i := range list {
			list[i] = structData(v.Index(i), true)
		}
		return list
	}
	return v.Interface()
}

func render(t *template.Template, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

var restrictionPhrases = map[string]string{
	"RESTRICTED_ADD_PHONE_NUMBER_ACTION":                   "add phone numbers",
	"RESTRICTION_ON_ADD_PHONE_NUMBER_ACTION":               "add phone numbers",
	"RESTRICTION_ADD_PHONE_NUMBER_ACTION":                  "add phone numbers",
	"RESTRICTED_BIZ_INITIATED_MESSAGING":                   "send business-initiated messages",
	"RESTRICTED_CUSTOMER_INITIATED_MESSAGING":              "reply to customer-initiated conversations",
	"RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING":  "make or receive WhatsApp calls",
	"RESTRICTED_BUSINESS_INITIATED_CALLING":                "place business-initiated calls",
	"RESTRICTED_USER_INITIATED_CALLING":                    "receive calls from customers",
	"RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN": "receive calls from customers (the call button is hidden)",
	"RESTRICTED_DIRECT_SEND_UTILITY_TEMPLATES":             "send utility templates directly",
	"RESTRICTED_UTILITY_TEMPLATES":                         "send utility templates",
}

// restrictionPhrase completes "can no longer ...": one shared "until" when
// every restriction ends together, otherwise one per restriction.
// It takes the restrictions as templates see them (see templateData).
func restrictionPhrase(list []map[string]any) string {
	if len(list) == 0 {
		return "use some features (Meta did not say which)"
	}
	rs := make([]event.Restriction, len(list))
	for i, m := range list {
		rs[i].Type, _ = m["type"].(string)
		rs[i].Expiration, _ = m["expiration"].(time.Time)
	}
	same := true
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = phraseFor(r.Type)
		same = same && r.Expiration.Equal(rs[0].Expiration)
	}
	if same {
		return joinAnd(parts) + until(rs[0].Expiration)
	}
	for i, r := range rs {
		parts[i] += until(r.Expiration)
	}
	return joinAnd(parts)
}

func phraseFor(typ string) string {
	if p, ok := restrictionPhrases[typ]; ok {
		return p
	}
	return fmt.Sprintf("use what %s covers", typ)
}

func until(t time.Time) string {
	if t.IsZero() {
		return " until further notice"
	}
	return " until " + words.UTC(t)
}

func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
