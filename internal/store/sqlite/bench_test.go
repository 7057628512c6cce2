package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/benchio"
	"github.com/wabarouter/wabarouter/internal/store"
)

// BenchmarkAppendWebhook measures durable intake with ~64 concurrent
// callers (SetParallelism(32) on 2 cores), the shape of a webhook burst.
func BenchmarkAppendWebhook(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1536)
	for _, gc := range []bool{true, false} {
		b.Run(fmt.Sprintf("GroupCommit=%v", gc), func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "w.db"), Options{GroupCommit: gc})
			if err != nil {
				b.Fatalf("Open: %v", err)
			}
			defer s.Close()
			b.SetBytes(int64(len(body)))
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.AppendWebhook(context.Background(), body, time.Now()); err != nil {
						b.Errorf("AppendWebhook: %v", err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkLeaseAck measures a delivery worker's loop: lease a batch, ack
// each row.
func BenchmarkLeaseAck(b *testing.B) {
	const batch = 32
	ctx := b.Context()
	s := openTest(b, filepath.Join(b.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	now := time.Now()
	enqueueN(b, s, b.N, now)
	b.ResetTimer()
	acked := 0
	for acked < b.N {
		rows, err := s.Lease(ctx, "slack", "bench", now, batch, time.Minute)
		if err != nil || len(rows) == 0 {
			b.Fatalf("Lease after %d acks: %d rows, %v", acked, len(rows), err)
		}
		for _, r := range rows {
			if err := s.Ack(ctx, r.ID, r.Lease, store.Outcome{Receipt: "ok", At: now}); err != nil {
				b.Fatalf("Ack %d: %v", r.ID, err)
			}
		}
		acked += len(rows)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkLeaseAckConcurrent is the delivery loop with 16 sends in
// flight, as a sink with concurrency 16 runs it: the acks of concurrent
// sends share group-committed transactions.
func BenchmarkLeaseAckConcurrent(b *testing.B) {
	const batch, workers = 64, 16
	ctx := b.Context()
	s := openTest(b, filepath.Join(b.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	now := time.Now()
	enqueueN(b, s, b.N, now)
	wrote, writes := benchio.Counters()
	b.ResetTimer()
	rows := make(chan store.Outbound)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range rows {
				if err := s.Ack(ctx, r.ID, r.Lease, store.Outcome{Receipt: "ok", At: now}); err != nil {
					b.Errorf("Ack %d: %v", r.ID, err)
				}
			}
		})
	}
	for leased := 0; leased < b.N; {
		got, err := s.Lease(ctx, "slack", "bench", now, batch, time.Minute)
		if err != nil {
			b.Fatalf("Lease after %d rows: %v", leased, err)
		}
		for _, r := range got {
			rows <- r
		}
		leased += len(got)
		if len(got) == 0 {
			time.Sleep(time.Millisecond) // the rest is leased; wait for acks
		}
	}
	close(rows)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	benchio.Report(b, wrote, writes)
}

// enqueueN fills the outbox in chunks so setup stays cheap.
func enqueueN(b testing.TB, s *Store, n int, now time.Time) {
	ctx := b.Context()
	payload := bytes.Repeat([]byte("p"), 512)
	for done := 0; done < n; {
		id, err := s.AppendWebhook(ctx, []byte(`{}`), now)
		if err != nil {
			b.Fatalf("AppendWebhook: %v", err)
		}
		err = s.Process(ctx, id, func(tx store.Tx) error {
			for ; done < n; done++ {
				o := store.Outbound{Sink: "slack", NotificationID: fmt.Sprint("n", done), Payload: payload,
					State: store.Pending, NextAttempt: now, CreatedAt: now, AcceptedAt: now}
				if err := tx.Enqueue(ctx, o); err != nil {
					return err
				}
				if done%1000 == 999 {
					done++
					return nil
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("enqueue: %v", err)
		}
	}
}

// fillHistory writes rows routed webhooks (with 1 KB bodies) and as many
// sent outbox rows (with 1 KB payloads), all received and sent at at.
func fillHistory(b *testing.B, s *Store, rows int, at time.Time) {
	fill(b, s, rows, at,
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
			INSERT INTO webhooks (id, received_at, processed_at) SELECT i, ?2, ?2 FROM seq`,
		`INSERT INTO webhook_bodies (id, body) SELECT id, zeroblob(1024) FROM webhooks`,
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
			INSERT INTO outbox (id, sink, notification_id, state, next_attempt, created_at, accepted_at, sent_at)
			SELECT i, 'slack', 'n' || i, 'sent', ?2, ?2, ?2, ?2 FROM seq`,
		`INSERT INTO outbox_payloads (id, payload) SELECT id, zeroblob(1024) FROM outbox`)
}

// fill runs each of queries on the writer with ?1 bound to rows and ?2
// to at.
func fill(b *testing.B, s *Store, rows int, at time.Time, queries ...string) {
	for _, q := range queries {
		if _, err := s.write.ExecContext(b.Context(), q, rows, toDB(at)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDuringGC measures what housekeeping costs intake: 300,000
// collectable webhooks (with 1 KB bodies) and as many sent rows, then
// appends one at a time while GC runs. It reports the slowest append and
// how long GC took; b.N is the number of collections.
func BenchmarkAppendDuringGC(b *testing.B) {
	const rows = 300_000
	ctx := b.Context()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var worst, gcTime time.Duration
	for range b.N {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(b.TempDir(), "w.db"), DefaultOptions())
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		fillHistory(b, s, rows, old)
		b.StartTimer()
		done := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			if err := s.GC(context.Background(), old.Add(30*24*time.Hour), time.Hour, time.Hour); err != nil {
				b.Error(err)
			}
			done <- time.Since(start)
		}()
	appending:
		for {
			select {
			case d := <-done:
				gcTime += d
				break appending
			default:
			}
			start := time.Now()
			if _, err := s.AppendWebhook(ctx, []byte(`{}`), time.Now()); err != nil {
				b.Fatal(err)
			}
			worst = max(worst, time.Since(start))
		}
		b.StopTimer()
		s.Close()
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-append-ms")
	b.ReportMetric(gcTime.Seconds()/float64(b.N), "gc-s")
}

// BenchmarkGCNothingDue is housekeeping's pass over a store that keeps
// 300,000 routed webhooks and as many sent rows (fillHistory), and as
// many incidents with a thread each, none old enough to go: what every
// pass costs the writer once the history is full, and should cost next
// to nothing.
func BenchmarkGCNothingDue(b *testing.B) {
	const rows = 300_000
	ctx := b.Context()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(b.TempDir(), "w.db"), DefaultOptions())
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer func() {
		b.StopTimer() // closing is not part of a pass
		s.Close()
	}()
	fillHistory(b, s, rows, at)
	fill(b, s, rows, at,
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
			INSERT INTO incidents (id, rule, key, episode, state, opened_at, updated_at)
			SELECT 'inc-' || i, 'r', 'k' || i, 1, 'open', ?2, ?2 FROM seq`,
		`INSERT INTO incident_threads (incident_id, sink, thread) SELECT id, 'slack', 'C1:' || row FROM incidents`)
	b.ResetTimer()
	for range b.N {
		if err := s.GC(ctx, at.Add(time.Minute), time.Hour, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeaseVaryingLimit is a worker's lease when its free senders,
// and so its limit, differ from one lease to the next, on an outbox with
// nothing due for it: the cost of the statement itself.
func BenchmarkLeaseVaryingLimit(b *testing.B) {
	ctx := b.Context()
	s := openTest(b, filepath.Join(b.TempDir(), "w.db"), DefaultOptions())
	defer s.Close()
	now := time.Now()
	enqueueN(b, s, 64, now)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Lease(ctx, "other", "bench", now, 1+i%16, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
