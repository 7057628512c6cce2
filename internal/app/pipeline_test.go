package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/webhook"
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
	rulesLine := fmt.Sprintf("rules: %d, sha256 %s", len(p.router.Rules().Rules), p.router.Rules().Checksum)
	if len(p.router.Rules().Checksum) != 64 {
		t.Fatalf("the rules' checksum %q is not a SHA-256", p.router.Rules().Checksum)
	}
	ctx := context.Background()
	appendOne := func() int64 {
		id, err := p.store.AppendWebhook(ctx, []byte(`{}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	steps := []struct {
		name   string
		before func()
		code   int
		body   string
	}{
		{"ready", func() {}, http.StatusOK, "ready\n" + rulesLine},
		{"shutting down", func() { p.stopping.Store(true) }, http.StatusServiceUnavailable, "shutting down"},
		{"a webhook parked", func() {
			p.stopping.Store(false)
			if _, err := p.store.FailWebhook(ctx, appendOne(), "boom", time.Now(), 0, 1); err != nil {
				t.Fatal(err)
			}
		}, http.StatusOK, "ready\n" + rulesLine + "\n1 webhooks parked after failing to route; see wabarouter deadletter list"},
		{"webhooks waiting, routing moved a moment ago", func() { appendOne() }, http.StatusOK,
			"ready\n" + rulesLine + "\n1 webhooks parked after failing to route; see wabarouter deadletter list"},
		{"routing stalled", func() { p.routedAt.Store(time.Now().Add(-time.Minute).UnixNano()) }, http.StatusServiceUnavailable,
			"routing stalled: 1 webhooks waiting, none routed for 1m0s"},
		{"store closed", func() { p.store.Close() }, http.StatusServiceUnavailable, "store does not take writes"},
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

func TestObserveWebhookReasons(t *testing.T) {
	p := newTestPipeline(t)
	defer p.store.Close()
	tests := []struct {
		outcome webhook.Outcome
		err     error
		reason  string
	}{
		{webhook.MissingSignature, nil, metrics.ReasonMissingSignature},
		{webhook.BadSignature, nil, metrics.ReasonBadSignature},
		{webhook.TooLarge, nil, metrics.ReasonTooLarge},
		{webhook.Unreadable, nil, metrics.ReasonUnreadable},
		{webhook.BadMethod, nil, metrics.ReasonBadMethod},
		{webhook.Unavailable, nil, metrics.ReasonStoreUnavailable},
		{webhook.Invalid, event.ErrNotJSON, metrics.ReasonNotJSON},
		{webhook.Invalid, event.ErrWrongObject, metrics.ReasonWrongObject},
		{webhook.Invalid, event.ErrTooManyChanges, metrics.ReasonTooManyChanges},
		{webhook.Invalid, event.ErrNotWebhook, metrics.ReasonNotWebhook},
	}
	for _, tt := range tests {
		c := p.metrics.WebhooksRejected.WithLabelValues(tt.reason)
		before := testutil.ToFloat64(c)
		p.observeWebhook(tt.outcome, tt.err)
		if got := testutil.ToFloat64(c) - before; got != 1 {
			t.Errorf("%s (%v): rejected{reason=%s} moved by %v, want 1", tt.outcome, tt.err, tt.reason, got)
		}
	}
	p.observeWebhook(webhook.Accepted, nil)
	received, accepted := testutil.ToFloat64(p.metrics.WebhooksReceived), testutil.ToFloat64(p.metrics.WebhooksAccepted)
	if received != float64(len(tests)+1) || accepted != 1 {
		t.Errorf("received %v, accepted %v; want %d and 1", received, accepted, len(tests)+1)
	}
}
