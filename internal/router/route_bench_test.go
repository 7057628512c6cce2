package router

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/benchio"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// BenchmarkRouteBatch routes the seed payloads with the example rules into
// a real SQLite file, in batches of 64 as the pipeline does, each webhook
// about an account of its own, so every matching event opens an incident:
// the store's heaviest routing path. It reports the time per webhook.
//
//	go test ./internal/router -run '^$' -bench RouteBatch -benchtime 4000x
func BenchmarkRouteBatch(b *testing.B) {
	ctx := context.Background()
	src, err := os.ReadFile(filepath.Join("..", "..", "rules.example.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.ParseFile("rules.example.yaml", src, []string{"compliance-slack", "oncall-pagerduty", "legal-email"})
	if err != nil {
		b.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "webhooks", "seed_*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no seed payloads: %v", err)
	}
	var seeds []map[string]any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			if _, ok := m["entry"].([]any); ok {
				seeds = append(seeds, m)
			}
		}
	}
	db, err := sqlite.Open(ctx, benchDBPath(b), sqlite.Options{GroupCommit: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler)})
	at := time.Now()
	ws := make([]store.Webhook, b.N)
	for i := range ws {
		m := seeds[i%len(seeds)]
		for _, e := range m["entry"].([]any) {
			e.(map[string]any)["id"] = json.Number(strconv.FormatInt(900000000000000+int64(i), 10))
		}
		body, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		id, err := db.AppendWebhook(ctx, body, at)
		if err != nil {
			b.Fatal(err)
		}
		ws[i] = store.Webhook{ID: id, Body: body, ReceivedAt: at}
	}
	wrote, writes := benchio.Counters()
	b.ResetTimer()
	for i := 0; i < len(ws); i += 64 {
		batch := ws[i:min(i+64, len(ws))]
		results, err := r.RouteBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, res := range results {
			if res.Err != nil {
				b.Fatalf("webhook %d: %v", res.WebhookID, res.Err)
			}
		}
	}
	b.StopTimer()
	// What the disk was asked to take is steadier than the time on a
	// shared machine, and is what the routing commit waits for.
	benchio.Report(b, wrote, writes)
}

func benchDBPath(b *testing.B) string {
	if p := os.Getenv("BENCH_DB"); p != "" {
		os.Remove(p)
		os.Remove(p + "-wal")
		return p
	}
	return filepath.Join(b.TempDir(), "w.db")
}
