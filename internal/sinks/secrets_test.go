package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

const (
	key     = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"
	hookURL = "https://hooks.slack.com/services/T000/B000/h00ks3cr3t"
)

func TestSecretsRedact(t *testing.T) {
	s := NewSecrets(key, hookURL, "", "Bearer tok/en+&=")
	cases := []struct {
		name, text, secret string
	}{
		{"raw", `{"routing_key":"` + key + `"}`, key},
		{"json with escaped slashes", `{"url":"https:\/\/hooks.slack.com\/services\/T000\/B000\/h00ks3cr3t"}`, "h00ks3cr3t"},
		{"json with html escapes", `{"h":"Bearer tok/en+\u0026="}`, "tok/en+"},
		{"query escaped", "token=Bearer+tok%2Fen%2B%26%3D&x=1", "tok%2Fen"},
		{"path escaped", "/x/Bearer%20tok%2Fen+&=", "tok%2Fen"},
		{"twice", key + " and " + key, key},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.Redact(c.text)
			sinkstest.AssertNoSecret(t, c.secret, got)
			if !strings.Contains(got, "<redacted>") {
				t.Errorf("Redact(%q) = %q, want <redacted> in its place", c.text, got)
			}
		})
	}
	if got := s.Redact("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Redact changed a text without secrets: %q", got)
	}
	if got := (Secrets{}).Redact(key); got != key {
		t.Errorf("the zero Secrets hid %q", got)
	}
}

func TestSecretsError(t *testing.T) {
	s := NewSecrets(key)
	base := fmt.Errorf("HTTP 400: %s", key)
	err := s.Error(Permanent(base))
	sinkstest.AssertNoSecret(t, key, err.Error())
	if retry, _ := IsRetryable(err); retry {
		t.Error("redaction lost the permanent classification")
	}
	if !errors.Is(err, base) {
		t.Error("redaction must keep the chain reachable")
	}
	if retry, after := IsRetryable(s.Error(Retryable(base, 3*time.Second))); !retry || after != 3*time.Second {
		t.Errorf("retryable: got %v %v", retry, after)
	}
	if s.Error(nil) != nil {
		t.Error("nil must stay nil")
	}
}

// echoServer answers every request with status and a body quoting the
// whole request: URL, headers and body, as some services' errors do.
func echoServer(t *testing.T, status int, pad int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s%s %s %v %s", strings.Repeat(".", pad), r.Method, r.URL, r.Header, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRecordingClientRedactsEchoes: whatever a service echoes of the
// request, the recorded answer, the body the caller reads and the
// classified error carry no secret, also when the secret straddles the
// 300-character cut of an error text or the 64 KiB cut of an answer.
func TestRecordingClientRedactsEchoes(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		pad    int
	}{
		{"400", 400, 0},
		{"500", 500, 0},
		{"secret across the error text cut", 400, 300 - len("POST /") - 10},
		{"secret across the answer cut", 200, maxAnswer - len("POST /") - 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := echoServer(t, c.status, c.pad)
			client := RecordingClient(srv.Client(), NewSecrets(key))
			ctx, ex := Recording(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/"+key, strings.NewReader(`{"routing_key":"`+key+`"}`))
			req.Header.Set("Authorization", "Token "+key)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			read, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if ex.Status != c.status || len(ex.Body) == 0 {
				t.Fatalf("recorded %d, %d bytes", ex.Status, len(ex.Body))
			}
			classified := ClassifyHTTP(ex.Status, ex.Header, ex.Body)
			texts := []string{string(ex.Body), string(read)}
			if classified != nil {
				texts = append(texts, classified.Error())
			}
			for _, part := range []string{key, key[:len(key)-1], key[:5]} {
				sinkstest.AssertNoSecret(t, part, texts...)
			}
		})
	}
}

func TestRecordingClientTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	client := RecordingClient(nil, NewSecrets(key))
	ctx, ex := Recording(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u+"/hook/"+key, nil)
	resp, err := client.Do(req)
	if resp != nil {
		_ = resp.Body.Close()
	}
	if err == nil || ex.Err == nil {
		t.Fatalf("want a transport error, got %v / %v", err, ex.Err)
	}
	sinkstest.AssertNoSecret(t, key, ex.Err.Error())
	if !ex.Failed() {
		t.Error("a transport error is a failed exchange")
	}
}
