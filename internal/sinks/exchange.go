package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxAnswer caps how much of a service's answer a sink reads.
const maxAnswer = 64 << 10

// Exchange is what one HTTP request and its answer looked like, as a sink
// may report them: the answer's status, headers and first 64 KiB, with
// the sink's secrets already cut out, or the transport error.
//
// Client libraries (slack-go, go-pagerduty) drop a service's error text
// and Retry-After; a sink reads them here instead.
type Exchange struct {
	// Err is the transport error, if the request got no answer, with
	// the secrets cut out.
	Err error
	// Status is the answer's HTTP status code, 0 without an answer.
	Status int
	// Header holds the answer's headers, such as Retry-After.
	Header http.Header
	// Body is the answer's first 64 KiB with the secrets cut out.
	Body []byte
}

type exchangeKey struct{}

// Recording returns ctx carrying a new Exchange, which a request made
// with ctx through a RecordingClient fills in.
func Recording(ctx context.Context) (context.Context, *Exchange) {
	ex := &Exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

// RecordingClient returns a copy of c (a client of its own from
// NewHTTPClient if nil) whose requests record their answer into the
// Exchange their context carries.
// The answer the caller then reads is the recorded one: its first 64 KiB
// with secrets cut out, so a library that quotes it in an error cannot
// quote a secret.
func RecordingClient(c *http.Client, secrets Secrets) *http.Client {
	if c == nil {
		c = NewHTTPClient()
	}
	rc := *c
	rc.Transport = recorder{next: c.Transport, secrets: secrets}
	return &rc
}

// recorder is the RoundTripper of a RecordingClient.
type recorder struct {
	next    http.RoundTripper
	secrets Secrets
}

// CloseIdleConnections closes the idle connections of the transport the
// recorder wraps, so that a sink's Close gives them back; the shared
// default transport is left alone.
func (r recorder) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	ex, _ := req.Context().Value(exchangeKey{}).(*Exchange)
	if ex == nil {
		ex = &Exchange{}
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		ex.Err = r.secrets.Error(StripURL(err))
		return resp, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	_ = resp.Body.Close()
	if err != nil {
		ex.Err = r.secrets.Error(fmt.Errorf("reading the answer: %w", StripURL(err)))
		return nil, ex.Err
	}
	text := string(b)
	if len(b) > maxAnswer {
		text = r.secrets.redactCut(text[:maxAnswer])
	} else {
		text = r.secrets.Redact(text)
	}
	ex.Status, ex.Header, ex.Body = resp.StatusCode, resp.Header, []byte(text)
	resp.Body = io.NopCloser(bytes.NewReader(ex.Body))
	resp.ContentLength = int64(len(ex.Body))
	return resp, nil
}

// StripURL drops the URL that net/http puts in a *url.Error, which can
// carry a token (Slack webhook URLs do), keeping the operation and the
// cause, so a cancellation or timeout stays reachable.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Failed reports whether the exchange ended in a transport error or a
// non-2xx answer.
func (ex *Exchange) Failed() bool {
	return ex.Err != nil || ex.Status != 0 && (ex.Status < 200 || ex.Status > 299)
}
