package email

import (
	"context"
	"html"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
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

// sweepFixtures are every notification the sweep sends: the samples, an
// incident's transitions and the rich samples.
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

// TestSweep sends every fixture through an SMTP server and checks the
// mail it received, as a reader would: a subject within 200 characters,
// both parts naming the account and the severity in words, linking to
// WhatsApp Manager and the runbook, carrying Meta's description whole and
// the incident's state (or saying a change is no incident), the text part
// free of HTML, the HTML part made for a phone, Auto-Submitted set and no
// line over RFC 5322's 998.
func TestSweep(t *testing.T) {
	srv := e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: user, Password: password})
	s := lifecycleSink(t, srv)
	fixtures := sweepFixtures()
	srv.Want(len(fixtures), "a mail per fixture", func(e2etest.Mail) bool { return true })
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			n := f.Notification
			before := srv.Len()
			if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
				t.Fatal(err)
			}
			mails := srv.Received()
			if len(mails) != before+1 {
				t.Fatalf("the server holds %d mails, want %d:\n%s", len(mails), before+1, srv.Report())
			}
			m := mails[before]
			checkMail(t, n, m)
		})
	}
	srv.Check(t)
}

func checkMail(t *testing.T, n notification.Notification, m e2etest.Mail) {
	t.Helper()
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	page := html.UnescapeString(strings.ReplaceAll(m.HTML, "\r\n", "\n"))
	both := func(what, s string) {
		t.Helper()
		if !strings.Contains(text, s) {
			t.Errorf("the text part lacks %s %q:\n%s", what, s, text)
		}
		if !strings.Contains(page, s) {
			t.Errorf("the HTML part lacks %s %q:\n%s", what, s, page)
		}
	}

	if c := utf8.RuneCountInString(m.Subject); c > 200 || c == 0 {
		t.Errorf("subject of %d characters: %q", c, m.Subject)
	}
	if m.Subject != Subject(n) {
		t.Errorf("subject %q, want %q", m.Subject, Subject(n))
	}
	for i, l := range strings.Split(string(m.Data), "\r\n") {
		if len(l) > 998 {
			t.Errorf("line %d is %d characters", i, len(l))
		}
	}
	if got := m.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if !strings.Contains(m.HTML, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
		t.Error("the HTML part has no viewport")
	}

	if name := n.Event.Account.Name; name != "" {
		both("the account's name", name)
	}
	both("the account", sinks.Who(n))
	word := n.Severity.Word()
	if !strings.Contains(text, "\nSeverity: "+word+"\n") {
		t.Errorf("the text part does not say the severity %q:\n%s", word, text)
	}
	if !strings.Contains(page, ">"+word+"</span>") {
		t.Errorf("the HTML part has no %q badge", word)
	}
	if u := sinks.ManagerURL(n); u != "" {
		if !strings.Contains(text, "\nWhatsApp Manager: "+u+"\n") {
			t.Errorf("the text part does not link to %s", u)
		}
		if !strings.Contains(page, `href="`+u+`"`) {
			t.Errorf("the HTML part does not link to %s", u)
		}
	}
	if u := n.Runbook; u != "" {
		if !strings.Contains(text, "\nWhat to do: "+u+"\n") {
			t.Errorf("the text part does not link to the runbook %s", u)
		}
		if !strings.Contains(page, `href="`+u+`"`) {
			t.Errorf("the HTML part does not link to the runbook %s", u)
		}
	}
	if desc := lines(sinks.Description(n)); len(desc) > 0 {
		if !strings.Contains(text, "Meta's description:\n"+strings.Join(desc, "\n")+"\n") {
			t.Errorf("the text part lacks Meta's description %q:\n%s", desc, text)
		}
		at := 0
		for _, l := range desc {
			i := strings.Index(page[at:], ">"+l+"</p>")
			if i < 0 {
				t.Errorf("the HTML part lacks Meta's line %q (in order)", l)
				break
			}
			at += i
		}
	}
	switch {
	case n.Incident != nil:
		state := sinks.IncidentFacts(n)[0].Value
		both("the incident's state", "Incident: ")
		if !strings.Contains(text, "\nIncident: "+state+", ") || !strings.Contains(text, "\nState: "+state+"\n") {
			t.Errorf("the text part does not give the incident's state %q:\n%s", state, text)
		}
	case n.Action == notification.Change:
		both("that it is no incident", infoLine)
		if strings.Contains(text, "\nState: ") || strings.Contains(text, "\nIncident: ") {
			t.Errorf("a change shows an incident state:\n%s", text)
		}
	}
	for _, tag := range []string{"<p", "</", "<br", "<a ", "<span", "<table", "&amp;", "&lt;", "&gt;", "&#", "&quot;"} {
		if strings.Contains(text, tag) {
			t.Errorf("the text part carries HTML %q:\n%s", tag, text)
		}
	}
}
