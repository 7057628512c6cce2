package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// secrets are the texts cut out of the receiver's answers: header
	// values and the credentials in them, longest first.
	secrets []string
}

// New validates cfg; a nil httpClient means http.DefaultClient.
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
	if cfg.Secret != "" {
		secrets = append(secrets, cfg.Secret)
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Sink{cfg: cfg, client: httpClient, secrets: secrets}, nil
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

// redact cuts the header values out of a receiver's answer.
func (s *Sink) redact(answer []byte) []byte {
	for _, sec := range s.secrets {
		answer = bytes.ReplaceAll(answer, []byte(sec), []byte("<redacted>"))
	}
	return answer
}

// Sign returns the X-Wabarouter-Signature value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts n. The receipt's Ref is the notification ID and its Detail
// the status line and start of the receiver's answer.
func (s *Sink) Send(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	body, err := json.Marshal(n)
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("webhook sink: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return sinks.Receipt{}, sinks.Permanent(fmt.Errorf("webhook sink: request to %s: %w", sinks.RedactURL(s.cfg.URL), redactErr(err)))
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
		return sinks.Receipt{}, fmt.Errorf("webhook sink: POST %s: %w", sinks.RedactURL(s.cfg.URL), redactErr(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	answer = s.redact(answer)
	if err := sinks.ClassifyHTTP(resp.StatusCode, resp.Header, answer); err != nil {
		return sinks.Receipt{}, fmt.Errorf("webhook sink: POST %s: %w", sinks.RedactURL(s.cfg.URL), err)
	}
	detail := resp.Status
	if len(answer) > 0 {
		detail += ": " + sinks.Truncate(string(bytes.TrimSpace(answer)), 300)
	}
	return sinks.Receipt{Ref: n.ID, Detail: detail}, nil
}

// redactErr strips the URL that net/http puts in *url.Error, keeping the
// underlying cause (and its retryable classification) reachable.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
