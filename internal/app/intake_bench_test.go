package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store/sqlite"
	"github.com/wabarouter/wabarouter/internal/webhook"
)

// storeAcceptor is Pipeline.Accept without the router behind it, so the
// benchmark measures intake alone.
type storeAcceptor struct{ st *sqlite.Store }

func (a storeAcceptor) Accept(ctx context.Context, body []byte) error {
	_, err := a.st.AppendWebhook(ctx, body, time.Now())
	return err
}

// BenchmarkDurableIntake posts signed seed webhooks over loopback, 64 at a
// time, to the real handler and SQLite store, and reports accepted webhooks
// per second and the p99 latency of the 200, with group commit on and off:
//
//	go test -run '^$' -bench DurableIntake -benchtime 5s ./internal/app/
func BenchmarkDurableIntake(b *testing.B) {
	body, err := os.ReadFile("../../testdata/webhooks/seed_account_restriction.json")
	if err != nil {
		b.Fatal(err)
	}
	const secret = "bench-secret"
	sig := webhook.Sign(secret, body)
	for _, group := range []bool{true, false} {
		b.Run(fmt.Sprintf("group_commit=%v", group), func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{GroupCommit: group})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			h := webhook.NewHandler(webhook.Options{VerifyToken: "v", AppSecrets: []string{secret},
				Validate: ValidatePayload, Acceptor: storeAcceptor{st}, Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
			var mu sync.Mutex
			var latencies []time.Duration
			b.SetParallelism(32) // 64 concurrent senders on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(body))
					req.Header.Set(webhook.SignatureHeader, sig)
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if len(latencies) == 0 {
				return
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "webhooks/s")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
