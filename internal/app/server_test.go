package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer lets the test read log output while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerLifecycle(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			entered <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "webhook")
	})
	var logs syncBuffer
	s := NewServer("127.0.0.1:0", h, slog.New(slog.NewTextHandler(&logs, nil)))
	if s.Addr() != "" {
		t.Fatalf("Addr before Run = %q", s.Addr())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	select {
	case <-s.Ready():
	case err := <-runErr:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	addr := s.Addr()
	if !strings.Contains(logs.String(), `msg=listening addr=`+addr) {
		t.Errorf("no listening line with %s in logs:\n%s", addr, logs.String())
	}
	base := "http://" + addr

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", 200, "ok"},
		{"/webhook", 200, "webhook"},
		{"/other", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body := get(t, base+tt.path)
			if status != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}

	// Start a slow request, then cancel while it is in flight: it must
	// still complete, and Run must return nil once it has.
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/webhook?slow=1")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- resp.Status + " " + string(b)
	}()
	<-entered
	cancel()
	// Give Shutdown time to start before the handler finishes.
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-runErr:
		t.Fatalf("Run returned %v before the in-flight request finished", err)
	default:
	}
	close(release)

	if got := <-slow; got != "200 OK webhook" {
		t.Errorf("in-flight request = %q", got)
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestRunListenError(t *testing.T) {
	tests := []struct {
		name string
		addr string
	}{
		{"bad port", "127.0.0.1:notaport"},
		{"no port", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewServer(tt.addr, http.NotFoundHandler(), nil).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.addr) {
				t.Errorf("Run = %v, want error naming %s", err, tt.addr)
			}
		})
	}
}
