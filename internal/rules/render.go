package rules

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

var funcs = template.FuncMap{
	"phone":        phone,
	"utc":          utc,
	"join":         strings.Join,
	"human":        human,
	"restrictions": restrictionPhrase,
	"sentence":     sentence,
}

// sentence ends s with exactly one full stop, since Meta's texts sometimes
// carry their own.
func sentence(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".") + "."
}

func newTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
}

// templateData maps the event's json field names to its typed values, so
// templates read {{.waba_id}} like `wabarouter parse` output.
func templateData(ev event.Event) map[string]any {
	v := reflect.ValueOf(ev)
	t := v.Type()
	m := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = v.Field(i).Interface()
		}
	}
	return m
}

func render(t *template.Template, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

// phone formats a bare number: +1 650-555-1111 for North American
// numbers, otherwise + and the digits, since grouping varies by country.
func phone(s string) string {
	d := strings.TrimPrefix(s, "+")
	if d == "" {
		return ""
	}
	if len(d) == 11 && d[0] == '1' {
		return fmt.Sprintf("+1 %s-%s-%s", d[1:4], d[4:7], d[7:])
	}
	return "+" + d
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// human turns an enum such as BIZ_INITIATED into "biz initiated".
func human(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", " "))
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
func restrictionPhrase(rs []event.Restriction) string {
	if len(rs) == 0 {
		return "use some features (Meta did not say which)"
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
	return " until " + utc(t)
}

func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
