package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// SignatureHeader carries the body's HMAC-SHA256 when a secret is set.
const SignatureHeader = "X-Wabarouter-Signature"

// Config is a webhook sink's settings.
type Config struct {
	URL string
	// Headers are sent with every request. Their values usually carry
	// Authorization tokens or API keys, so they are never printed: not in
	// errors, and not in receipts even when the receiver echoes them.
	Headers map[string]string
	// Secret, when set, keys the body signature. It is never printed.
	Secret string
}

// Sink posts notifications as JSON.
type Sink struct {
	cfg    Config
	client *http.Client
	// secrets are cut out of the receiver's answers and of errors: the
	// header values and the credentials in them, the signing secret, and
	// the URL's path, query and password, which often carry a token.
	secrets sinks.Secrets
}

// New validates cfg; a nil httpClient means a client of the sink's own
// (sinks.NewHTTPClient).
func New(cfg Config, httpClient *http.Client) (*Sink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook sink: url %s must be an absolute http(s) URL", sinks.RedactURL(cfg.URL))
	}
	names := make([]string, 0, len(cfg.Headers))
	for name := range cfg.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var secrets []string
	for _, name := range names {
		value := cfg.Headers[name]
		if !validHeaderName(name) {
			return nil, fmt.Errorf("webhook sink: header name %q is not a valid HTTP header name", name)
		}
		if !validHeaderValue(value) {
			// The value is a secret: say which header, never what it holds.
			return nil, fmt.Errorf("webhook sink: header %q has a value with a line break or control character", name)
		}
		secrets = append(secrets, credentials(value)...)
	}
	secrets = append(secrets, cfg.Secret)
	if len(u.Path) > 1 {
		secrets = append(secrets, u.Path)
	}
	secrets = append(secrets, u.RawQuery)
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	red := sinks.NewSecrets(secrets...)
	return &Sink{cfg: cfg, client: sinks.RecordingClient(httpClient, red), secrets: red}, nil
}

// Close gives back the sink's idle connections.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// credentials are the texts of a header value to keep out of messages:
// the value, and the credentials after a scheme such as "Bearer ".
func credentials(value string) []string {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	out := []string{value}
	if fields := strings.Fields(value); len(fields) > 1 {
		out = append(out, fields[len(fields)-1])
	}
	return out
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters other than tab, which would
// split the header or be refused by net/http at send time.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Sign returns the X-Wabarouter-Signature value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts n as JSON (see sinks.NotificationJSON). The receipt's Ref
// is the notification ID and its Detail the status line and start of the
// receiver's answer.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	receipt, err := s.send(ctx, n)
	return receipt, s.secrets.Error(err)
}

func (s *Sink) send(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	body, err := sinks.NotificationJSON(n)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("webhook sink: %w", err))
	}
	where := "webhook sink: POST " + sinks.RedactURL(s.cfg.URL)
	ctx, ex := sinks.Recording(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("%s: %w", where, sinks.StripURL(err)))
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wabarouter")
	if s.cfg.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(s.cfg.Secret, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ex.Err != nil {
			err = ex.Err
		}
		return sinks.Receipt{}, fmt.Errorf("%s: %w", where, sinks.StripURL(err))
	}
	_ = resp.Body.Close()
	if err := sinks.ClassifyHTTP(ex.Status, ex.Header, ex.Body); err != nil {
		return sinks.Receipt{}, fmt.Errorf("%s: %w", where, err)
	}
	detail := resp.Status
	if answer := bytes.TrimSpace(ex.Body); len(answer) > 0 {
		detail += ": " + sinks.Truncate(string(answer), 300)
	}
	return sinks.Receipt{Ref: n.ID, Detail: s.secrets.Redact(detail)}, nil
}
