package sinks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// Sink delivers one notification to one destination.
type Sink interface {
	Send(ctx context.Context, d Delivery) (Receipt, error)
}

// Delivery is one notification for one sink, with what the sink's earlier
// sends about the same incident returned. The transitions of one incident
// reach a sink in order, one at a time.
type Delivery struct {
	Notification notification.Notification
	// Thread is the Thread of the receipt of the sink's first send about
	// the incident (the Slack root message, the first e-mail's
	// Message-ID); empty for that first send.
	Thread string
	// Resent says an earlier attempt at this very delivery may have
	// reached the destination (the router died while sending, or an
	// attempt failed after the request went out). A sink that can find
	// what it sent then uses it rather than send it twice.
	Resent bool
}

// Receipt says what a destination made of a delivery.
type Receipt struct {
	// Ref identifies the delivery at the destination: Slack channel:ts,
	// PagerDuty dedup_key, email Message-ID.
	Ref string `json:"ref,omitempty"`
	// Detail is what the service answered, shown by notify-test.
	Detail string `json:"detail,omitempty"`
	// Thread, set by the first send about an incident, is what the sink's
	// later sends about it are handed in Delivery.Thread.
	Thread string `json:"thread,omitempty"`
}

// permanentError marks an error that retrying will not fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryableError marks an error worth retrying, after After if non-zero.
type retryableError struct {
	err   error
	after time.Duration
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying. A nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Retryable marks err as worth retrying; after is the service's
// Retry-After, 0 if it gave none. A nil err stays nil.
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	if after < 0 {
		after = 0
	}
	return &retryableError{err: err, after: after}
}

// IsRetryable reports whether err is worth retrying and after how long
// the service asked to wait (0 if it did not say). Unclassified errors,
// such as network errors and context cancellation, count as retryable.
// A nil error is not retryable.
func IsRetryable(err error) (retry bool, after time.Duration) {
	if err == nil {
		return false, 0
	}
	var p *permanentError
	var r *retryableError
	// The outermost classification wins, so each wrapper is looked at in
	// turn rather than with errors.As, which would find the innermost too.
	for e := err; e != nil; {
		switch v := e.(type) { //nolint:errorlint // see above
		case *permanentError:
			return false, 0
		case *retryableError:
			return true, v.after
		}
		if u, ok := e.(interface{ Unwrap() error }); ok {
			e = u.Unwrap()
			continue
		}
		break
	}
	if errors.As(err, &r) {
		return true, r.after
	}
	if errors.As(err, &p) {
		return false, 0
	}
	return true, 0
}

// maxErrorText caps how much of a service's error body goes into errors.
const maxErrorText = 300

// Truncate cuts s to at most n runes, marking the cut with "…".
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ClassifyHTTP turns an HTTP answer into nil (2xx), a Retryable error
// (429, 5xx; honouring Retry-After in seconds or as an HTTP date) or a
// Permanent error carrying the service's error text cut to 300 chars.
func ClassifyHTTP(status int, header http.Header, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	text := strings.TrimSpace(string(body))
	text = strings.Join(strings.Fields(text), " ")
	text = Truncate(text, maxErrorText)
	msg := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if text != "" {
		msg += ": " + text
	}
	err := errors.New(msg)
	if status == http.StatusTooManyRequests || status >= 500 {
		return Retryable(err, RetryAfter(header, time.Now()))
	}
	return Permanent(err)
}

// RetryAfter parses a Retry-After header given in seconds or as an HTTP
// date relative to now; 0 if absent or unparseable.
func RetryAfter(header http.Header, now time.Time) time.Duration {
	if header == nil {
		return 0
	}
	v := strings.TrimSpace(header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// RedactURL keeps a URL's scheme and host and hides its user info, path
// and query, which often carry tokens (Slack webhook URLs do).
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "<redacted-url>"
	}
	out := p.Scheme + "://" + p.Host
	if p.Path != "" && p.Path != "/" || p.RawQuery != "" {
		out += "/<redacted>"
	}
	return out
}
