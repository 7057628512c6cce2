package email_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
)

// The sweep is outside package email because messagetest stands on the
// router, which builds every sink type, this one included.

// sweep is every notification the sweep sends: each fixture of
// testdata/webhooks as routed with the accounts directory and the default
// texts, then this package's samples.
func sweep(t *testing.T) []messagetest.Fixture {
	fs := messagetest.Fixtures(t)
	if len(fs) == 0 {
		t.Fatal("messagetest made no fixtures")
	}
	for _, f := range email.SweepSamples() {
		fs = append(fs, messagetest.Fixture{Name: "sample/" + f.Name, Notification: f.Notification})
	}
	return fs
}

// TestSweep sends every fixture through an SMTP server and checks the
// mail it received, as a reader would: a subject within 200 characters,
// both parts naming the account and the severity in words, linking to
// WhatsApp Manager and the runbook, carrying Meta's description whole and
// the incident's state (or saying a change is no incident), the text part
// free of HTML, the HTML part made for a phone, Auto-Submitted set and no
// line over RFC 5322's 998.
func TestSweep(t *testing.T) {
	srv := e2etest.ServeSMTP(t, e2etest.SMTPOptions{})
	s, err := email.New(email.Config{Host: srv.Host(), Port: srv.Port(), TLS: email.TLSNone,
		From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fixtures := sweep(t)
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
	if m.Subject != email.Subject(n) {
		t.Errorf("subject %q, want %q", m.Subject, email.Subject(n))
	}
	for i, l := range strings.Split(string(m.Data), "\r\n") {
		if len(l) > 998 {
			t.Errorf("line %d is %d characters", i, len(l))
		}
	}
	// The sink sends what the docs' pictures are taken of.
	if want, err := email.HTMLBody(n); err != nil || strings.ReplaceAll(m.HTML, "\r\n", "\n") != want {
		t.Errorf("the HTML part is not HTMLBody's (err %v)", err)
	}
	if want, err := email.TextBody(n); err != nil || text != want {
		t.Errorf("the text part is not TextBody's (err %v)", err)
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
	if desc := email.Lines(sinks.Description(n)); len(desc) > 0 {
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
		both("that it is no incident", email.InfoLine)
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
