package sinks

import (
	"strings"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// Fact is one labelled detail of a notification, shown by the sinks
// that render for humans (Slack fields, email table).
type Fact struct {
	Name  string
	Value string
}

// Facts lists the event's details worth showing, in a fixed order,
// leaving out what the event does not carry: WABA, phone number,
// template, event (field/event), restrictions with expiry in UTC, ban,
// quality, reason, alert, the rule and, for a notification handed over
// by a sink that could not deliver it, that sink and its error.
func Facts(n notification.Notification) []Fact {
	ev := n.Event
	var fs []Fact
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, Fact{name, value})
		}
	}
	add("WABA", ev.WabaID)
	add("Phone number", ev.PhoneNumber)
	if ev.TemplateName != "" {
		tpl := ev.TemplateName
		if ev.TemplateLanguage != "" {
			tpl += " (" + ev.TemplateLanguage + ")"
		}
		add("Template", tpl)
	}
	evName := ev.Field
	if ev.Event != "" {
		evName += "/" + ev.Event
	}
	add("Event", evName)
	if len(ev.Restrictions) > 0 {
		lines := make([]string, 0, len(ev.Restrictions))
		for _, r := range ev.Restrictions {
			l := r.Type
			if !r.Expiration.IsZero() {
				l += " until " + r.Expiration.UTC().Format("2006-01-02 15:04 UTC")
			}
			lines = append(lines, l)
		}
		add("Restrictions", strings.Join(lines, "\n"))
	}
	if ev.BanState != "" {
		ban := ev.BanState
		if !ev.BanDate.IsZero() {
			ban += " on " + ev.BanDate.UTC().Format("2006-01-02 UTC")
		}
		add("Ban", ban)
	}
	if ev.NewQualityScore != "" {
		q := ev.NewQualityScore
		if ev.PreviousQualityScore != "" {
			q = ev.PreviousQualityScore + " → " + q
		}
		add("Quality", q)
	}
	add("Reason", ev.Reason)
	if ev.AlertType != "" {
		a := ev.AlertType
		if ev.AlertSeverity != "" {
			a += " (" + ev.AlertSeverity + ")"
		}
		add("Alert", a)
	}
	add("Rule", n.Rule)
	if fb := n.FallbackFor; fb != nil {
		// Last, so a reader sees the alert first and then why it came here.
		add("Fallback for", fb.Sink+": "+fb.Reason)
	}
	return fs
}
