package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.*")

var _ sinks.Sink = (*Sink)(nil)

const (
	user     = "alerts@example.com"
	password = "p4ssw0rd-s3cr3t"
)

// received is one message the test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	auth string
}

type backend struct {
	mu       sync.Mutex
	msgs     []received
	rcptErr  error
	requireA bool
	// echoPassword refuses every login, quoting the password given.
	echoPassword bool
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b   *backend
	cur received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, pw string) error {
		if s.b.echoPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials " + username + ":" + pw}
		}
		if username != user || pw != password {
			return smtp.ErrAuthFailed
		}
		s.cur.auth = username
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.requireA && s.cur.auth == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = received{auth: s.cur.auth} }
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a CA file trusting it.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, caFile
}

// serve starts an SMTP server; implicit selects TLS from the first byte.
func serve(t *testing.T, be *backend, implicit bool) (port int, caFile string) {
	t.Helper()
	cert, caFile := selfSigned(t)
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout = 5 * time.Second
	s.WriteTimeout = 5 * time.Second
	s.AllowInsecureAuth = !implicit
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		l = tls.NewListener(l, tc)
	} else {
		s.TLSConfig = tc
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return l.Addr().(*net.TCPAddr).Port, caFile
}

// parts splits a received message into headers, text and HTML bodies.
func parts(t *testing.T, data []byte) (*mail.Message, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text, html string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p) // decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = body
		case "text/html":
			html = body
		}
	}
	return msg, text, html
}

func TestSendStartTLSAndImplicitTLS(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{requireA: true}
			port, ca := serve(t, be, mode == TLSImplicit)
			s, err := New(Config{Host: "127.0.0.1", Port: port, Username: user, Password: password, TLS: mode, CAFile: ca,
				From: "wabarouter@example.com", To: []string{"oncall@example.com", "ops@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			n := sinkstest.Restriction()
			r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
			if err != nil {
				t.Fatal(err)
			}
			be.mu.Lock()
			defer be.mu.Unlock()
			if len(be.msgs) != 1 {
				t.Fatalf("got %d messages", len(be.msgs))
			}
			got := be.msgs[0]
			if got.auth != user || got.from != "wabarouter@example.com" || strings.Join(got.to, ",") != "oncall@example.com,ops@example.com" {
				t.Errorf("envelope %+v", got)
			}
			msg, text, html := parts(t, got.data)
			wantID := "<" + MessageID(n) + ">"
			h := msg.Header
			checks := map[string]string{
				"Subject":      "[CRITICAL] WABA 104996122399160 restricted: RESTRICTED_BIZ_INITIATED_MESSAGING",
				"Thread-Topic": "[CRITICAL] WABA 104996122399160 restricted: RESTRICTED_BIZ_INITIATED_MESSAGING",
				"Message-Id":   wantID,
				// The first mail replies to nothing.
				"In-Reply-To": "",
				"References":  "",
				"Importance":  "High",
				"X-Priority":  "1",
				"To":          "<oncall@example.com>, <ops@example.com>",
				"From":        "<wabarouter@example.com>",
				// RFC 3834, so no vacation responder answers.
				"Auto-Submitted":           "auto-generated",
				"X-Auto-Response-Suppress": "All",
			}
			for k, v := range checks {
				if h.Get(k) != v {
					t.Errorf("%s: got %q, want %q", k, h.Get(k), v)
				}
			}
			if r.Ref != wantID {
				t.Errorf("ref %q, want %q", r.Ref, wantID)
			}
			wantText, _ := TextBody(n)
			wantHTML, _ := HTMLBody(n)
			if text != wantText {
				t.Errorf("text body:\n%s\nwant:\n%s", text, wantText)
			}
			if html != wantHTML {
				t.Errorf("html body:\n%s\nwant:\n%s", html, wantHTML)
			}
		})
	}
}

func TestIDsAndPriority(t *testing.T) {
	a, b := sinkstest.Restriction(), sinkstest.Restriction()
	b.ID = "n-restriction-2"
	if MessageID(a) == MessageID(b) {
		t.Error("Message-IDs must differ per notification")
	}
	for sev, want := range map[notification.Severity][2]string{
		notification.Critical: {"High", "1"}, notification.Error: {"High", "1"},
		notification.Warning: {"Normal", "3"}, notification.Info: {"Low", "5"},
	} {
		if i, x := Priority(sev); i != want[0] || x != want[1] {
			t.Errorf("%v: %s %s", sev, i, x)
		}
	}
	if got := Subject(sinkstest.AccountAlert()); got != "[INFO] Resolved: Account alert OBA_APPROVED" {
		t.Errorf("subject %q", got)
	}
}

func TestGolden(t *testing.T) {
	for name, n := range sinkstest.All() {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, n) })
	}
}

// checkGolden compares n's text and HTML bodies with testdata/name's
// goldens, rewriting them with -update.
func checkGolden(t *testing.T, name string, n notification.Notification) {
	t.Helper()
	text, err := TextBody(n)
	if err != nil {
		t.Fatal(err)
	}
	html, err := HTMLBody(n)
	if err != nil {
		t.Fatal(err)
	}
	for ext, got := range map[string]string{"txt": text, "html": html} {
		path := filepath.Join("testdata", name+".golden."+ext)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs; got:\n%s", path, got)
		}
	}
}

func TestHTMLEscaped(t *testing.T) {
	html, _ := HTMLBody(sinkstest.Ban())
	if strings.Contains(html, "<DISABLE>") || !strings.Contains(html, "&lt;DISABLE&gt;") || !strings.Contains(html, "disable &amp; review") {
		t.Errorf("not escaped:\n%s", html)
	}
}

func TestAuthFailurePermanent(t *testing.T) {
	be := &backend{requireA: true}
	port, ca := serve(t, be, false)
	wrong := "wr0ng-" + password
	s, err := New(Config{Host: "127.0.0.1", Port: port, Username: user, Password: wrong, CAFile: ca,
		From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if err == nil {
		t.Fatal("want error")
	}
	if retry, _ := sinks.IsRetryable(err); retry || Code(err) != 535 {
		t.Errorf("want permanent 535, got code %d: %v", Code(err), err)
	}
	sinkstest.AssertNoSecret(t, wrong, err.Error())
	sinkstest.AssertNoSecret(t, password, err.Error())
}

func TestTemporaryFailureRetryable(t *testing.T) {
	be := &backend{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}}
	port, _ := serve(t, be, false)
	s, err := New(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if retry, _ := sinks.IsRetryable(err); err == nil || !retry || Code(err) != 451 {
		t.Errorf("want retryable 451, got code %d: %v", Code(err), err)
	}
	be.rcptErr = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if retry, _ := sinks.IsRetryable(err); err == nil || retry {
		t.Errorf("want permanent 550, got %v", err)
	}
}

func TestConnectionErrorRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := New(Config{Host: "127.0.0.1", Port: port, Username: user, Password: password, TLS: TLSNone,
		From: "wabarouter@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if retry, _ := sinks.IsRetryable(err); err == nil || !retry {
		t.Errorf("want retryable, got %v", err)
	}
	sinkstest.AssertNoSecret(t, password, err.Error())
	if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("error should name the server: %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	bad := []Config{
		{},
		{Host: "h", To: []string{"a@b.c"}},
		{Host: "h", From: "a@b.c", To: []string{"a@b.c"}, TLS: "ssl"},
		{Host: "h", From: "not an address", To: []string{"a@b.c"}},
		{Host: "h", From: "a@b.c", To: []string{"a@b.c"}, CAFile: "/nonexistent/ca.pem"},
	}
	for i, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("config %d: want error", i)
		}
	}
}
