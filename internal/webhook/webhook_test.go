package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	token     = "verify-token-123"
	secretOld = "old-app-secret-AAAA"
	secretNew = "new-app-secret-BBBB"
)

type recorder struct {
	mu       sync.Mutex
	bodies   []string
	err      error
	outcomes []Outcome
}

func (r *recorder) observe(o Outcome, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
}

func (r *recorder) Accept(_ context.Context, body []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.bodies = append(r.bodies, string(body))
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func newServer(t *testing.T, rec *recorder, validate func([]byte) error, logBuf *bytes.Buffer) *httptest.Server {
	t.Helper()
	var logger *slog.Logger
	if logBuf != nil {
		logger = slog.New(slog.NewTextHandler(logBuf, nil))
	}
	srv := httptest.NewServer(NewHandler(Options{
		VerifyToken:  token,
		AppSecrets:   []string{secretOld, "", secretNew},
		MaxBodyBytes: 64,
		Validate:     validate,
		Acceptor:     rec,
		Logger:       logger,
		Observe:      rec.observe,
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHandshake(t *testing.T) {
	srv := newServer(t, &recorder{}, nil, nil)
	tests := []struct {
		name       string
		query      url.Values
		wantStatus int
		wantBody   string
	}{
		{"good", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}, 200, "1158201444"},
		{"wrong token", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"nope"}, "hub.challenge": {"x"}}, 403, ""},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {token}, "hub.challenge": {"x"}}, 403, ""},
		{"missing", url.Values{}, 403, ""},
		{"missing token", url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"x"}}, 403, ""},
		{"missing challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}}, 400, "missing hub.challenge"},
		{"empty challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {""}}, 400, "missing hub.challenge"},
		{"challenge at the bound", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token},
			"hub.challenge": {strings.Repeat("7", MaxChallengeBytes)}}, 200, strings.Repeat("7", 256)},
		{"challenge over the bound", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token},
			"hub.challenge": {strings.Repeat("7", MaxChallengeBytes+1)}}, 400, "hub.challenge is longer than 256 bytes"},
		{"challenge of 64 KiB", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token},
			"hub.challenge": {strings.Repeat("7", 64<<10)}}, 400, "hub.challenge is longer than 256 bytes"},
		{"challenge with a line break", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token},
			"hub.challenge": {"12\r\nSet-Cookie: x=1"}}, 400, "hub.challenge must be printable ASCII"},
		{"challenge with a bidi override", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token},
			"hub.challenge": {"12\u202e34"}}, 400, "hub.challenge must be printable ASCII"},
		// Without the token nothing about the challenge is revealed.
		{"wrong token and no challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"nope"}}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/webhook?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 403 {
				return
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestPost(t *testing.T) {
	const good = `{"object":"whatsapp_business_account"}`
	goodSig := Sign(secretOld, []byte(good))
	validateErr := errors.New("payload has no entry\nsecond line must not be shown")
	validate := func(b []byte) error {
		if strings.Contains(string(b), "invalid") {
			return validateErr
		}
		return nil
	}
	tests := []struct {
		name       string
		method     string
		body       string
		sig        string // "" means no header
		acceptErr  error
		wantStatus int
		wantBody   string
		wantAccept []string
		outcome    Outcome
	}{
		{"good signature", "POST", good, goodSig, nil, 200, "ok", []string{good}, Accepted},
		{"uppercase hex", "POST", good, "sha256=" + strings.ToUpper(strings.TrimPrefix(goodSig, "sha256=")), nil, 200, "ok", []string{good}, Accepted},
		{"rotated secret", "POST", good, Sign(secretNew, []byte(good)), nil, 200, "ok", []string{good}, Accepted},
		{"bad signature", "POST", good, Sign("wrong", []byte(good)), nil, 401, "", nil, BadSignature},
		{"signature of other body", "POST", good + " ", goodSig, nil, 401, "", nil, BadSignature},
		{"empty secret not usable", "POST", good, Sign("", []byte(good)), nil, 401, "", nil, BadSignature},
		{"missing header", "POST", good, "", nil, 401, "", nil, MissingSignature},
		{"no prefix", "POST", good, strings.TrimPrefix(goodSig, "sha256="), nil, 401, "", nil, BadSignature},
		{"sha1 prefix", "POST", good, "sha1=" + strings.TrimPrefix(goodSig, "sha256="), nil, 401, "", nil, BadSignature},
		{"non-hex", "POST", good, "sha256=" + strings.Repeat("zz", 32), nil, 401, "", nil, BadSignature},
		{"wrong length", "POST", good, goodSig[:len(goodSig)-2], nil, 401, "", nil, BadSignature},
		{"oversize body", "POST", strings.Repeat("x", 65), Sign(secretOld, []byte(strings.Repeat("x", 65))), nil, 413, "", nil, TooLarge},
		{"body at limit", "POST", strings.Repeat("y", 64), Sign(secretOld, []byte(strings.Repeat("y", 64))), nil, 200, "ok", []string{strings.Repeat("y", 64)}, Accepted},
		{"validate error", "POST", "invalid", Sign(secretOld, []byte("invalid")), nil, 400, "payload has no entry", nil, Invalid},
		{"acceptor error", "POST", good, goodSig, errors.New("disk full"), 503, "", nil, Unavailable},
		{"wrong method", "PUT", good, goodSig, nil, 405, "", nil, BadMethod},
		{"delete", "DELETE", "", "", nil, 405, "", nil, BadMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{err: tt.acceptErr}
			srv := newServer(t, rec, validate, nil)
			req, err := http.NewRequest(tt.method, srv.URL+"/webhook", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.sig != "" {
				req.Header.Set("X-Hub-Signature-256", tt.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
			rec.mu.Lock()
			outcomes := rec.outcomes
			rec.mu.Unlock()
			if len(outcomes) != 1 || outcomes[0] != tt.outcome {
				t.Errorf("observed %q, want exactly %q", outcomes, tt.outcome)
			}
			got := rec.got()
			if strings.Join(got, "|") != strings.Join(tt.wantAccept, "|") || len(got) != len(tt.wantAccept) {
				t.Errorf("accepted %q, want %q", got, tt.wantAccept)
			}
		})
	}
}

func TestRefusalLogOmitsBodyAndSecret(t *testing.T) {
	var logBuf bytes.Buffer
	rec := &recorder{}
	srv := newServer(t, rec, nil, &logBuf)
	const body = `{"secret_payload_marker":1}`
	for _, sig := range []string{"", "garbage", Sign("wrong", []byte(body)), Sign(secretNew, []byte("other"))} {
		req, _ := http.NewRequest("POST", srv.URL+"/webhook", strings.NewReader(body))
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("sig %q: status %d", sig, resp.StatusCode)
		}
	}
	out := logBuf.String()
	if strings.Count(out, "level=WARN") != 4 {
		t.Errorf("want 4 warn lines, got:\n%s", out)
	}
	for _, leak := range []string{"secret_payload_marker", secretOld, secretNew, token} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q:\n%s", leak, out)
		}
	}
	if len(rec.got()) != 0 {
		t.Errorf("acceptor called for refused requests: %q", rec.got())
	}
}

func TestShortReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("bad"), "bad"},
		{"first line", errors.New("a\nb"), "a"},
		{"empty", errors.New(""), "invalid payload"},
		{"cut", errors.New(strings.Repeat("a", 300)), strings.Repeat("a", 200)},
		{"cut on rune", errors.New(strings.Repeat("a", 199) + "é"), strings.Repeat("a", 199)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shortReason(tt.err); got != tt.want {
				t.Errorf("shortReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	// Reference value computed independently:
	// printf 'hello' | openssl dgst -sha256 -hmac key
	want := "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
	if got := Sign("key", []byte("hello")); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
