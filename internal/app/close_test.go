package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// TestRunClosesSinks: once serve stops and delivery has finished, the
// sinks are closed: the webhook sink's keep-alive connection to its
// receiver is given back instead of idling on.
func TestRunClosesSinks(t *testing.T) {
	got := make(chan struct{}, 16)
	closed := make(chan struct{}, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- struct{}{}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()

	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(`server:
  listen: 127.0.0.1:0
  verify_token: v
  app_secrets: [s]
store: {path: w.db}
sinks:
  - {name: hook, type: webhook, url: `+srv.URL+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.ParseFile("r.yaml", []byte("rules:\n  - {name: all, when: 'true', to: [hook]}\n"), cfg.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(context.Background(), cfg, set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", "seed_disabled_update_disable.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := p.Accept(ctx, body); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook receiver got nothing")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the sink's connection to its receiver stayed open after serve stopped")
	}
}
