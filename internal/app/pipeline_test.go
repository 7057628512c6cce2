package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

func newTestPipeline(t *testing.T) *Pipeline {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(`server:
  verify_token: v
  app_secrets: [s]
store: {path: w.db}
sinks:
  - {name: out, type: log, path: out.jsonl}
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.ParseFile("r.yaml", []byte("rules:\n  - {name: all, when: 'true', to: [out]}\n"), cfg.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(context.Background(), cfg, set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadyz(t *testing.T) {
	p := newTestPipeline(t)
	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		p.ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, strings.TrimSpace(string(body))
	}
	steps := []struct {
		name   string
		before func()
		code   int
		body   string
	}{
		{"ready", func() {}, http.StatusOK, "ready"},
		{"shutting down", func() { p.stopping.Store(true) }, http.StatusServiceUnavailable, "shutting down"},
		{"store closed", func() { p.stopping.Store(false); p.store.Close() }, http.StatusServiceUnavailable, "store unreachable"},
	}
	for _, s := range steps {
		s.before()
		if code, body := probe(); code != s.code || body != s.body {
			t.Errorf("%s: /readyz = %d %q, want %d %q", s.name, code, body, s.code, s.body)
		}
	}
}

func TestSecondRouterOnOneStoreIsRefused(t *testing.T) {
	p := newTestPipeline(t)
	defer p.store.Close()
	cfg := *p.cfg
	_, err := NewPipeline(context.Background(), &cfg, p.router.Rules(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "in use by another wabarouter process") {
		t.Fatalf("second pipeline on the same store: %v, want it refused", err)
	}
}
