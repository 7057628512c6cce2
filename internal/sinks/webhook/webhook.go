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

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// SignatureHeader carries the body's HMAC-SHA256 when a secret is set.
const SignatureHeader = "X-Wabarouter-Signature"

// Config is a webhook sink's settings.
type Config struct {
	URL     string
	Headers map[string]string
	// Secret, when set, keys the body signature. It is never printed.
	Secret string
}

// Sink posts notifications as JSON.
type Sink struct {
	cfg    Config
	client *http.Client
}

// New validates cfg; a nil httpClient means http.DefaultClient.
func New(cfg Config, httpClient *http.Client) (*Sink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook sink: url %s must be an absolute http(s) URL", sinks.RedactURL(cfg.URL))
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Sink{cfg: cfg, client: httpClient}, nil
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
