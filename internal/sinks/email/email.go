package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"strings"

	mail "github.com/wneessen/go-mail"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// Headers go-mail has no name for.
const (
	headerThreadTopic          = mail.Header("Thread-Topic")
	headerAutoSubmitted        = mail.Header("Auto-Submitted")
	headerAutoResponseSuppress = mail.Header("X-Auto-Response-Suppress")
)

// Config is an email sink's settings.
type Config struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string // never printed
	TLS      string // "starttls" (default), "tls" or "none"
	CAFile   string // PEM bundle trusted instead of the system roots
	From     string
	To       []string
}

// Sink sends notifications by SMTP.
type Sink struct {
	cfg     Config
	opts    []mail.Option
	secrets sinks.Secrets
}

// New validates cfg and reads CAFile.
func New(cfg Config) (*Sink, error) {
	if cfg.Host == "" {
		return nil, errors.New("email sink: host is empty")
	}
	if cfg.From == "" || len(cfg.To) == 0 {
		return nil, errors.New("email sink: from and to are required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	tlsConf := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email sink: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email sink: ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	opts := []mail.Option{mail.WithTLSConfig(tlsConf)}
	port := cfg.Port
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		if port == 0 {
			port = 587
		}
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
		if port == 0 {
			port = 465
		}
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		if port == 0 {
			port = 25
		}
	default:
		return nil, fmt.Errorf("email sink: tls %q: want starttls, tls or none", cfg.TLS)
	}
	opts = append(opts, mail.WithPort(port))
	if cfg.Username != "" {
		auth := mail.SMTPAuthPlain
		if cfg.TLS == TLSNone {
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	// Validate the addresses once, now, rather than on every send.
	if _, err := message(cfg, notification.Notification{}, ""); err != nil {
		return nil, err
	}
	return &Sink{cfg: cfg, opts: opts, secrets: sinks.NewSecrets(cfg.Password)}, nil
}

// message builds the mail for n. thread is the incident's Thread, what
// the sink's first mail about it returned ("" for that first mail): a
// follow-up replies to that mail (In-Reply-To and References) under its
// subject, so every mail client files the incident as one conversation.
func message(cfg Config, n notification.Notification, thread string) (*mail.Msg, error) {
	m := mail.NewMsg()
	if err := m.From(cfg.From); err != nil {
		return nil, fmt.Errorf("email sink: from: %w", err)
	}
	if err := m.To(cfg.To...); err != nil {
		return nil, fmt.Errorf("email sink: to: %w", err)
	}
	subject := Subject(n)
	topic := subject
	if parent, rootSubject := ParseThread(thread); parent != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, parent)
		m.SetGenHeader(mail.HeaderReferences, parent)
		if rootSubject != "" {
			topic = rootSubject
			subject = "Re: " + rootSubject
		}
	}
	// A subject cut before Thread stored it could make "Re: " one too long.
	subject = sinks.Truncate(subject, maxSubject)
	m.SetGenHeaderPreformatted(mail.HeaderSubject, foldText(string(mail.HeaderSubject), subject))
	// Outlook files a conversation by its topic.
	m.SetGenHeaderPreformatted(headerThreadTopic, foldText(string(headerThreadTopic), topic))
	m.SetMessageIDWithValue(MessageID(n))
	imp, xp := Priority(n.Severity)
	m.SetGenHeader(mail.HeaderImportance, imp)
	m.SetGenHeader(mail.HeaderXPriority, xp)
	// RFC 3834: no vacation responder or ticket system should answer an
	// alert, and Exchange's own auto-replies honour only its header.
	m.SetGenHeader(headerAutoSubmitted, "auto-generated")
	m.SetGenHeader(headerAutoResponseSuppress, "All")
	if !n.CreatedAt.IsZero() {
		m.SetDateWithValue(n.CreatedAt)
	} else {
		m.SetDate()
	}
	text, err := TextBody(n)
	if err != nil {
		return nil, fmt.Errorf("email sink: %w", err)
	}
	html, err := HTMLBody(n)
	if err != nil {
		return nil, fmt.Errorf("email sink: %w", err)
	}
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, nil
}

// Thread is what the first mail about an incident returns as its
// receipt's Thread: its Message-ID in angle brackets, a space, and its
// subject, which the follow-ups reply to and keep.
func Thread(messageID, subject string) string { return "<" + messageID + "> " + subject }

// ParseThread splits a Thread into the Message-ID to reply to (with its
// angle brackets) and the subject to keep; both are "" for an empty or
// malformed thread.
func ParseThread(thread string) (parent, subject string) {
	id, subject, _ := strings.Cut(thread, " ")
	if len(id) < 3 || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || strings.ContainsAny(id[1:len(id)-1], "<>\r\n") {
		return "", ""
	}
	return id, strings.Join(strings.Fields(subject), " ")
}

// Send mails n. The receipt's Ref is the Message-ID; the first mail about
// an incident also returns it, with its subject, as the Thread its
// follow-ups and its resolve reply to.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	m, err := message(s.cfg, n, d.Thread)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(err)
	}
	c, err := mail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(s.secrets.Error(fmt.Errorf("email sink: client: %w", err)))
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return sinks.Receipt{}, s.classify(err)
	}
	id := MessageID(n)
	r := sinks.Receipt{Ref: "<" + id + ">", Detail: fmt.Sprintf("accepted by %s for %s", s.cfg.Host, strings.Join(s.cfg.To, ", "))}
	if n.Incident != nil {
		if parent, _ := ParseThread(d.Thread); parent == "" {
			r.Thread = Thread(id, Subject(n))
		}
	}
	return r, nil
}

// Code returns the SMTP reply code carried by err, 0 if none.
func Code(err error) int {
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// classify: 5xx permanent (535 with a hint), 4xx and connection errors
// retryable.
func (s *Sink) classify(err error) error {
	code := Code(err)
	err = s.secrets.Error(fmt.Errorf("email sink: %s:%d: %w", s.cfg.Host, s.port(), err))
	switch {
	case code == 535:
		return sinks.Permanent(fmt.Errorf("%w (authentication failed: check username and password)", err))
	case code >= 500:
		return sinks.Permanent(err)
	case code >= 400:
		return sinks.Retryable(err, 0)
	}
	return err
}

func (s *Sink) port() int {
	if s.cfg.Port != 0 {
		return s.cfg.Port
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	}
	return 587
}

// Close has nothing to give back: each send has a connection of its own.
func (s *Sink) Close() error { return nil }
