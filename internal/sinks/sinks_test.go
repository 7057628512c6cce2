package sinks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

func TestIsRetryable(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"nil", nil, false, 0},
		{"unclassified", base, true, 0},
		{"permanent", Permanent(base), false, 0},
		{"retryable", Retryable(base, 5*time.Second), true, 5 * time.Second},
		{"wrapped permanent", fmt.Errorf("slack: %w", Permanent(base)), false, 0},
		{"wrapped retryable", fmt.Errorf("x: %w", Retryable(base, time.Second)), true, time.Second},
		{"canceled", fmt.Errorf("post: %w", context.Canceled), true, 0},
		{"deadline", context.DeadlineExceeded, true, 0},
		{"outer wins", Permanent(Retryable(base, time.Second)), false, 0},
	}
	for _, c := range cases {
		retry, after := IsRetryable(c.err)
		if retry != c.retry || after != c.after {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", c.name, retry, after, c.retry, c.after)
		}
	}
	if !errors.Is(Permanent(base), base) || !errors.Is(Retryable(base, 0), base) {
		t.Error("classification must keep the wrapped error reachable")
	}
	if Permanent(nil) != nil || Retryable(nil, 1) != nil {
		t.Error("nil must stay nil")
	}
}

func TestClassifyHTTP(t *testing.T) {
	if err := ClassifyHTTP(202, nil, []byte("ok")); err != nil {
		t.Fatalf("2xx: %v", err)
	}
	h := http.Header{}
	h.Set("Retry-After", "7")
	err := ClassifyHTTP(429, h, []byte("slow down"))
	if retry, after := IsRetryable(err); !retry || after != 7*time.Second {
		t.Errorf("429: got %v %v", retry, after)
	}
	h.Set("Retry-After", time.Now().Add(time.Minute).UTC().Format(http.TimeFormat))
	err = ClassifyHTTP(503, h, nil)
	if retry, after := IsRetryable(err); !retry || after < 55*time.Second || after > time.Minute {
		t.Errorf("503 date: got %v %v", retry, after)
	}
	err = ClassifyHTTP(500, nil, nil)
	if retry, after := IsRetryable(err); !retry || after != 0 {
		t.Errorf("500: got %v %v", retry, after)
	}
	long := strings.Repeat("x", 1000)
	err = ClassifyHTTP(400, nil, []byte(`{"error":"bad"} `+long))
	if retry, _ := IsRetryable(err); retry {
		t.Error("400 must be permanent")
	}
	if !strings.Contains(err.Error(), `{"error":"bad"}`) || len([]rune(err.Error())) > 330 {
		t.Errorf("400 text: %d chars: %.80q", len(err.Error()), err.Error())
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://hooks.slack.com/services/T0/B0/secret": "https://hooks.slack.com/<redacted>",
		"https://user:pw@example.com/x?token=abc":       "https://example.com/<redacted>",
		"http://127.0.0.1:8080":                         "http://127.0.0.1:8080",
		"::not a url":                                   "<redacted-url>",
	}
	for in, want := range cases {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	sinkstest.AssertNoSecret(t, "secret", RedactURL("https://hooks.slack.com/services/T0/B0/secret"))
}
