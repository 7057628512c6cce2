package email

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest/play"
)

func lifecycleSink(t *testing.T, srv *e2etest.SMTPServer) *Sink {
	t.Helper()
	s, err := New(Config{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, Username: user, Password: password,
		From: "wabarouter@example.com", To: []string{"legal@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestLifecycle: the first mail about an incident replies to nothing and
// its Message-ID and subject come back as the Thread; the escalation and
// the resolve reply to it (In-Reply-To and References), under its subject
// with "Re: ", at the incident's priority (the resolve included), and
// open with what changed.
func TestLifecycle(t *testing.T) {
	srv := e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: user, Password: password})
	s := lifecycleSink(t, srv)
	all := sinkstest.Lifecycle()
	// Routing gives e-mail no updated transitions.
	receipts := play.Through(t, s, []notification.Notification{all[0], all[2], all[3]})
	mails := srv.Received()
	if len(mails) != 3 {
		t.Fatalf("%d mails:\n%s", len(mails), srv.Report())
	}
	first := mails[0]
	rootSubject := "[WARNING] Quality of +1 650-555-1234 is YELLOW"
	id := first.Header.Get("Message-Id")
	if first.Subject != rootSubject || first.Header.Get("In-Reply-To") != "" || first.Header.Get("References") != "" ||
		first.Header.Get("Importance") != "Normal" || first.Header.Get("Thread-Topic") != rootSubject {
		t.Errorf("first mail %s, headers %v", first, first.Header)
	}
	if receipts[0].Ref != id || receipts[0].Thread != id+" "+rootSubject {
		t.Errorf("first receipt %+v, want Ref %q and Thread %q", receipts[0], id, id+" "+rootSubject)
	}
	for i, want := range []string{
		"Escalated: severity warning → error; worse: phone_number_quality_update/DOWNGRADE RED",
		"Resolved: ended by phone_number_quality_update/UPGRADE GREEN",
	} {
		m := mails[i+1]
		h := m.Header
		if h.Get("In-Reply-To") != id || h.Get("References") != id || m.Subject != "Re: "+rootSubject ||
			h.Get("Thread-Topic") != rootSubject || h.Get("Message-Id") == id {
			t.Errorf("follow-up %d: %s, In-Reply-To %q, References %q, Message-Id %q; want replies to %q under %q",
				i+1, m, h.Get("In-Reply-To"), h.Get("References"), h.Get("Message-Id"), id, "Re: "+rootSubject)
		}
		// The incident is at error now; the resolve keeps that.
		if h.Get("Importance") != "High" || h.Get("X-Priority") != "1" {
			t.Errorf("follow-up %d: Importance %q, X-Priority %q; want the incident's High", i+1, h.Get("Importance"), h.Get("X-Priority"))
		}
		text := strings.ReplaceAll(m.Text, "\r\n", "\n")
		if _, after, ok := strings.Cut(text, "\n\n"); !ok || !strings.HasPrefix(after, want+"\n") || !strings.Contains(m.HTML, "<b>"+want+"</b>") {
			t.Errorf("follow-up %d does not open with %q:\n%s", i+1, want, m.Text)
		}
		if receipts[i+1].Thread != "" {
			t.Errorf("follow-up %d returned a thread: %+v", i+1, receipts[i+1])
		}
	}
	if resolve := strings.ReplaceAll(mails[2].Text, "\r\n", "\n"); !strings.Contains(resolve, "\nState: Resolved\n") || strings.Count(resolve, "Resolved: ended by") != 1 {
		t.Errorf("the resolve's body:\n%s", mails[2].Text)
	}
	srv.Want(3, "the incident's mails", func(e2etest.Mail) bool { return true })
	srv.Check(t)
}

// TestFirstHearsAtEscalation: a sink that first hears of an incident at
// its escalation has no Thread to reply to, so its mail is the first of
// the conversation, which the resolve replies to.
func TestFirstHearsAtEscalation(t *testing.T) {
	srv := e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: user, Password: password})
	receipts := play.Through(t, lifecycleSink(t, srv), sinkstest.Lifecycle()[2:])
	mails := srv.Received()
	if len(mails) != 2 {
		t.Fatalf("%d mails", len(mails))
	}
	id := mails[0].Header.Get("Message-Id")
	if mails[0].Header.Get("In-Reply-To") != "" || receipts[0].Thread != id+" [ERROR] Quality of +1 650-555-1234 is RED" {
		t.Errorf("first mail In-Reply-To %q, receipt %+v", mails[0].Header.Get("In-Reply-To"), receipts[0])
	}
	if mails[1].Header.Get("In-Reply-To") != id || mails[1].Subject != "Re: [ERROR] Quality of +1 650-555-1234 is RED" {
		t.Errorf("resolve %s In-Reply-To %q", mails[1], mails[1].Header.Get("In-Reply-To"))
	}
}

func TestParseThread(t *testing.T) {
	cases := []struct{ thread, parent, subject string }{
		{"<a.b@wabarouter> [ERROR] WABA  banned", "<a.b@wabarouter>", "[ERROR] WABA banned"},
		{"<a.b@wabarouter>", "<a.b@wabarouter>", ""},
		{"", "", ""},
		{"C123:1700000000.000100", "", ""},
		{"<a\r\nBcc: x@example.com> s", "", ""},
		{"<> s", "", ""},
	}
	for _, c := range cases {
		if p, s := ParseThread(c.thread); p != c.parent || s != c.subject {
			t.Errorf("ParseThread(%q) = %q, %q; want %q, %q", c.thread, p, s, c.parent, c.subject)
		}
	}
}

// TestLifecycleGolden: the bodies of an incident's mails, for each
// transition, against testdata.
func TestLifecycleGolden(t *testing.T) {
	for _, n := range sinkstest.Lifecycle() {
		name := "lifecycle_" + string(n.Incident.Transition)
		t.Run(name, func(t *testing.T) { checkGolden(t, name, n) })
	}
}
