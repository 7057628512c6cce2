package e2etest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
)

// MetaSignatureHeader carries Meta's signature of a webhook's body.
const MetaSignatureHeader = "X-Hub-Signature-256"

// SinkSignatureHeader carries the router's webhook sink's signature of a
// notification's body.
const SinkSignatureHeader = "X-Wabarouter-Signature"

// Sign returns "sha256=" and the hex HMAC-SHA256 of body under secret: the
// form of Meta's X-Hub-Signature-256 and of the webhook sink's
// X-Wabarouter-Signature alike.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewWebhookRequest builds Meta's POST of body to url, signed with the app
// secret secret; an empty secret sends no signature.
func NewWebhookRequest(ctx context.Context, url string, secret, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building a webhook POST to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if len(secret) > 0 {
		req.Header.Set(MetaSignatureHeader, Sign(secret, body))
	}
	return req, nil
}

// Post sends body to the process's /webhook with signature as
// X-Hub-Signature-256 (none when empty), as anyone could, and returns the
// status and the answer's body.
func (p *Process) Post(t TB, body []byte, signature string) (int, string) {
	t.Helper()
	req, err := NewWebhookRequest(context.Background(), p.URL("/webhook"), nil, body)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if signature != "" {
		req.Header.Set(MetaSignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /webhook: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// PostSigned sends body to the process's /webhook signed with the app
// secret secret, as Meta does.
func (p *Process) PostSigned(t TB, secret string, body []byte) (int, string) {
	t.Helper()
	return p.Post(t, body, Sign([]byte(secret), body))
}
