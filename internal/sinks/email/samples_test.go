package email

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// fixture is one notification to render, named.
type fixture struct {
	Name         string
	Notification notification.Notification
}

// richSamples are notifications carrying what the samples of sinkstest
// leave out: a directory's names, a runbook, Meta's description of
// several lines, several restrictions, a change, a notify-test.
func richSamples() []fixture {
	acme := event.Account{Name: "Acme Retail EU & Co", Team: "eu-support", PhoneLabel: "support line"}

	esc := sinkstest.Lifecycle()[2]
	esc.Event.Account = acme
	esc.Runbook = "https://wiki.example.com/runbooks/whatsapp/quality?section=red&lang=en"
	esc.Event.AlertDescription = "Your phone number's quality rating is low: customers block or report its messages.\n" +
		"Review template " + strings.Repeat("order_update_", 12) + "v2 <before> it is paused."

	restricted := sinkstest.Restriction()
	restricted.Event.Account = acme
	restricted.Event.Restrictions = append(restricted.Event.Restrictions,
		event.Restriction{Type: "RESTRICTED_ADD_PHONE_NUMBER_ACTION"},
		event.Restriction{Type: "RESTRICTED_CUSTOMER_INITIATED_MESSAGING", Expiration: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	restricted.Runbook = "https://wiki.example.com/runbooks/whatsapp/restrictions"

	change := sinkstest.TemplatePaused()
	change.ID = "n-template-approved"
	change.Severity = notification.Info
	change.Action = notification.Change
	change.Title = "Template order_update (en_US) APPROVED"
	change.Body = "The template can be sent again."
	change.Suppressed = 0
	change.Event.Event = "APPROVED"
	change.Event.Reason = ""
	change.Event.Account = event.Account{Name: "Acme Retail US"}
	change.Event.OtherInfo = event.OtherInfo{Title: "FIRST_PAUSE", Description: "Your template was paused to protect your quality rating."}

	test := sinkstest.Ban()
	test.ID = "n-notify-test"
	test.Test = true
	test.Event.Account = event.Account{Name: "Acme Retail EU"}

	return []fixture{
		{"rich_escalated", esc},
		{"rich_restriction", restricted},
		{"change", change},
		{"notify_test", test},
	}
}

// sweepFixtures are the notifications of this package's own making that
// the sweep sends besides messagetest's: the samples, an incident's
// transitions and the rich samples.
func sweepFixtures() []fixture {
	var fs []fixture
	for name, n := range sinkstest.All() {
		fs = append(fs, fixture{name, n})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	for _, n := range sinkstest.Lifecycle() {
		fs = append(fs, fixture{"lifecycle_" + string(n.Incident.Transition), n})
	}
	return append(fs, richSamples()...)
}

// TestRichGolden: the rich samples' bodies against testdata.
func TestRichGolden(t *testing.T) {
	for _, f := range richSamples() {
		t.Run(f.Name, func(t *testing.T) { checkGolden(t, f.Name, f.Notification) })
	}
}
