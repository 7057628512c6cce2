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

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// TestRunClosesSinks: once serve stops and delivery has finished, the
// sinks are closed: the webhook sink's keep-alive connection to its
// receiver is given back instead of idling on.
func TestRunClosesSinks(t *testing.T) {
	closed := make(chan struct{}, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
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
	// Stop only once the delivery is done, so that no send in flight is
	// cut off (which would close its connection whatever Run does).
	sent := p.metrics.Notifications.WithLabelValues("hook", metrics.Sent)
	for deadline := time.Now().Add(30 * time.Second); testutil.ToFloat64(sent) < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the notification was not delivered")
		}
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
