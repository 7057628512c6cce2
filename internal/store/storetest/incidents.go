package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

func incident(id, rule, key string, episode int, state string, at time.Time) store.Incident {
	return store.Incident{ID: id, Rule: rule, Key: key, Episode: episode, WabaID: "w1", State: state, Severity: 3,
		Title: "title of " + id, Events: 1, Seq: 1, OpenedAt: at, UpdatedAt: at, Detail: []byte(`{"k":"` + id + `"}`)}
}

func save(t *testing.T, s store.Store, incs ...store.Incident) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, inc := range incs {
			if err := tx.SaveIncident(ctx, inc); err != nil {
				return err
			}
		}
		return nil
	})
}

// testIncidents: an incident is read back by rule and key (its latest
// episode), by ID, and among the open ones under its key; a rolled-back
// save leaves nothing.
func testIncidents(t *testing.T, s store.Store) {
	ban1 := incident("i1", "banned", "w1/ban", 1, "resolved", t0)
	ban1.ResolvedAt, ban1.Reason = t0.Add(time.Hour), "REINSTATE"
	ban2 := incident("i2", "banned", "w1/ban", 2, "open", t0.Add(2*time.Hour))
	ban2.Sinks = []string{"pager", "email"}
	other := incident("i3", "paged", "w1/ban", 1, "open", t0.Add(3*time.Hour))
	quality := incident("i4", "quality", "w1/phone/+1/quality", 1, "open", t0.Add(4*time.Hour))
	quality.WabaID = "w2"
	save(t, s, ban1, ban2, other, quality)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, found, err := tx.Incident(ctx, "banned", "w1/ban")
		if err != nil || !found || got.ID != "i2" || got.Episode != 2 || got.State != "open" || string(got.Detail) != `{"k":"i2"}` ||
			!got.OpenedAt.Equal(t0.Add(2*time.Hour)) || got.Title != "title of i2" || got.Severity != 3 ||
			fmt.Sprint(got.Sinks) != "[pager email]" {
			t.Errorf("Incident(banned, w1/ban) = %+v, %v, %v; want episode 2", got, found, err)
		}
		if _, found, err := tx.Incident(ctx, "banned", "w9/ban"); err != nil || found {
			t.Errorf("Incident of an unknown key: found %v, %v", found, err)
		}
		got, found, err = tx.IncidentByID(ctx, "i1")
		if err != nil || !found || got.Reason != "REINSTATE" || !got.ResolvedAt.Equal(t0.Add(time.Hour)) || len(got.Sinks) != 0 {
			t.Errorf("IncidentByID(i1) = %+v, %v, %v", got, found, err)
		}
		open, err := tx.OpenIncidents(ctx, "w1/ban")
		if err != nil || len(open) != 2 || open[0].ID != "i2" || open[1].ID != "i3" {
			t.Errorf("OpenIncidents(w1/ban) = %+v, %v; want i2 and i3, of two rules", open, err)
		}
		// Saving again replaces.
		ban2.Events, ban2.Seq, ban2.Sinks = 5, 3, []string{"pager", "email", "slack"}
		if err := tx.SaveIncident(ctx, ban2); err != nil {
			return err
		}
		if got, _, _ := tx.IncidentByID(ctx, "i2"); got.Events != 5 || got.Seq != 3 || len(got.Sinks) != 3 {
			t.Errorf("after a second save: events %d seq %d sinks %v, want 5, 3 and three sinks", got.Events, got.Seq, got.Sinks)
		}
		// A list read right after a save sees it too.
		ban2.Events = 6
		if err := tx.SaveIncident(ctx, ban2); err != nil {
			return err
		}
		if open, err := tx.OpenIncidents(ctx, "w1/ban"); err != nil || len(open) != 2 || open[0].Events != 6 {
			t.Errorf("OpenIncidents after a save = %+v, %v; want i2 with 6 events first", open, err)
		}
		return nil
	})
	id := appendN(t, s, 1)[0]
	boom := errors.New("boom")
	err := s.Process(t.Context(), id, func(tx store.Tx) error {
		if err := tx.SaveIncident(t.Context(), incident("i9", "r", "k", 1, "open", t0)); err != nil {
			return err
		}
		rolledBack := ban2
		rolledBack.Sinks = []string{"chat"}
		if err := tx.SaveIncident(t.Context(), rolledBack); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Process = %v", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, found, _ := tx.IncidentByID(ctx, "i9"); found {
			t.Error("a rolled-back incident was kept")
		}
		if got, _, err := tx.IncidentByID(ctx, "i2"); err != nil || fmt.Sprint(got.Sinks) != "[pager email slack]" {
			t.Errorf("i2's sinks = %v, %v; want [pager email slack], the rolled-back save not kept", got.Sinks, err)
		}
		return nil
	})
	all, err := s.Incidents(t.Context(), store.IncidentFilter{})
	if err != nil || len(all) != 4 || all[0].ID != "i4" {
		t.Errorf("Incidents() = %d, %v; want 4, newest first", len(all), err)
	}
	open, err := s.Incidents(t.Context(), store.IncidentFilter{State: "open", WabaID: "w1"})
	if err != nil || len(open) != 2 {
		t.Errorf("Incidents(open, w1) = %+v, %v; want i2 and i3", open, err)
	}
	if got, found, err := s.GetIncident(t.Context(), "i4"); err != nil || !found || got.WabaID != "w2" {
		t.Errorf("GetIncident(i4) = %+v, %v, %v", got, found, err)
	}
	if _, found, err := s.GetIncident(t.Context(), "nope"); err != nil || found {
		t.Errorf("GetIncident(nope): found %v, %v", found, err)
	}
}

func incidentRow(sink, nid, incidentID string, seq int) store.Outbound {
	o := outbound(sink, nid, t0)
	o.IncidentID, o.Seq = incidentID, seq
	return o
}

// testIncidentOrderAndThread: of one incident's rows for one sink, only
// the first pending transition is leased; the others wait until it is
// sent (or dead), and then carry the thread its send returned.
func testIncidentOrderAndThread(t *testing.T, s store.Store) {
	ctx := t.Context()
	enqueue(t, s,
		incidentRow("slack", "open-1", "inc-1", 1),
		incidentRow("slack", "update-1", "inc-1", 2),
		incidentRow("slack", "resolve-1", "inc-1", 3),
		incidentRow("pager", "open-1-pd", "inc-1", 1),
		incidentRow("slack", "open-2", "inc-2", 1),
		outbound("slack", "loose", t0),
	)
	first := lease(t, s, "slack", t0, 10)
	wantNIDs(t, "first lease", first, "open-1", "open-2", "loose")
	for _, r := range first {
		if r.Thread != "" {
			t.Errorf("%s: thread %q before any send", r.NotificationID, r.Thread)
		}
	}
	wantNIDs(t, "another sink's row of the same incident is its own", lease(t, s, "pager", t0, 10), "open-1-pd")
	wantNIDs(t, "while open-1 is in flight", lease(t, s, "slack", t0, 10))
	if err := s.Ack(ctx, first[0].ID, first[0].Lease, store.Outcome{At: t0, Receipt: "C1:111", Thread: "C1:111"}); err != nil {
		t.Fatal(err)
	}
	next := lease(t, s, "slack", t0, 10)
	wantNIDs(t, "after open-1 was sent", next, "update-1")
	if next[0].Thread != "C1:111" {
		t.Errorf("update-1 thread %q, want the root's C1:111", next[0].Thread)
	}
	// A later send's thread does not replace the first one's; a dead
	// transition lets the next one go.
	if err := s.DeadLetter(ctx, next[0].ID, next[0].Lease, store.Outcome{At: t0, Err: "400", ErrClass: "permanent"}); err != nil {
		t.Fatal(err)
	}
	last := lease(t, s, "slack", t0, 10)
	wantNIDs(t, "after update-1 died", last, "resolve-1")
	if err := s.Ack(ctx, last[0].ID, last[0].Lease, store.Outcome{At: t0, Receipt: "C1:333", Thread: "C1:333"}); err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, incidentRow("slack", "late-1", "inc-1", 4))
	if got := lease(t, s, "slack", t0, 10); len(got) != 1 || got[0].Thread != "C1:111" {
		t.Errorf("late-1 = %+v; want the first root thread C1:111", got)
	}
}

// testDecisions: routing records are kept in order and found by account,
// webhook, incident and time.
func testDecisions(t *testing.T, s store.Store) {
	ids := appendN(t, s, 2)
	// i1 is open still; i2 was resolved by the first event; i10 is a
	// name i1 is part of.
	i2 := incident("i2", "r", "w1/ban", 1, "resolved", t0)
	i2.ResolvedAt = t0
	save(t, s, incident("i1", "r", "w1/k", 1, "open", t0), i2, incident("i10", "r", "w2/k", 1, "open", t0))
	records := []store.Decision{
		{WebhookID: ids[0], Index: 0, At: t0, WabaID: "w1", Field: "account_update", Event: "DISABLED_UPDATE", IncidentIDs: []string{"i1", "i2"}, Record: []byte(`{"n":1}`)},
		{WebhookID: ids[0], Index: 1, At: t0.Add(time.Minute), WabaID: "w2", Field: "flows", Event: "X", IncidentIDs: []string{"i10"}, Record: []byte(`{"n":2}`)},
		{WebhookID: ids[1], Index: 0, At: t0.Add(time.Hour), WabaID: "w1", Field: "account_update", Event: "DISABLED_UPDATE", IncidentIDs: []string{"i1"}, Record: []byte(`{"n":3}`)},
	}
	for i, id := range ids {
		process(t, s, id, func(ctx context.Context, tx store.Tx) error {
			for _, d := range records {
				if d.WebhookID == id {
					if err := tx.AppendDecision(ctx, d); err != nil {
						return err
					}
				}
			}
			return nil
		})
		_ = i
	}
	cases := []struct {
		name string
		f    store.DecisionFilter
		want string
	}{
		{"all", store.DecisionFilter{}, "[1 2 3]"},
		{"by waba", store.DecisionFilter{WabaID: "w1"}, "[1 3]"},
		{"by webhook", store.DecisionFilter{WebhookID: ids[0]}, "[1 2]"},
		{"by incident", store.DecisionFilter{IncidentID: "i1"}, "[1 3]"},
		{"by a resolved incident", store.DecisionFilter{IncidentID: "i2"}, "[1]"},
		{"by an incident named like another", store.DecisionFilter{IncidentID: "i10"}, "[2]"},
		{"by an unknown incident", store.DecisionFilter{IncidentID: "i3"}, "[]"},
		{"since", store.DecisionFilter{Since: t0.Add(time.Minute)}, "[2 3]"},
		{"limit", store.DecisionFilter{Limit: 1}, "[1]"},
	}
	for _, c := range cases {
		got, err := s.Decisions(t.Context(), c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ns []string
		for _, d := range got {
			ns = append(ns, string(d.Record[5:6]))
		}
		if fmt.Sprint(ns) != c.want {
			t.Errorf("%s: records %v, want %s", c.name, ns, c.want)
		}
	}
	got, _ := s.Decisions(t.Context(), store.DecisionFilter{WebhookID: ids[0]})
	if len(got) != 2 || fmt.Sprint(got[0].IncidentIDs) != "[i1 i2]" || got[0].Field != "account_update" || !got[0].At.Equal(t0) || fmt.Sprint(got[1].IncidentIDs) != "[i10]" {
		t.Errorf("decisions of webhook %d = %+v", ids[0], got)
	}
}

// testAttempts: every recorded outcome is in the delivery log, in order,
// and a refused one is not.
func testAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	enqueue(t, s, incidentRow("pager", "n1", "inc-1", 1), outbound("pager", "n2", t0))
	rows := lease(t, s, "pager", t0, 10)
	if err := s.Retry(ctx, rows[0].ID, rows[0].Lease, t0, store.Outcome{At: t0, Err: "503", ErrClass: "retryable", RetryAfter: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, rows[0].ID, rows[0].Lease, store.Outcome{At: t0}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a second outcome of one lease = %v", err)
	}
	again := lease(t, s, "pager", t0, 10)
	if err := s.Ack(ctx, again[0].ID, again[0].Lease, store.Outcome{At: t0.Add(time.Second), Receipt: "dk-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter(ctx, rows[1].ID, rows[1].Lease, store.Outcome{At: t0.Add(2 * time.Second), Err: "400", ErrClass: "permanent"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Attempts(ctx, []string{"n1", "n2"})
	if err != nil || len(got) != 3 {
		t.Fatalf("Attempts = %+v, %v; want three", got, err)
	}
	want := []struct {
		nid, result string
		attempt     int
	}{{"n1", "retry", 1}, {"n1", "sent", 2}, {"n2", "dead", 1}}
	for i, w := range want {
		a := got[i]
		if a.NotificationID != w.nid || a.Result != w.result || a.Attempt != w.attempt || a.Sink != "pager" {
			t.Errorf("attempt %d = %+v, want %s %s #%d", i, a, w.nid, w.result, w.attempt)
		}
	}
	if a := got[0]; a.IncidentID != "inc-1" || a.Outcome.Err != "503" || a.Outcome.ErrClass != "retryable" || a.Outcome.RetryAfter != 2*time.Second || !a.Outcome.At.Equal(t0) {
		t.Errorf("the retry's record = %+v", a)
	}
	if got[1].Outcome.Receipt != "dk-1" {
		t.Errorf("the success's receipt = %q", got[1].Outcome.Receipt)
	}
	if none, err := s.Attempts(ctx, []string{"nobody"}); err != nil || len(none) != 0 {
		t.Errorf("Attempts(nobody) = %+v, %v", none, err)
	}
}

// testTimers: a timer is due at its time, replaced by a later setting,
// and cleared with its incident.
func testTimers(t *testing.T, s store.Store) {
	ctx := t.Context()
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, tm := range []store.Timer{
			{IncidentID: "i1", Kind: "expiry", Due: t0.Add(time.Hour)},
			{IncidentID: "i1", Kind: "remind", Due: t0.Add(2 * time.Hour)},
			{IncidentID: "i2", Kind: "expiry", Due: t0.Add(30 * time.Minute)},
			{IncidentID: "i2", Kind: "expiry", Due: t0.Add(3 * time.Hour)}, // replaces the one above
		} {
			if err := tx.SetTimer(ctx, tm); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	due := func(at time.Time) string {
		t.Helper()
		ts, err := s.DueTimers(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tm := range ts {
			out = append(out, tm.IncidentID+"/"+tm.Kind)
		}
		return fmt.Sprint(out)
	}
	if got := due(t0.Add(59 * time.Minute)); got != "[]" {
		t.Errorf("due before the first: %s", got)
	}
	if got := due(t0.Add(3 * time.Hour)); got != "[i1/expiry i1/remind i2/expiry]" {
		t.Errorf("due at +3h: %s, want soonest first", got)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteTimer(ctx, store.Timer{IncidentID: "i1", Kind: "expiry"}); err != nil {
			return err
		}
		return tx.ClearTimers(ctx, "i2")
	}); err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(10 * time.Hour)); got != "[i1/remind]" {
		t.Errorf("due after a delete and a clear: %s", got)
	}
}

// testUpdateRollsBackAlone: an Update whose fn fails keeps nothing of it
// and returns its error.
func testUpdateRollsBackAlone(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.SaveIncident(t.Context(), incident("gone", "r", "k", 1, "open", t0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	if _, found, err := s.GetIncident(t.Context(), "gone"); err != nil || found {
		t.Fatalf("a failed Update's incident: found %v, %v", found, err)
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error {
		return tx.SaveIncident(t.Context(), incident("kept", "r", "k", 1, "open", t0))
	}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.GetIncident(t.Context(), "kept"); err != nil || !found {
		t.Fatalf("a good Update's incident: found %v, %v", found, err)
	}
}

// testGCRecords: decisions, delivery attempts and incidents untouched for
// longer than the retention go, unless a timer of theirs is still to fire.
func testGCRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	oldResolved := incident("old", "r", "k1", 1, "resolved", t0)
	oldResolved.ResolvedAt = t0
	openOld := incident("open", "r", "k2", 1, "open", t0)
	openYoung := incident("young-open", "r", "k4", 1, "open", t0.Add(20*24*time.Hour))
	openTimer := incident("timer-open", "r", "k5", 1, "open", t0)
	youngResolved := incident("young", "r", "k3", 1, "resolved", t0)
	youngResolved.ResolvedAt = t0.Add(20 * 24 * time.Hour)
	youngResolved.UpdatedAt = youngResolved.ResolvedAt
	save(t, s, oldResolved, openOld, youngResolved, openYoung, openTimer)
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.SetTimer(ctx, store.Timer{IncidentID: "timer-open", Kind: "expiry", Due: t0.Add(365 * 24 * time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	id := appendN(t, s, 1)[0]
	process(t, s, id, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AppendDecision(ctx, store.Decision{WebhookID: id, At: t0, IncidentIDs: []string{"old"}, Record: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.AppendDecision(ctx, store.Decision{WebhookID: id, Index: 1, At: t0.Add(20 * 24 * time.Hour), Record: []byte(`{}`)})
	})
	enqueue(t, s, incidentRow("pager", "n1", "old", 1))
	row := lease(t, s, "pager", t0, 1)[0]
	if err := s.Ack(ctx, row.ID, row.Lease, store.Outcome{At: t0, Receipt: "r1", Thread: "thread of old"}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(31 * 24 * time.Hour)
	if err := s.GC(ctx, now, time.Hour, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	incs, _ := s.Incidents(ctx, store.IncidentFilter{})
	var left []string
	for _, inc := range incs {
		left = append(left, inc.ID)
	}
	if fmt.Sprint(left) != "[young young-open timer-open]" {
		t.Errorf("incidents after GC: %v, want the young ones and the one with a timer (the old open and resolved ones gone)", left)
	}
	if ds, _ := s.Decisions(ctx, store.DecisionFilter{}); len(ds) != 1 || !ds[0].At.Equal(t0.Add(20*24*time.Hour)) {
		t.Errorf("decisions after GC: %+v, want the young one only", ds)
	}
	if ds, _ := s.Decisions(ctx, store.DecisionFilter{IncidentID: "old"}); len(ds) != 0 {
		t.Errorf("the collected decision is still found by its incident: %+v", ds)
	}
	if as, _ := s.Attempts(ctx, []string{"n1"}); len(as) != 0 {
		t.Errorf("attempts after GC: %+v", as)
	}
	// A row about the collected incident (none is made; if one were) is
	// handed no thread of it.
	enqueue(t, s, incidentRow("pager", "n2", "old", 2))
	if got := lease(t, s, "pager", now, 1); len(got) != 1 || got[0].Thread != "" {
		t.Errorf("a row of the collected incident = %+v; want one, without the collected thread", got)
	}
}
