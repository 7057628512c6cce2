// Package storetest holds the contract tests every store.Store
// implementation must pass. They use only the store interface and a fixed
// fake clock, so a Postgres implementation can run them unchanged.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// t0 is the fake clock's origin; tests never read the wall clock.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Opener opens a fresh, empty store for one test, and with another a
// second handle on that same store, as a second replica would hold it.
type Opener func(t *testing.T) (s store.Store, another func(t *testing.T) store.Store)

// owner is the lease owner of the tests that need only one.
const owner = "replica-a"

// Run runs the contract against fresh stores from open (one per subtest).
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AppendPendingProcess", testAppendPendingProcess},
		{"ConcurrentAppendsKeepTheirIDs", testConcurrentAppendsKeepTheirIDs},
		{"ConcurrentOutcomesKeepTheirAnswers", testConcurrentOutcomesKeepTheirAnswers},
		{"ProcessRollback", testProcessRollback},
		{"ProcessUnknown", testProcessUnknown},
		{"ProcessBatch", testProcessBatch},
		{"ProcessBatchRollsBackWhatReachedTheStore", testProcessBatchRollsBackWhatReachedTheStore},
		{"MarkChange", testMarkChange},
		{"EnqueueDuplicate", testEnqueueDuplicate},
		{"LeaseDueAndSink", testLeaseDueAndSink},
		{"LeaseExpiry", testLeaseExpiry},
		{"AckRetry", testAckRetry},
		{"DeadReplayDrop", testDeadReplayDrop},
		{"NotFound", testNotFound},
		{"Stats", testStats},
		{"GC", testGC},
		{"LeaseFencing", testLeaseFencing},
		{"LeaseRunOutButKept", testLeaseRunOutButKept},
		{"RenewAll", testRenewAll},
		{"ReleaseOwnLeases", testReleaseOwnLeases},
		{"Resent", testResent},
		{"ParkWebhook", testParkWebhook},
		{"Incidents", testIncidents},
		{"IncidentOrderAndThread", testIncidentOrderAndThread},
		{"Decisions", testDecisions},
		{"Attempts", testAttempts},
		{"Timers", testTimers},
		{"UpdateRollsBackAlone", testUpdateRollsBackAlone},
		{"GCRecords", testGCRecords},
		{"Ping", testPing},
		{"Silences", testSilences},
		{"WebhookByID", testWebhookByID},
		{"FailOver", testFailOver},
		{"Counts", testCounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
	shared := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"TwoHandlesNeverHoldOneRow", testTwoHandlesNeverHoldOneRow},
		{"TwoHandlesFenceOutcomes", testTwoHandlesFenceOutcomes},
		{"TwoReplicasOpenOneIncident", testTwoReplicasOpenOneIncident},
		{"ConcurrentClaimsRouteOnce", testConcurrentClaimsRouteOnce},
		{"LeaderOneAtATime", testLeaderOneAtATime},
		{"LeaderRace", testLeaderRace},
		{"ReplicasSeeEachOther", testReplicasSeeEachOther},
	}
	for _, tc := range shared {
		t.Run(tc.name, func(t *testing.T) {
			a, another := open(t)
			t.Cleanup(func() { a.Close() })
			b := another(t)
			t.Cleanup(func() { b.Close() })
			tc.fn(t, a, b)
		})
	}
	// Each closes its first handle itself, then opens the store again.
	reopened := []struct {
		name string
		fn   func(t *testing.T, s store.Store, reopen func(t *testing.T) store.Store)
	}{
		{"CountsSurviveReopen", testCountsSurviveReopen},
	}
	for _, tc := range reopened {
		t.Run(tc.name, func(t *testing.T) {
			s, another := open(t)
			tc.fn(t, s, another)
		})
	}
}

func appendN(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		id, err := s.AppendWebhook(t.Context(), []byte(fmt.Sprintf(`{"n":%d}`, i)), t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatalf("AppendWebhook %d: %v", i, err)
		}
		ids[i] = id
	}
	return ids
}

func pending(t *testing.T, s store.Store) []store.Webhook {
	t.Helper()
	ws, err := s.PendingWebhooks(t.Context(), t0, 100)
	if err != nil {
		t.Fatalf("PendingWebhooks: %v", err)
	}
	return ws
}

// process runs fn for webhook id and fails the test on error.
func process(t *testing.T, s store.Store, id int64, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.Process(t.Context(), id, func(tx store.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("Process %d: %v", id, err)
	}
}

// inTx runs fn in a Process of a fresh webhook, for Tx-level tests.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	id, err := s.AppendWebhook(t.Context(), []byte(`{}`), t0)
	if err != nil {
		t.Fatalf("AppendWebhook: %v", err)
	}
	process(t, s, id, fn)
}

func outbound(sink, nid string, next time.Time) store.Outbound {
	return store.Outbound{Sink: sink, NotificationID: nid, Payload: []byte(`{"id":"` + nid + `"}`),
		State: store.Pending, NextAttempt: next, CreatedAt: next, AcceptedAt: next.Add(-time.Second)}
}

// enqueue enqueues os in one transaction.
func enqueue(t *testing.T, s store.Store, os ...store.Outbound) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, o := range os {
			if err := tx.Enqueue(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
}

func lease(t *testing.T, s store.Store, sink string, now time.Time, limit int) []store.Outbound {
	t.Helper()
	return leaseAs(t, s, owner, sink, now, limit)
}

func leaseAs(t *testing.T, s store.Store, who, sink string, now time.Time, limit int) []store.Outbound {
	t.Helper()
	rows, err := s.Lease(t.Context(), sink, who, now, limit, time.Minute)
	if err != nil {
		t.Fatalf("Lease %s at %s: %v", sink, now, err)
	}
	return rows
}

func nids(rows []store.Outbound) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.NotificationID
	}
	return out
}

func wantNIDs(t *testing.T, what string, rows []store.Outbound, want ...string) {
	t.Helper()
	got := nids(rows)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func testAppendPendingProcess(t *testing.T, s store.Store) {
	ids := appendN(t, s, 3)
	ws := pending(t, s)
	if len(ws) != 3 {
		t.Fatalf("pending: got %d, want 3", len(ws))
	}
	for i, w := range ws {
		if w.ID != ids[i] || string(w.Body) != fmt.Sprintf(`{"n":%d}`, i) || !w.ReceivedAt.Equal(t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("pending[%d] = {%d %q %s}, want id %d in order", i, w.ID, w.Body, w.ReceivedAt, ids[i])
		}
	}
	if ws, err := s.PendingWebhooks(t.Context(), t0, 2); err != nil || len(ws) != 2 {
		t.Fatalf("PendingWebhooks(limit 2) = %d rows, %v", len(ws), err)
	}
	ran := 0
	process(t, s, ids[1], func(context.Context, store.Tx) error { ran++; return nil })
	process(t, s, ids[1], func(context.Context, store.Tx) error { ran++; return nil })
	if ran != 1 {
		t.Errorf("fn ran %d times for a webhook processed twice, want 1", ran)
	}
	if ws := pending(t, s); len(ws) != 2 || ws[0].ID != ids[0] || ws[1].ID != ids[2] {
		t.Fatalf("pending after process: %+v, want ids %d and %d", ws, ids[0], ids[2])
	}
}

func testProcessRollback(t *testing.T, s store.Store) {
	id := appendN(t, s, 1)[0]
	boom := errors.New("boom")
	err := s.Process(t.Context(), id, func(tx store.Tx) error {
		if err := tx.Enqueue(t.Context(), outbound("slack", "n1", t0)); err != nil {
			return err
		}
		if _, err := tx.MarkChange(t.Context(), "fp", t0, time.Hour); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Process error = %v, want wrapping %v", err, boom)
	}
	if ws := pending(t, s); len(ws) != 1 || ws[0].ID != id {
		t.Fatalf("webhook not pending after failed Process: %+v", ws)
	}
	if rows := lease(t, s, "slack", t0, 10); len(rows) != 0 {
		t.Fatalf("outbox rows survived rollback: %v", nids(rows))
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if ok, err := tx.MarkChange(ctx, "fp", t0, time.Hour); err != nil || !ok {
			t.Errorf("fingerprint survived rollback: MarkChange = %v, %v", ok, err)
		}
		return nil
	})
}

func testProcessBatch(t *testing.T, s store.Store) {
	ids := appendN(t, s, 4)
	process(t, s, ids[3], func(context.Context, store.Tx) error { return nil })
	boom := errors.New("boom")
	var order []int64
	errs, err := s.ProcessBatch(t.Context(), []int64{ids[0], ids[1], 999999, ids[2], ids[3]}, func(id int64, tx store.Tx) error {
		if id == ids[0] {
			order = nil // the batch tried again: only its last pass counts
		}
		order = append(order, id)
		if err := tx.Enqueue(t.Context(), outbound("slack", fmt.Sprint("n", id), t0)); err != nil {
			return err
		}
		// A write an earlier pass made must be gone in the next one: the
		// fingerprint is new each time.
		fresh, err := tx.MarkChange(t.Context(), fmt.Sprint("fp", id), t0, time.Hour)
		if err != nil {
			return err
		}
		if !fresh {
			t.Errorf("webhook %d: its fingerprint is marked already, left by an earlier pass of the batch", id)
		}
		if id == ids[1] {
			return boom // its enqueue must be rolled back, and only it
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ProcessBatch: %v", err)
	}
	if fmt.Sprint(order) != fmt.Sprint([]int64{ids[0], ids[1], ids[2]}) {
		t.Errorf("fn ran for %v, want %v in order (unknown and processed ids skipped)", order, ids[:3])
	}
	if len(errs) != 5 || errs[0] != nil || !errors.Is(errs[1], boom) || !errors.Is(errs[2], store.ErrNotFound) || errs[3] != nil || errs[4] != nil {
		t.Fatalf("errs = %v, want [nil boom ErrNotFound nil nil]", errs)
	}
	if ws := pending(t, s); len(ws) != 1 || ws[0].ID != ids[1] {
		t.Fatalf("pending after batch: %+v, want only the failed webhook %d", ws, ids[1])
	}
	wantNIDs(t, "rows after batch", lease(t, s, "slack", t0, 10), fmt.Sprint("n", ids[0]), fmt.Sprint("n", ids[2]))
}

// testProcessBatchRollsBackWhatReachedTheStore: a webhook whose fn fails
// after its writes were read back, or whose write the store itself
// refuses, is rolled back alone, whatever of it the store had already
// been sent, and the refused write is named in its error.
func testProcessBatchRollsBackWhatReachedTheStore(t *testing.T, s store.Store) {
	ids := appendN(t, s, 3)
	boom := errors.New("boom")
	errs, err := s.ProcessBatch(t.Context(), ids, func(id int64, tx store.Tx) error {
		ctx := t.Context()
		if err := tx.Enqueue(ctx, outbound("slack", fmt.Sprint("n", id), t0)); err != nil {
			return err
		}
		switch id {
		case ids[0]:
			// A read after the enqueue: both have reached the store.
			if _, err := tx.MarkChange(ctx, fmt.Sprint("fp", id), t0, time.Hour); err != nil {
				return err
			}
			return boom
		case ids[1]:
			// A decision without its record is refused by the store.
			if err := tx.AppendDecision(ctx, store.Decision{WebhookID: id, At: t0}); err != nil {
				return err
			}
			_, err := tx.MarkChange(ctx, fmt.Sprint("fp", id), t0, time.Hour)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ProcessBatch: %v", err)
	}
	if len(errs) != 3 || !errors.Is(errs[0], boom) || errs[1] == nil || !strings.Contains(errs[1].Error(), "decision") || errs[2] != nil {
		t.Fatalf("errs = %v, want [boom, the refused decision, nil]", errs)
	}
	if ws := pending(t, s); len(ws) != 2 || ws[0].ID != ids[0] || ws[1].ID != ids[1] {
		t.Fatalf("pending after batch: %+v, want the two failed webhooks", ws)
	}
	wantNIDs(t, "rows after batch", lease(t, s, "slack", t0, 10), fmt.Sprint("n", ids[2]))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, id := range ids[:2] {
			if ok, err := tx.MarkChange(ctx, fmt.Sprint("fp", id), t0, time.Hour); err != nil || !ok {
				t.Errorf("webhook %d's fingerprint survived its rollback: MarkChange = %v, %v", id, ok, err)
			}
		}
		return nil
	})
}

func testProcessUnknown(t *testing.T, s store.Store) {
	err := s.Process(t.Context(), 424242, func(store.Tx) error { return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Process(unknown) = %v, want ErrNotFound", err)
	}
}

func testMarkChange(t *testing.T, s store.Store) {
	const window = 10 * time.Minute
	steps := []struct {
		fp   string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Minute, false},
		{"b", time.Minute, true},
		{"a", window - time.Second, false},
		{"a", window + time.Second, true},
		{"a", window + 2*time.Second, false},
	}
	for i, st := range steps {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.MarkChange(ctx, st.fp, t0.Add(st.at), window)
			if err != nil {
				return err
			}
			if got != st.want {
				t.Errorf("step %d: MarkChange(%q, +%s) = %v, want %v", i, st.fp, st.at, got, st.want)
			}
			return nil
		})
	}
}

func testEnqueueDuplicate(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "n1", t0), outbound("pd", "n1", t0))
	dup := outbound("slack", "n1", t0)
	dup.Payload = []byte(`{"dup":true}`)
	enqueue(t, s, dup)
	rows := lease(t, s, "slack", t0, 10)
	wantNIDs(t, "slack rows", rows, "n1")
	if string(rows[0].Payload) != `{"id":"n1"}` {
		t.Errorf("duplicate Enqueue overwrote payload: %s", rows[0].Payload)
	}
	wantNIDs(t, "pd rows", lease(t, s, "pd", t0, 10), "n1")
}

func testLeaseDueAndSink(t *testing.T, s store.Store) {
	enqueue(t, s,
		outbound("slack", "late", t0.Add(time.Hour)),
		outbound("slack", "a", t0),
		outbound("slack", "b", t0.Add(time.Second)),
		outbound("pd", "p", t0),
	)
	rows := lease(t, s, "slack", t0.Add(time.Second), 1)
	wantNIDs(t, "limit 1", rows, "a")
	r := rows[0]
	if r.ID == 0 || r.Sink != "slack" || r.State != store.Pending || r.Attempts != 0 ||
		!r.CreatedAt.Equal(t0) || !r.NextAttempt.Equal(t0) || !r.AcceptedAt.Equal(t0.Add(-time.Second)) {
		t.Errorf("leased row fields: %+v", r)
	}
	wantNIDs(t, "rest due", lease(t, s, "slack", t0.Add(time.Second), 10), "b")
	wantNIDs(t, "nothing due", lease(t, s, "slack", t0.Add(2*time.Second), 10))
	wantNIDs(t, "other sink", lease(t, s, "pd", t0, 10), "p")
	wantNIDs(t, "unknown sink", lease(t, s, "email", t0, 10))
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "a", t0))
	wantNIDs(t, "first lease", lease(t, s, "slack", t0, 10), "a")
	wantNIDs(t, "live lease", lease(t, s, "slack", t0.Add(59*time.Second), 10))
	wantNIDs(t, "expired lease", lease(t, s, "slack", t0.Add(61*time.Second), 10), "a")
}

func testAckRetry(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "a", t0), outbound("slack", "b", t0))
	rows := lease(t, s, "slack", t0, 10)
	wantNIDs(t, "lease", rows, "a", "b")
	ctx := t.Context()
	if err := s.Ack(ctx, rows[0].ID, rows[0].Lease, store.Outcome{Receipt: "ts-1", At: t0}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	next := t0.Add(30 * time.Second)
	if err := s.Retry(ctx, rows[1].ID, rows[1].Lease, next, store.Outcome{Err: "503"}); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	// Retry releases the lease, but b is not due until next; a is gone.
	wantNIDs(t, "before next", lease(t, s, "slack", next.Add(-time.Second), 10))
	rows = lease(t, s, "slack", next.Add(3*time.Minute), 10)
	wantNIDs(t, "after next", rows, "b")
	if rows[0].Attempts != 1 || !rows[0].NextAttempt.Equal(next) || rows[0].LastError != "503" {
		t.Errorf("after Retry: attempts %d next %s err %q", rows[0].Attempts, rows[0].NextAttempt, rows[0].LastError)
	}
	if err := s.Retry(ctx, rows[0].ID, rows[0].Lease, next, store.Outcome{Err: "503 again"}); err != nil {
		t.Fatalf("Retry 2: %v", err)
	}
	if rows = lease(t, s, "slack", next.Add(10*time.Minute), 10); len(rows) != 1 || rows[0].Attempts != 2 {
		t.Fatalf("after second Retry: %+v, want attempts 2", rows)
	}
}

func testDeadReplayDrop(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "a", t0), outbound("pd", "b", t0))
	a, b := lease(t, s, "slack", t0, 1)[0], lease(t, s, "pd", t0, 1)[0]
	ctx := t.Context()
	for _, r := range []store.Outbound{a, b} {
		if err := s.Retry(ctx, r.ID, r.Lease, t0, store.Outcome{Err: "x"}); err != nil {
			t.Fatalf("Retry %d: %v", r.ID, err)
		}
		again := lease(t, s, r.Sink, t0, 1)[0]
		if err := s.DeadLetter(ctx, again.ID, again.Lease, store.Outcome{Err: "400 bad request"}); err != nil {
			t.Fatalf("DeadLetter %d: %v", r.ID, err)
		}
	}
	dead, err := s.ListDead(ctx, 10)
	if err != nil {
		t.Fatalf("ListDead: %v", err)
	}
	wantNIDs(t, "dead", dead, "a", "b")
	// Two attempts: the one retried and the one that dead-lettered it.
	if dead[0].State != store.Dead || dead[0].LastError != "400 bad request" || dead[0].Attempts != 2 {
		t.Errorf("dead row: %+v", dead[0])
	}
	wantNIDs(t, "dead not leased", lease(t, s, "slack", t0.Add(time.Hour), 10))
	if err := s.Replay(ctx, a.ID, t0.Add(time.Hour)); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	rows := lease(t, s, "slack", t0.Add(time.Hour), 10)
	wantNIDs(t, "replayed", rows, "a")
	if rows[0].Attempts != 0 || rows[0].State != store.Pending {
		t.Errorf("replayed row: %+v, want pending with attempts 0", rows[0])
	}
	if err := s.Drop(ctx, b.ID); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if dead, err = s.ListDead(ctx, 10); err != nil || len(dead) != 0 {
		t.Fatalf("ListDead after replay+drop: %v, %v", nids(dead), err)
	}
}

// testConcurrentOutcomes: outcomes recorded at the same moment, which a
// store may commit together, each get their own answer and their own
// effect: every ack, retry and dead letter under a held lease lands, one
// under a stale lease is refused, and one for no row is not found.
func testConcurrentOutcomesKeepTheirAnswers(t *testing.T, s store.Store) {
	const n = 24
	var rows []store.Outbound
	for i := range n {
		rows = append(rows, outbound("slack", fmt.Sprintf("c%02d", i), t0))
	}
	enqueue(t, s, rows...)
	held := lease(t, s, "slack", t0, n)
	if len(held) != n {
		t.Fatalf("leased %d rows, want %d", len(held), n)
	}
	ctx := t.Context()
	stale := held[1].Lease
	stale.Token++
	const unknown = 987654
	errs := make([]error, n+2)
	var wg sync.WaitGroup
	for i, r := range held {
		wg.Go(func() {
			o := store.Outcome{At: t0, Receipt: "r-" + r.NotificationID, Err: "e-" + r.NotificationID}
			switch i % 3 {
			case 0:
				errs[i] = s.Ack(ctx, r.ID, r.Lease, o)
			case 1:
				errs[i] = s.Retry(ctx, r.ID, r.Lease, t0.Add(time.Hour), o)
			default:
				errs[i] = s.DeadLetter(ctx, r.ID, r.Lease, o)
			}
		})
	}
	wg.Go(func() { errs[n] = s.Ack(ctx, held[1].ID, stale, store.Outcome{At: t0, Receipt: "stale"}) })
	wg.Go(func() { errs[n+1] = s.Ack(ctx, unknown, held[0].Lease, store.Outcome{At: t0, Receipt: "none"}) })
	wg.Wait()
	var sent, retried, dead []string
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("outcome of %s = %v", held[i].NotificationID, err)
		}
		switch i % 3 {
		case 0:
			sent = append(sent, held[i].NotificationID)
		case 1:
			retried = append(retried, held[i].NotificationID)
		default:
			dead = append(dead, held[i].NotificationID)
		}
	}
	if !errors.Is(errs[n], store.ErrLeaseLost) {
		t.Errorf("ack under a stale lease = %v, want ErrLeaseLost", errs[n])
	}
	if !errors.Is(errs[n+1], store.ErrNotFound) {
		t.Errorf("ack of no row = %v, want ErrNotFound", errs[n+1])
	}
	wantNIDs(t, "nothing due before the retries", lease(t, s, "slack", t0.Add(time.Minute+time.Second), n))
	wantNIDs(t, "retried", lease(t, s, "slack", t0.Add(time.Hour), n), retried...)
	got, err := s.ListDead(ctx, n)
	if err != nil {
		t.Fatalf("ListDead: %v", err)
	}
	wantNIDs(t, "dead", got, dead...)
	hist, err := s.Attempts(ctx, sent)
	if err != nil {
		t.Fatalf("Attempts: %v", err)
	}
	receipts := map[string]string{}
	for _, a := range hist {
		receipts[a.NotificationID] = a.Result + " " + a.Outcome.Receipt
	}
	for _, nid := range sent {
		if want := "sent r-" + nid; receipts[nid] != want {
			t.Errorf("attempt of %s = %q, want %q", nid, receipts[nid], want)
		}
	}
	if len(hist) != len(sent) {
		t.Errorf("%d attempts of the %d sent, want one each", len(hist), len(sent))
	}
}

func testNotFound(t *testing.T, s store.Store) {
	enqueue(t, s, outbound("slack", "a", t0))
	held := lease(t, s, "slack", t0, 1)[0]
	pendingID, l := held.ID, held.Lease
	ctx := t.Context()
	const unknown = 987654
	cases := []struct {
		name string
		call func() error
	}{
		{"Ack unknown", func() error { return s.Ack(ctx, unknown, l, store.Outcome{Receipt: "r", At: t0}) }},
		{"Retry unknown", func() error { return s.Retry(ctx, unknown, l, t0, store.Outcome{Err: "e"}) }},
		{"Replay unknown", func() error { return s.Replay(ctx, unknown, t0) }},
		{"Replay pending", func() error { return s.Replay(ctx, pendingID, t0) }},
		{"Drop unknown", func() error { return s.Drop(ctx, unknown) }},
		{"DeadLetter unknown", func() error { return s.DeadLetter(ctx, unknown, l, store.Outcome{Err: "e"}) }},
		{"ReplayWebhook unknown", func() error { return s.ReplayWebhook(ctx, unknown) }},
		{"DropWebhook unknown", func() error { return s.DropWebhook(ctx, unknown) }},
		{"FailWebhook unknown", func() error {
			_, err := s.FailWebhook(ctx, unknown, "e", t0, time.Second, 3)
			return err
		}},
	}
	for _, tc := range cases {
		if err := tc.call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", tc.name, err)
		}
	}
}

func testStats(t *testing.T, s store.Store) {
	enqueue(t, s,
		outbound("slack", "a", t0.Add(2*time.Second)),
		outbound("slack", "b", t0.Add(time.Second)),
		outbound("slack", "c", t0),
		outbound("pd", "p", t0.Add(5*time.Second)),
	)
	c := lease(t, s, "slack", t0, 1)[0]
	if err := s.Ack(t.Context(), c.ID, c.Lease, store.Outcome{Receipt: "r", At: t0}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	st, err := s.Stats(t.Context(), t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	want := map[string]store.SinkStats{
		"slack": {Pending: 2, OldestPending: t0.Add(time.Second)},
		"pd":    {Pending: 1, OldestPending: t0.Add(5 * time.Second)},
	}
	if len(st) != len(want) {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	for sink, w := range want {
		if g := st[sink]; g.Pending != w.Pending || !g.OldestPending.Equal(w.OldestPending) {
			t.Errorf("Stats[%s] = %+v, want %+v", sink, g, w)
		}
	}
}

func testGC(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.MarkChange(ctx, "old", t0, time.Minute); err != nil {
			return err
		}
		_, err := tx.MarkChange(ctx, "young", t0, time.Hour)
		return err
	})
	enqueue(t, s, outbound("slack", "a", t0))
	a := lease(t, s, "slack", t0, 1)[0]
	if err := s.Ack(t.Context(), a.ID, a.Lease, store.Outcome{Receipt: "r", At: t0}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	unprocessed := appendN(t, s, 1)[0]
	if err := s.GC(t.Context(), t0.Add(2*time.Minute), time.Minute, time.Minute); err != nil {
		t.Fatalf("GC: %v", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		// A window of a day would make "old" a redelivery had GC kept it.
		if ok, err := tx.MarkChange(ctx, "old", t0.Add(2*time.Minute), 24*time.Hour); err != nil || !ok {
			t.Errorf("expired fingerprint kept: MarkChange = %v, %v", ok, err)
		}
		if ok, err := tx.MarkChange(ctx, "young", t0.Add(2*time.Minute), 24*time.Hour); err != nil || ok {
			t.Errorf("live fingerprint removed: MarkChange = %v, %v", ok, err)
		}
		return nil
	})
	if ws := pending(t, s); len(ws) != 1 || ws[0].ID != unprocessed {
		t.Errorf("GC touched unprocessed webhooks: %+v", ws)
	}
	// The sent row is gone, so re-enqueueing its id is a fresh row again.
	enqueue(t, s, outbound("slack", "a", t0))
	wantNIDs(t, "sent row collected", lease(t, s, "slack", t0, 10), "a")
}
