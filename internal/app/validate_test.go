package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/webhook"
)

// intakePipeline is a pipeline whose server section adds serverExtra, with
// one rule matching every event, and its webhook endpoint served over HTTP.
func intakePipeline(t *testing.T, serverExtra string) (*Pipeline, *httptest.Server) {
	t.Helper()
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(`server:
  verify_token: v
  app_secrets: [s]
`+serverExtra+`store: {path: w.db}
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
	t.Cleanup(func() { p.store.Close() })
	srv := httptest.NewServer(webhook.NewHandler(p.webhookOptions()))
	t.Cleanup(srv.Close)
	return p, srv
}

// post sends body signed with the pipeline's secret.
func post(t *testing.T, srv *httptest.Server, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+webhook.Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(webhook.SignatureHeader, webhook.Sign("s", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(text))
}

func pendingWebhooks(t *testing.T, p *Pipeline) int {
	t.Helper()
	ws, err := p.store.PendingWebhooks(context.Background(), time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(ws)
}

// TestIntakeBoundsChanges: a signed body with more changes than
// server.max_changes_per_webhook gets a 400 saying how many and the limit,
// and nothing is stored; one at the limit is accepted.
func TestIntakeBoundsChanges(t *testing.T) {
	tests := []struct {
		name        string
		serverExtra string
		changes     int
		code        int
		answer      string
	}{
		{"100,001 changes, default limit", "", 100_001, http.StatusBadRequest,
			"payload has too many changes: 100001 changes, more than the limit of 10000 (server.max_changes_per_webhook)"},
		{"1,001 changes, limit 1000", "  max_changes_per_webhook: 1000\n", 1_001, http.StatusBadRequest,
			"payload has too many changes: 1001 changes, more than the limit of 1000 (server.max_changes_per_webhook)"},
		{"1,000 changes, limit 1000", "  max_changes_per_webhook: 1000\n", 1_000, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := intakePipeline(t, tt.serverExtra)
			code, answer := post(t, srv, bigWebhook(tt.changes))
			if code != tt.code || !strings.Contains(answer, tt.answer) {
				t.Fatalf("answer %d %q, want %d %q", code, answer, tt.code, tt.answer)
			}
			stored := 0
			if code == http.StatusOK {
				stored = 1
			}
			if n := pendingWebhooks(t, p); n != stored {
				t.Errorf("%d webhooks stored, want %d", n, stored)
			}
		})
	}
}

// TestIntakeAcceptsEmptyWebhook: a well-formed envelope with nothing in it
// gets 200 (Meta retries anything else for days), is stored, and routing
// it sends nothing and leaves nothing pending.
func TestIntakeAcceptsEmptyWebhook(t *testing.T) {
	for _, body := range []string{
		`{"object":"whatsapp_business_account","entry":[]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[]}]}`,
	} {
		t.Run(body, func(t *testing.T) {
			p, srv := intakePipeline(t, "")
			if code, answer := post(t, srv, []byte(body)); code != http.StatusOK {
				t.Fatalf("answer %d %q, want 200", code, answer)
			}
			ctx := context.Background()
			ws, err := p.store.PendingWebhooks(ctx, time.Now(), 100)
			if err != nil || len(ws) != 1 {
				t.Fatalf("%d webhooks stored (%v), want 1", len(ws), err)
			}
			res, err := p.router.RouteBatch(ctx, ws)
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("RouteBatch = %+v, %v; want 1 routed", res, err)
			}
			if n := pendingWebhooks(t, p); n != 0 {
				t.Errorf("%d webhooks still pending after routing, want 0", n)
			}
			stats, err := p.store.Stats(ctx, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for sink, s := range stats {
				if s.Pending != 0 {
					t.Errorf("sink %s has %d notifications queued, want none", sink, s.Pending)
				}
			}
		})
	}
}
