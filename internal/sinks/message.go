package sinks

import (
	"net/url"
	"strings"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/words"
)

// Who names what n is about as a person knows it: the directory's name
// for the account, else "WABA <id>", then the phone number in one format
// with its label: "Acme Retail EU — +1 650-555-1111 (support line)".
func Who(n notification.Notification) string {
	ev := n.Event
	who := ev.Account.Name
	if who == "" {
		who = "WABA " + ev.WabaID
		if ev.WabaID == "" {
			who = "WABA (id not sent)"
		}
	}
	if p := words.Phone(ev.PhoneNumber); p != "" {
		who += " — " + p
		if ev.Account.PhoneLabel != "" {
			who += " (" + ev.Account.PhoneLabel + ")"
		}
	}
	return who
}

// Link is one link a message offers its reader.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Message is what a person reads of a notification, worked out the same
// way for every sink; the webhook and log sinks write it beside the
// notification, for a receiver that shows it to people.
type Message struct {
	// Who names the account and number (see Who).
	Who string `json:"who"`
	// Severity is the severity in words: Critical, Error, Warning, Info.
	Severity string `json:"severity"`
	// Description is Meta's own explanation, whole (see Description).
	Description string `json:"description,omitempty"`
	ManagerURL  string `json:"manager_url,omitempty"`
	Links       []Link `json:"links,omitempty"`
}

// MessageOf works out n's Message.
func MessageOf(n notification.Notification) Message {
	return Message{Who: Who(n), Severity: n.Severity.Word(), Description: Description(n), ManagerURL: ManagerURL(n), Links: Links(n)}
}

// ManagerURL is the WhatsApp Manager page for what n is about: the
// message templates page for a template, the phone numbers page for a
// number's own updates and messages, the flows page for a flow, else the
// account's overview. It is "" when Meta sent no WABA id.
func ManagerURL(n notification.Notification) string {
	ev := n.Event
	if ev.WabaID == "" {
		return ""
	}
	// An account-level event that names a number (a restriction, an
	// alert) is still the account's: its overview shows what happened.
	page := "home"
	switch {
	case ev.TemplateName != "" || ev.TemplateID != "" || strings.HasPrefix(ev.Field, "message_template") || strings.HasPrefix(ev.Field, "template_"):
		page = "message-templates"
	case ev.FlowID != "" || ev.Field == "flows":
		page = "flows"
	case strings.HasPrefix(ev.Field, "phone_number") || ev.Field == "messages":
		page = "phone-numbers"
	}
	return "https://business.facebook.com/wa/manage/" + page + "/?waba_id=" + url.QueryEscape(ev.WabaID)
}

// Links are the links a message offers, in order: WhatsApp Manager, then
// the runbook (the "what to do" link) when n has one.
func Links(n notification.Notification) []Link {
	var ls []Link
	if u := ManagerURL(n); u != "" {
		ls = append(ls, Link{Label: "Open in WhatsApp Manager", URL: u})
	}
	if n.Runbook != "" {
		ls = append(ls, Link{Label: "What to do (runbook)", URL: n.Runbook})
	}
	return ls
}

// Description is Meta's own explanation of the event, whole, where Meta
// sent one: an alert's description, a template status's other_info, a
// restriction's remediation (what Meta advises to lift it), a failed
// message's error details. It is "" otherwise. Sinks show it in full,
// within their destination's limits.
func Description(n notification.Notification) string {
	ev := n.Event
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	add(ev.AlertDescription)
	if ev.OtherInfo.Title != "" && ev.OtherInfo.Description != "" {
		add(words.Capitalized(ev.OtherInfo.Title) + ": " + ev.OtherInfo.Description)
	} else {
		add(ev.OtherInfo.Description)
	}
	for _, r := range ev.Restrictions {
		if advice := strings.TrimSpace(r.Remediation); advice != "" {
			add("What Meta advises: " + advice)
		}
	}
	for _, e := range ev.Errors {
		if e.Details != "" && e.Details != e.Title {
			add(strings.TrimRight(e.Title, ". ") + ". " + e.Details)
		} else {
			add(e.Title)
		}
	}
	return StripBidi(strings.Join(parts, "\n"))
}
