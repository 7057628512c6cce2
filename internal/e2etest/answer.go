package e2etest

import (
	"context"
	"net/http"
	"net/http/httptest"
)

// Answer is how an HTTP peer answers one request instead of its protocol's
// normal success: a test's Respond function returns one to make a peer
// fail, throttle or echo. The zero Answer means the normal success.
type Answer struct {
	// Status is the HTTP status; 0 means the protocol's success.
	Status int
	// Header is set on the answer, e.g. Retry-After.
	Header map[string]string
	// Body is the answer's body; empty means the protocol's usual one.
	Body string
}

// success reports whether a answers with the peer's normal success.
func (a Answer) success() bool { return a.Status == 0 || a.Status/100 == 2 }

// write sends a, falling back to status and body for what a leaves empty.
func (a Answer) write(w http.ResponseWriter, status int, contentType, body string) {
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	if a.Status != 0 {
		status = a.Status
	}
	if a.Body != "" {
		body = a.Body
	}
	if w.Header().Get("Content-Type") == "" && contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Responder decides a peer's answer to one accepted request of type T. It
// runs in the request's goroutine, so it may sleep to play a slow
// receiver; ctx ends when the router gives up on the request.
type Responder[T any] func(ctx context.Context, item T) Answer

// serve starts an httptest server for h and closes it when t ends.
func serve(t TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
