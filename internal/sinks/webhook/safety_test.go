package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

const (
	headerToken = "hdr-t0ken-5ecret"
	signingKey  = "hmac-signing-key"
)

// TestSecretsNotInEchoedAnswers: a receiver that echoes the whole
// request (URL, headers, body; also JSON-escaped) in its answer leaves no
// header value, URL token or signing key in the error or the receipt.
func TestSecretsNotInEchoedAnswers(t *testing.T) {
	for _, status := range []int{200, 400, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				echo, _ := json.Marshal(map[string]any{"url": r.URL.String(), "headers": r.Header})
				w.WriteHeader(status)
				fmt.Fprintf(w, "%s %s %s %s", r.URL, strings.ReplaceAll(string(echo), "/", `\/`), r.Header, body)
			}))
			defer srv.Close()
			s, err := New(Config{URL: srv.URL + secretPath + "?key=qu3ry-t0ken",
				Headers: map[string]string{"Authorization": "Bearer " + headerToken}, Secret: signingKey}, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Ban()})
			texts := []string{r.Detail, r.Ref}
			if status == 200 {
				if err != nil || r.Detail == "" {
					t.Fatalf("%+v %v", r, err)
				}
			} else {
				if err == nil {
					t.Fatal("want an error")
				}
				texts = append(texts, err.Error())
			}
			for _, secret := range []string{headerToken, "s3cr3t-path-token", "qu3ry-t0ken", signingKey} {
				sinkstest.AssertNoSecret(t, secret, texts...)
			}
		})
	}
}

// TestPayloadBounded: a 600,000-character title and a 1.2 MB description
// reach the receiver as at most 1 MiB of JSON, signed as sent and saying
// it was cut.
func TestPayloadBounded(t *testing.T) {
	var got []byte
	var sig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		sig = r.Header.Get(SignatureHeader)
	}))
	defer srv.Close()
	s, err := New(Config{URL: srv.URL, Secret: signingKey}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	n := sinkstest.AccountAlert()
	n.Title = "\u202e" + strings.Repeat("T", 600_000)
	n.Body = strings.Repeat("description ", 100_000)
	n.Event.AlertDescription = n.Body
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	if len(got) > 1<<20 {
		t.Errorf("%d bytes sent", len(got))
	}
	if sig != Sign(signingKey, got) {
		t.Error("the signature does not cover what was sent")
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back["id"] != n.ID || back[sinks.TruncatedKey] == nil || !strings.HasPrefix(back["title"].(string), "TTT") {
		t.Errorf("id %v truncated %v title %.10q", back["id"], back[sinks.TruncatedKey], back["title"])
	}
}

// TestTitleWithoutBidi: the title a receiver gets carries no bidi override.
func TestTitleWithoutBidi(t *testing.T) {
	var got notification.Notification
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	s, _ := New(Config{URL: srv.URL}, srv.Client())
	n := sinkstest.TemplatePaused()
	n.Title = "Template \u202edesab\u202c PAUSED"
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	if got.Title != "Template desab PAUSED" {
		t.Errorf("title %q", got.Title)
	}
}
