package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

var _ sinks.Sink = (*Sink)(nil)

const secretPath = "/hook/s3cr3t-path-token"

func TestSignedPost(t *testing.T) {
	var gotBody []byte
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		gotHeader = r.Header.Clone()
		if r.URL.Path != secretPath || r.Method != http.MethodPost {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	s, err := New(Config{URL: srv.URL + secretPath, Headers: map[string]string{"X-Team": "ops"}, Secret: "hmac-key"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	n := sinkstest.Restriction()
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != n.ID || r.Detail != `202 Accepted: {"ok":true}` {
		t.Errorf("receipt %+v", r)
	}
	if got, want := gotHeader.Get(SignatureHeader), Sign("hmac-key", gotBody); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if gotHeader.Get("X-Team") != "ops" || gotHeader.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", gotHeader)
	}
	var back notification.Notification
	if err := json.Unmarshal(gotBody, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != n.ID || back.Event.WabaID != n.Event.WabaID || back.Event.Restrictions[0].Type != "RESTRICTED_BIZ_INITIATED_MESSAGING" {
		t.Errorf("body %s", gotBody)
	}
}

func TestUnsigned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(SignatureHeader) != "" {
			t.Error("unexpected signature without secret")
		}
	}))
	defer srv.Close()
	s, _ := New(Config{URL: srv.URL}, nil)
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()}); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		status int
		header string
		retry  bool
		after  time.Duration
	}{
		{429, "12", true, 12 * time.Second},
		{503, "", true, 0},
		{400, "", false, 0},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c.header != "" {
				w.Header().Set("Retry-After", c.header)
			}
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, `{"error":"nope"}`)
		}))
		s, _ := New(Config{URL: srv.URL + secretPath, Secret: "hmac-key"}, nil)
		_, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
		srv.Close()
		if err == nil {
			t.Fatalf("%d: want error", c.status)
		}
		retry, after := sinks.IsRetryable(err)
		if retry != c.retry || after != c.after {
			t.Errorf("%d: got (%v, %v) from %v", c.status, retry, after, err)
		}
		sinkstest.AssertNoSecret(t, "s3cr3t-path-token", err.Error())
		sinkstest.AssertNoSecret(t, "hmac-key", err.Error())
	}
}

func TestNetworkErrorRetryableAndRedacted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	s, _ := New(Config{URL: u + secretPath}, nil)
	_, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
	if retry, _ := sinks.IsRetryable(err); err == nil || !retry {
		t.Fatalf("want retryable, got %v", err)
	}
	sinkstest.AssertNoSecret(t, "s3cr3t-path-token", err.Error())
	if _, err := New(Config{URL: "ftp://x/s3cr3t-path-token"}, nil); err == nil {
		t.Fatal("want bad url error")
	} else {
		sinkstest.AssertNoSecret(t, "s3cr3t-path-token", err.Error())
	}
}

// TestHeaderValuesNeverShown: header values are secrets (Authorization
// tokens, API keys). A receiver that echoes them in its answer must not
// get them into an error or a receipt, and a bad header is reported by
// name only.
func TestHeaderValuesNeverShown(t *testing.T) {
	const token = "hdr-tok-3f9a7c9e"
	const apiKey = "key-81d0c2aa"
	headers := map[string]string{"Authorization": "Bearer " + token, "X-Api-Key": apiKey}
	cases := []struct {
		name   string
		status int
	}{
		{"accepted", http.StatusOK},
		{"refused", http.StatusUnauthorized},
		{"unavailable", http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("X-Api-Key") != apiKey {
					t.Errorf("headers sent: %v", r.Header)
				}
				w.WriteHeader(c.status)
				// Echo the credentials, as some receivers do in errors.
				_, _ = io.WriteString(w, "got Authorization="+r.Header.Get("Authorization")+" token="+token+" key="+r.Header.Get("X-Api-Key"))
			}))
			defer srv.Close()
			s, err := New(Config{URL: srv.URL, Headers: headers}, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
			text := r.Detail + r.Ref
			if err != nil {
				text += err.Error()
			}
			if (err == nil) != (c.status == http.StatusOK) {
				t.Fatalf("status %d gave error %v", c.status, err)
			}
			if !strings.Contains(text, "got Authorization=") {
				t.Errorf("the answer is gone: %q", text)
			}
			sinkstest.AssertNoSecret(t, token, text)
			sinkstest.AssertNoSecret(t, apiKey, text)
		})
	}

	bad := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"line break in a value", map[string]string{"Authorization": "Bearer " + token + "\r\nX-Evil: 1"}, `header "Authorization" has a value with a line break or control character`},
		{"bad name", map[string]string{"X Token": token}, `header name "X Token" is not a valid HTTP header name`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Config{URL: "https://example.com/h", Headers: c.headers}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want an error containing %q", err, c.want)
			}
			sinkstest.AssertNoSecret(t, token, err.Error())
		})
	}
}
