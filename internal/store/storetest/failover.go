package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// handOverRow is the row that hands notification nid over to sink.
func handOverRow(sink, nid string, at time.Time) store.Outbound {
	o := outbound(sink, nid+"-to-"+sink, at)
	o.IncidentID, o.Seq = "inc-1", 1
	return o
}

// testFailOver: a failure recorded with hand-over rows adds them in the
// same transaction, once however often the notification fails, keeps
// the failed row retrying (or dead), and adds nothing under a lost
// lease.
func testFailOver(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := outbound("slack", "a", t0)
	orig.IncidentID, orig.Seq = "inc-1", 1
	enqueue(t, s, orig)
	handOver := []store.Outbound{handOverRow("email", "a", t0), handOverRow("pager", "a", t0)}

	row := lease(t, s, "slack", t0, 1)[0]
	added, err := s.FailOver(ctx, row.ID, row.Lease, false, t0.Add(time.Minute), store.Outcome{At: t0, Err: "503", ErrClass: "retryable"}, handOver)
	if err != nil {
		t.Fatalf("FailOver (retry): %v", err)
	}
	wantNIDs(t, "added by the first hand-over", added, "a-to-email", "a-to-pager")
	email := lease(t, s, "email", t0, 10)
	wantNIDs(t, "the fallback sink's rows", email, "a-to-email")
	if email[0].IncidentID != "inc-1" || email[0].Seq != 1 || string(email[0].Payload) != string(handOver[0].Payload) {
		t.Errorf("handed-over row = %+v, want incident inc-1, seq 1 and the payload given", email[0])
	}
	wantNIDs(t, "the failed row, not due yet", lease(t, s, "slack", t0, 10))

	// Failing again, and then for good, hands over nothing more.
	row = lease(t, s, "slack", t0.Add(time.Minute), 1)[0]
	if row.Attempts != 1 {
		t.Fatalf("attempts of the retried row = %d, want 1", row.Attempts)
	}
	added, err = s.FailOver(ctx, row.ID, row.Lease, false, t0.Add(2*time.Minute), store.Outcome{At: t0.Add(time.Minute), Err: "503"}, handOver)
	if err != nil || len(added) != 0 {
		t.Fatalf("second FailOver = %v, %v; want nothing added", nids(added), err)
	}
	row = lease(t, s, "slack", t0.Add(2*time.Minute), 1)[0]
	added, err = s.FailOver(ctx, row.ID, row.Lease, true, time.Time{}, store.Outcome{At: t0.Add(2 * time.Minute), Err: "400"}, handOver)
	if err != nil || len(added) != 0 {
		t.Fatalf("dead-letter FailOver = %v, %v; want nothing added", nids(added), err)
	}
	dead, err := s.ListDead(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantNIDs(t, "dead rows", dead, "a")
	if dead[0].Attempts != 3 || dead[0].LastError != "400" {
		t.Errorf("dead row: attempts %d, last error %q; want 3 and 400", dead[0].Attempts, dead[0].LastError)
	}
	if st, _ := s.Stats(ctx, t0); st["email"].Pending != 1 || st["pager"].Pending != 1 {
		t.Errorf("pending after three failures = %+v, want one row each on email and pager", st)
	}
	attempts, err := s.Attempts(ctx, []string{"a"})
	if err != nil || len(attempts) != 3 || attempts[2].Result != "dead" || attempts[0].Result != "retry" {
		t.Errorf("delivery log of a = %+v, %v; want retry, retry, dead", attempts, err)
	}

	// A dead letter that is the first failure hands over at once.
	enqueue(t, s, outbound("slack", "b", t0))
	row = lease(t, s, "slack", t0, 1)[0]
	added, err = s.FailOver(ctx, row.ID, row.Lease, true, time.Time{}, store.Outcome{At: t0, Err: "400"},
		[]store.Outbound{outbound("email", "b-to-email", t0)})
	if err != nil {
		t.Fatalf("FailOver (dead): %v", err)
	}
	wantNIDs(t, "added by a dead letter", added, "b-to-email")

	// Under a lost lease the outcome is refused and nothing is handed over.
	enqueue(t, s, outbound("slack", "c", t0))
	old := lease(t, s, "slack", t0, 1)[0]
	holder := leaseAs(t, s, "replica-b", "slack", t0.Add(61*time.Second), 1)
	wantNIDs(t, "re-leased", holder, "c")
	added, err = s.FailOver(ctx, old.ID, old.Lease, true, time.Time{}, store.Outcome{At: t0, Err: "late"},
		[]store.Outbound{outbound("email", "c-to-email", t0)})
	if !errors.Is(err, store.ErrLeaseLost) || len(added) != 0 {
		t.Fatalf("FailOver under a lost lease = %v, %v; want ErrLeaseLost and nothing added", nids(added), err)
	}
	wantNIDs(t, "email rows after the refused hand-over", lease(t, s, "email", t0.Add(time.Hour), 10), "a-to-email", "b-to-email")
}
