package rules

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Meta's help pages for the common cases, the default "what to do" link of
// an event whose rule names no runbook of its own. Policy enforcement says
// what restrictions and bans mean and how to appeal them (through Business
// Support Home, which is where its appeal link goes).
const (
	runbookPolicy    = "https://developers.facebook.com/docs/whatsapp/overview/policy-enforcement"
	runbookBanAppeal = "https://business.facebook.com/business-support-home/"
	runbookTemplates = "https://developers.facebook.com/docs/whatsapp/message-templates/guidelines"
	runbookQuality   = "https://developers.facebook.com/docs/whatsapp/messaging-limits"
)

// defaultRunbooks maps "field/EVENT" (or "field") to its help page.
var defaultRunbooks = map[string]string{
	"account_update/ACCOUNT_VIOLATION":        runbookPolicy,
	"account_update/ACCOUNT_RESTRICTION":      runbookPolicy,
	"account_update/DISABLED_UPDATE":          runbookBanAppeal,
	"account_review_update":                   runbookPolicy,
	"message_template_status_update/REJECTED": runbookTemplates,
	"message_template_status_update/PAUSED":   runbookTemplates,
	"message_template_status_update/FLAGGED":  runbookTemplates,
	"message_template_status_update/DISABLED": runbookTemplates,
	"message_template_quality_update":         runbookTemplates,
	"phone_number_quality_update":             runbookQuality,
}

// DefaultRunbook is the help page for ev's kind of event, "" if it has
// none: what a rule without a runbook links to.
func DefaultRunbook(ev event.Event) string {
	if u, ok := defaultRunbooks[ev.Field+"/"+ev.Event]; ok {
		return u
	}
	return defaultRunbooks[ev.Field]
}

// runbook renders r's runbook for ev, or the field's default.
func runbook(r *Rule, ev event.Event, data map[string]any) (string, error) {
	if r.runbook == nil {
		return DefaultRunbook(ev), nil
	}
	u, err := render(r.runbook, data)
	if err != nil {
		return "", err
	}
	if u == "" {
		return DefaultRunbook(ev), nil
	}
	if err := checkRunbookURL(u); err != nil {
		return "", fmt.Errorf("runbook: %w", err)
	}
	return u, nil
}

// checkRunbookURL accepts an absolute http or https URL: a sink shows it
// as a link, and anything else would be a dead or dangerous one.
func checkRunbookURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http or https URL, such as https://wiki.example.com/runbooks/whatsapp-ban", s)
	}
	return nil
}
