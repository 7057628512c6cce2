package sinks

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestEachSinkItsOwnClient: a sink built without a client gets one of its
// own, whose connections are not another sink's and not the process's
// default transport's.
func TestEachSinkItsOwnClient(t *testing.T) {
	a, b := RecordingClient(nil, Secrets{}), RecordingClient(nil, Secrets{})
	ta, tb := a.Transport.(recorder).next, b.Transport.(recorder).next
	if ta == nil || tb == nil || ta == tb || ta == http.DefaultTransport || a.Timeout != HTTPTimeout {
		t.Errorf("transports %p and %p (default %p), timeout %v: want two of their own and %v", ta, tb, http.DefaultTransport, a.Timeout, HTTPTimeout)
	}
}

// TestRecordingClientCloseIdleConnections: closing a recording client's
// idle connections closes those of the client it wraps, so a sink's
// Close gives its connections back.
func TestRecordingClientCloseIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	c := RecordingClient(NewHTTPClient(), Secrets{})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle connection stayed open after CloseIdleConnections")
	}
}
