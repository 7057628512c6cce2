package e2etest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpMaxLine is RFC 5322's limit on a line of a message, CRLF excluded.
const smtpMaxLine = 998

// Mail is one message an SMTPServer accepted.
type Mail struct {
	// At is when the message's data arrived.
	At time.Time
	// From and To are the envelope's sender and recipients.
	From string
	To   []string
	// Data is the message as sent.
	Data []byte
	// Header is the message's header; Subject is its decoded Subject.
	Header  mail.Header
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts.
	Text, HTML string
}

// String describes the message in reports.
func (m Mail) String() string {
	return fmt.Sprintf("from=%s to=%v subject=%q", m.From, m.To, m.Subject)
}

// SMTPOptions configure an SMTPServer.
type SMTPOptions struct {
	// Username and Password, when set, are the only PLAIN credentials
	// accepted, and a message needs them; empty means no authentication.
	Username, Password string
	// Respond, when set, may refuse a message that parsed: return an
	// *smtp.SMTPError for its code (4xx is temporary, 5xx permanent).
	// Refused messages are not recorded.
	Respond func(Mail) error
}

// SMTPServer is a mail server for the email sink, on go-smtp: it
// authenticates with PLAIN (without TLS, for tls: none), and accepts a
// message only if it parses as MIME with every line within RFC 5322's 998
// characters. A message that does not is refused with 554 and recorded as
// refused, which fails Check.
type SMTPServer struct {
	*Collector[Mail]
	opts SMTPOptions
	addr *net.TCPAddr
}

// ServeSMTP serves a mail server on a loopback port until t ends.
func ServeSMTP(t TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	s := &SMTPServer{Collector: NewCollector("smtp", Mail.String), opts: opts}
	srv := smtp.NewServer(smtpBackend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = true
	// Long lines are judged by ParseMail, which records the refusal,
	// rather than by the transport, which would only drop the connection.
	srv.MaxLineLength = 1 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp server: %v", err)
	}
	s.addr = l.Addr().(*net.TCPAddr)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Host is the server's address, for the sink's host.
func (s *SMTPServer) Host() string { return s.addr.IP.String() }

// Port is the server's port, for the sink's port.
func (s *SMTPServer) Port() int { return s.addr.Port }

type smtpBackend struct{ s *SMTPServer }

// NewSession starts one SMTP conversation.
func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s}, nil
}

type smtpSession struct {
	s      *SMTPServer
	authed bool
	from   string
	to     []string
}

// AuthMechanisms offers PLAIN when the server has credentials.
func (ss *smtpSession) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against the server's.
func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			ss.s.Refuse("AUTH PLAIN with wrong credentials")
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

// Mail starts a message, once authenticated if the server asks for it.
func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		ss.s.Refuse("MAIL FROM without authenticating")
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

// Rcpt adds a recipient.
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

// Data parses the message and records it, or refuses it.
func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading DATA: %w", err)
	}
	m, err := ParseMail(data)
	if err != nil {
		ss.s.Refuse(err.Error())
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	m.At, m.From, m.To = time.Now(), ss.from, append([]string(nil), ss.to...)
	if ss.s.opts.Respond != nil {
		if err := ss.s.opts.Respond(m); err != nil {
			return err
		}
	}
	ss.s.Add(m)
	return nil
}

// Reset forgets the message under way.
func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

// Logout ends the conversation; there is nothing to free.
func (ss *smtpSession) Logout() error { return nil }

// ParseMail reads a MIME message: its header, decoded subject and its
// text/plain and text/html parts (nested multiparts, quoted-printable and
// base64 included). It refuses a line longer than 998 characters.
func ParseMail(data []byte) (Mail, error) {
	m := Mail{Data: data}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), len(data)+1)
	for n := 1; sc.Scan(); n++ {
		if l := len(strings.TrimSuffix(sc.Text(), "\r")); l > smtpMaxLine {
			return m, fmt.Errorf("line %d has %d characters, more than RFC 5322's %d", n, l, smtpMaxLine)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return m, fmt.Errorf("not a mail message: %w", err)
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("subject %q: %w", msg.Header.Get("Subject"), err)
	}
	if err := readPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return m, err
	}
	return m, nil
}

// readPart decodes one part into m, descending into multiparts.
func readPart(m *Mail, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading a %s part: %w", mt, err)
			}
			// multipart.Reader has already undone quoted-printable.
			if err := readPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("reading a %s part: %w", mt, err)
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies wrap with.
type newlineStripper struct{ r io.Reader }

// Read reads from the wrapped reader without CR and LF.
func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
