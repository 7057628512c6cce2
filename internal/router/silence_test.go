package router

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// addSilence saves a silence of cond from now for d, as the CLI does.
func addSilence(t *testing.T, st store.Store, id, cond string, from time.Time, d time.Duration) store.Silence {
	t.Helper()
	s := store.Silence{ID: id, When: cond, Author: "ana", Comment: "maintenance", StartsAt: from, EndsAt: from.Add(d), CreatedAt: from}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.SaveSilence(context.Background(), s) }); err != nil {
		t.Fatal(err)
	}
	return s
}

// fireDue fires every timer due at the fixture's clock.
func fireDue(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	due, err := f.st.DueTimers(ctx, f.r.now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range due {
		if _, err := f.r.Fire(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSilenceHidesThenReleases: a ban under a silence opens its incident
// quietly, on record, telling no sink; a repeat is hidden too; when the
// silence ends with the ban still open, every sink is told of it then, as
// an opening.
func TestSilenceHidesThenReleases(t *testing.T) {
	f, clock := incidentFixture(t)
	sil := addSilence(t, f.st, "sil-1", `waba_id == "`+waba+`"`, *clock, 2*time.Hour)
	w, err := f.route(t, envelope(1, banState("SCHEDULE_FOR_DISABLE")))
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"pager", "chat", "mail"} {
		if got := f.queued(t, sink); len(got) != 0 {
			t.Errorf("%s got %v during the silence", sink, transitions(got))
		}
	}
	incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{State: stateOpen})
	if err != nil || len(incs) != 1 || len(incs[0].Sinks) != 0 {
		t.Fatalf("open incidents %+v, %v; want the ban, heard of by no sink", incs, err)
	}
	ds, err := f.st.Decisions(context.Background(), store.DecisionFilter{WebhookID: w.ID})
	if err != nil || len(ds) != 1 {
		t.Fatalf("decisions %v, %v", ds, err)
	}
	var rec Record
	if err := json.Unmarshal(ds[0].Record, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Notifications) != 3 {
		t.Fatalf("the decision records %d notifications, want 3", len(rec.Notifications))
	}
	for _, n := range rec.Notifications {
		if n.Outcome != Silenced || n.Silence != sil.ID || !strings.Contains(n.Reason, "silenced by sil-1") {
			t.Errorf("decision on %s: %+v, want silenced by sil-1", n.Sink, n)
		}
	}

	*clock = clock.Add(time.Hour)
	if _, err := f.route(t, envelope(2, banState("DISABLE"))); err != nil {
		t.Fatal(err)
	}
	if got := f.queued(t, "chat"); len(got) != 0 {
		t.Errorf("chat got %v for the escalation during the silence", transitions(got))
	}

	*clock = sil.EndsAt
	fireDue(t, f)
	key := waba + "/ban"
	for _, sink := range []string{"pager", "chat", "mail"} {
		got := f.queued(t, sink)
		wantTransitions(t, "silence ended", sink, got, "opened@"+key)
		if len(got) == 1 && (got[0].Severity.String() != "critical" || !strings.Contains(got[0].Body, "Silence sil-1")) {
			t.Errorf("%s: the released ban is %s, body %q", sink, got[0].Severity, got[0].Body)
		}
	}
	// Once told, a later transition reaches them as usual.
	*clock = clock.Add(time.Minute)
	if _, err := f.route(t, envelope(3, banState("REINSTATE"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "reinstated", "chat", f.queued(t, "chat"), "resolved@"+key)
}

// TestSilenceNeverHidesAResolve: an incident the sinks heard of before a
// silence began still resolves on them during it.
func TestSilenceNeverHidesAResolve(t *testing.T) {
	f, clock := incidentFixture(t)
	key := waba + "/ban"
	if _, err := f.route(t, envelope(1, banState("DISABLE"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "ban", "chat", f.queued(t, "chat"), "opened@"+key)
	addSilence(t, f.st, "sil-2", `waba_id == "`+waba+`"`, *clock, time.Hour)
	*clock = clock.Add(time.Minute)
	if _, err := f.route(t, envelope(2, banState("REINSTATE"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "reinstated during the silence", "chat", f.queued(t, "chat"), "resolved@"+key)
}

// TestSilenceEndedEarly: ending a silence early sets its timer to now, and
// what it hid is told at once; a silence matching nothing hides nothing.
func TestSilenceEndedEarly(t *testing.T) {
	f, clock := incidentFixture(t)
	addSilence(t, f.st, "sil-other", `waba_id == "1"`, *clock, 24*time.Hour)
	sil := addSilence(t, f.st, "sil-3", `field == "phone_number_quality_update"`, *clock, 24*time.Hour)
	if _, err := f.route(t, envelope(1, quality("16505551111", "FLAGGED"), banState("DISABLE"))); err != nil {
		t.Fatal(err)
	}
	chat := f.queued(t, "chat")
	wantTransitions(t, "flagged and banned", "chat", chat, "opened@"+waba+"/ban")
	*clock = clock.Add(10 * time.Minute)
	sil.ExpiredAt = *clock
	if err := f.st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.SaveSilence(context.Background(), sil); err != nil {
			return err
		}
		return tx.SetTimer(context.Background(), SilenceTimer(sil.ID, *clock))
	}); err != nil {
		t.Fatal(err)
	}
	fireDue(t, f)
	got := f.queued(t, "chat")
	if len(got) != 1 || got[0].Rule != "number-quality" || got[0].Incident.Transition != "opened" {
		t.Fatalf("after the early end chat got %v, want the quality incident opened", transitions(got))
	}
}

// TestSilenceReminder: before a silence ends while it still hides an open
// incident, the reminder sinks hear of it once, as news outside any
// incident.
func TestSilenceReminder(t *testing.T) {
	f, clock := incidentFixture(t)
	f.r.silenceReminder = SilenceReminder{Sinks: []string{"mail"}, Before: 15 * time.Minute}
	sil := addSilence(t, f.st, "sil-r", `waba_id == "`+waba+`"`, *clock, 2*time.Hour)
	if _, err := f.route(t, envelope(1, banState("DISABLE"))); err != nil {
		t.Fatal(err)
	}
	*clock = sil.EndsAt.Add(-20 * time.Minute)
	fireDue(t, f)
	if got := f.queued(t, "mail"); len(got) != 0 {
		t.Fatalf("mail got %d notifications 20 minutes before the end", len(got))
	}
	*clock = sil.EndsAt.Add(-15 * time.Minute)
	fireDue(t, f)
	got := f.queued(t, "mail")
	if len(got) != 1 || got[0].Action != "change" || !strings.Contains(got[0].Title, "Silence sil-r ends at") ||
		!strings.Contains(got[0].Title, "1 open incident") {
		t.Fatalf("mail got %+v, want one reminder of sil-r", got)
	}
	fireDue(t, f)
	if got := f.queued(t, "mail"); len(got) != 0 {
		t.Errorf("the reminder came again: %d more", len(got))
	}
}
