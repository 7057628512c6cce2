package email

import (
	"bytes"
	"context"
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestMessageBounded: a 600,000-character title (with a bidi override)
// and a 1.2 MB description make a mail whose subject is at most 200
// characters without the override, whose every line, headers included,
// stays within RFC 5322's 998, and whose size stays reasonable.
func TestMessageBounded(t *testing.T) {
	for _, title := range []string{strings.Repeat("T", 600_000), strings.Repeat("é", 600_000), strings.Repeat("word ", 120_000)} {
		be := &backend{}
		port, _ := serve(t, be, false)
		s, err := New(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		n := sinkstest.AccountAlert()
		n.ID = strings.Repeat("i", 5000)
		n.Title = "\u202e" + title
		n.Body = strings.Repeat("description ", 100_000)
		n.Event.AlertDescription = n.Body
		n.Event.Reason = strings.Repeat("r", 600_000)
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
			t.Fatal(err)
		}
		be.mu.Lock()
		data := be.msgs[0].data
		be.mu.Unlock()
		if len(data) > 256<<10 {
			t.Errorf("mail is %d bytes", len(data))
		}
		for i, line := range bytes.Split(data, []byte("\r\n")) {
			if len(line) > 998 {
				t.Errorf("line %d is %d characters: %.80q", i, len(line), line)
			}
		}
		msg, text, _ := parts(t, data)
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if utf8.RuneCountInString(subject) > 200 || strings.Contains(subject, "\u202e") || !strings.HasPrefix(subject, "[INFO] Resolved: "+title[:5]) {
			t.Errorf("subject of %d characters: %.40q", utf8.RuneCountInString(subject), subject)
		}
		if !strings.Contains(text, "description description") {
			t.Error("the body lost the description")
		}
	}
}

// TestPasswordNotInEchoedErrors: a server that quotes the password in
// its refusal, of the login or of a recipient, leaves it out of the
// error the router logs and stores.
func TestPasswordNotInEchoedErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		be   *backend
	}{
		{"login", &backend{echoPassword: true}},
		{"recipient", &backend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "no mailbox for user " + user + " with password " + password}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			port, ca := serve(t, c.be, false)
			s, err := New(Config{Host: "127.0.0.1", Port: port, Username: user, Password: password, CAFile: ca,
				From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), "<redacted>") {
				t.Errorf("the server's answer did not reach the error: %v", err)
			}
			sinkstest.AssertNoSecret(t, password, err.Error())
		})
	}
}
