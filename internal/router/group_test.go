package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

const groupRules = `rules:
  - name: paused
    when: field == "message_template_status_update" && event in ["PAUSED", "DISABLED"]
    to: [pager, chat, mail]
    group: {by: [waba_id, field], wait: 30s, max: 50}
`

func groupFixture(t *testing.T) (*fixture, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(groupRules), []string{"pager", "chat", "mail"})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
		Sinks: map[string]SinkPolicy{
			"pager": {Skips: []notification.Transition{notification.Updated, notification.Reminded}},
			"mail":  {Skips: []notification.Transition{notification.Updated}},
		}})
	return &fixture{st: db, r: r}, &clock
}

// template is a template status change of template id on the WABA.
func template(id int, ev, pause string) string {
	return fmt.Sprintf(`{"field":"message_template_status_update","value":{"event":%q,"message_template_id":%d,"message_template_name":"tpl_%02d","message_template_language":"en_US","reason":"NONE","other_info":{"title":%q,"description":"paused"}}}`,
		ev, id, id, pause)
}

// TestGroupLifecycle: 40 pauses within the wait make no notification
// until the wait is over, then one per sink listing all 40; a pause after
// that updates the chat's message (at most once per wait), not the
// pager; a second pause of one template escalates at once; the unpauses
// resolve the items, and the last one the group, at once.
func TestGroupLifecycle(t *testing.T) {
	f, clock := groupFixture(t)
	ctx := context.Background()
	for i := 1; i <= 40; i++ {
		*clock = clock.Add(500 * time.Millisecond)
		if _, err := f.route(t, envelope(int64(i), template(i, "PAUSED", "FIRST_PAUSE"))); err != nil {
			t.Fatal(err)
		}
	}
	for _, sink := range []string{"pager", "chat", "mail"} {
		if got := f.queued(t, sink); len(got) != 0 {
			t.Fatalf("%s got %v before the group's wait was over", sink, transitions(got))
		}
	}
	// The flush is due 30s after the first pause, 10.5s from now.
	*clock = clock.Add(10 * time.Second)
	fireDue(t, f)
	if got := f.queued(t, "chat"); len(got) != 0 {
		t.Fatalf("chat got %v before the flush was due", transitions(got))
	}
	*clock = clock.Add(500 * time.Millisecond)
	fireDue(t, f)
	key := waba + "/message_template_status_update/group/paused"
	for _, sink := range []string{"pager", "chat", "mail"} {
		got := f.queued(t, sink)
		wantTransitions(t, "flush", sink, got, "opened@"+key)
		if len(got) == 1 {
			n := got[0]
			if n.Group == nil || n.Group.Total != 40 || len(n.Group.Items) != 40 || n.Group.Open != 40 || n.Incident.Count != 40 {
				t.Fatalf("%s: group %+v, want 40 open items", sink, n.Group)
			}
			if !strings.Contains(n.Group.Items[39].Title, "tpl_40") || n.Event.TemplateName != "" || n.Event.WabaID != waba {
				t.Errorf("%s: last item %q, event %+v; want tpl_40, the event of the group not of an item", sink, n.Group.Items[39].Title, n.Event)
			}
		}
	}

	// A 41st pause soon after: the chat's message is updated once the
	// wait since the flush is over, not before; the pager and mail hear
	// nothing of it.
	*clock = clock.Add(5 * time.Second)
	f.route(t, envelope(41, template(41, "PAUSED", "FIRST_PAUSE")))
	*clock = clock.Add(2 * time.Second)
	f.route(t, envelope(42, template(42, "PAUSED", "FIRST_PAUSE")))
	fireDue(t, f)
	if got := f.queued(t, "chat"); len(got) != 0 {
		t.Fatalf("chat got %v within the wait after the flush", transitions(got))
	}
	*clock = clock.Add(25 * time.Second)
	fireDue(t, f)
	got := f.queued(t, "chat")
	wantTransitions(t, "update", "chat", got, "updated@"+key)
	if len(got) == 1 && (got[0].Group.Total != 42 || fmt.Sprint(got[0].Incident.Changes) != "[2 items joined]") {
		t.Errorf("update: %d items, changes %q; want 42 and [2 items joined]", got[0].Group.Total, got[0].Incident.Changes)
	}
	for _, sink := range []string{"pager", "mail"} {
		if got := f.queued(t, sink); len(got) != 0 {
			t.Errorf("%s got %v for items after the flush", sink, transitions(got))
		}
	}

	// A second pause of tpl_03 is an escalation: sent at once, no timer.
	*clock = clock.Add(time.Second)
	f.route(t, envelope(43, template(3, "PAUSED", "SECOND_PAUSE")))
	for _, sink := range []string{"pager", "chat", "mail"} {
		wantTransitions(t, "escalation", sink, f.queued(t, sink), "escalated@"+key)
	}

	// Every template unpaused: each resolves its item; the last resolves
	// the group, at once, on every sink.
	for i := 1; i <= 42; i++ {
		*clock = clock.Add(100 * time.Millisecond)
		f.route(t, envelope(int64(100+i), template(i, "REINSTATED", "")))
	}
	*clock = clock.Add(time.Minute)
	fireDue(t, f)
	wantTransitions(t, "resolve", "pager", f.queued(t, "pager"), "resolved@"+key)
	chat := f.queued(t, "chat")
	if len(chat) == 0 || chat[len(chat)-1].Incident.Transition != notification.Resolved {
		t.Fatalf("chat got %v, want updates and then the resolve", transitions(chat))
	}
	last := chat[len(chat)-1]
	if last.Group == nil || last.Group.Open != 0 || last.Group.Total != 42 {
		t.Errorf("the resolve's group %+v, want 42 items none open", last.Group)
	}
	incs, err := f.st.Incidents(ctx, store.IncidentFilter{State: stateOpen})
	if err != nil || len(incs) != 0 {
		t.Errorf("open incidents %v, %v; want none", incs, err)
	}
}

// TestGroupedEventOnRecord: an event that joins a group is in the
// decision log with its transition (grouped) and, per sink, when the
// group goes out.
func TestGroupedEventOnRecord(t *testing.T) {
	f, _ := groupFixture(t)
	w, err := f.route(t, envelope(1, template(7, "PAUSED", "FIRST_PAUSE")))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.st.Decisions(context.Background(), store.DecisionFilter{WebhookID: w.ID})
	if err != nil || len(ds) != 1 {
		t.Fatalf("decisions %v, %v", ds, err)
	}
	var rec Record
	if err := json.Unmarshal(ds[0].Record, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Incidents) != 1 || rec.Incidents[0].Transition != notification.Grouped || !strings.Contains(rec.Incidents[0].Reason, "goes out at 2026-03-01 09:00:30 UTC") {
		t.Errorf("incident transitions %+v, want one grouped, going out at 09:00:30", rec.Incidents)
	}
	if len(rec.Notifications) != 3 {
		t.Fatalf("%d notifications on record, want 3", len(rec.Notifications))
	}
	for _, n := range rec.Notifications {
		if n.Outcome != Grouped || !n.HeldUntil.Equal(time.Date(2026, 3, 1, 9, 0, 30, 0, time.UTC)) || n.IncidentID != rec.Incidents[0].ID {
			t.Errorf("%s: %+v, want grouped until 09:00:30 into %s", n.Sink, n, rec.Incidents[0].ID)
		}
	}
}

// TestGroupBeforeItsFlush: an escalation before the wait is over sends
// the opening at once, with every item so far; a group whose items all
// resolve before its opening went out sends nothing at all.
func TestGroupBeforeItsFlush(t *testing.T) {
	key := waba + "/message_template_status_update/group/paused"
	t.Run("escalation", func(t *testing.T) {
		f, clock := groupFixture(t)
		f.route(t, envelope(1, template(1, "PAUSED", "FIRST_PAUSE")))
		f.route(t, envelope(2, template(2, "PAUSED", "FIRST_PAUSE")))
		*clock = clock.Add(time.Second)
		f.route(t, envelope(3, template(1, "PAUSED", "SECOND_PAUSE")))
		got := f.queued(t, "pager")
		wantTransitions(t, "escalation before the flush", "pager", got, "opened@"+key)
		if len(got) == 1 && (got[0].Group.Total != 2 || len(got[0].Incident.Changes) == 0) {
			t.Errorf("the opening lists %d items, changes %q; want 2 and what got worse", got[0].Group.Total, got[0].Incident.Changes)
		}
		*clock = clock.Add(time.Minute)
		fireDue(t, f)
		if got := f.queued(t, "chat"); len(got) != 1 {
			t.Errorf("chat got %v, want the opening once: the flush has nothing left to send", transitions(got))
		}
	})
	t.Run("resolved first", func(t *testing.T) {
		f, clock := groupFixture(t)
		f.route(t, envelope(1, template(1, "PAUSED", "FIRST_PAUSE")))
		f.route(t, envelope(2, template(1, "REINSTATED", "")))
		*clock = clock.Add(time.Minute)
		fireDue(t, f)
		for _, sink := range []string{"pager", "chat", "mail"} {
			if got := f.queued(t, sink); len(got) != 0 {
				t.Errorf("%s got %v for a group resolved before it went out", sink, transitions(got))
			}
		}
		incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{State: stateResolved})
		if err != nil || len(incs) != 1 || !strings.Contains(incs[0].Reason, "every item resolved") {
			t.Errorf("resolved incidents %+v, %v; want the group, every item resolved", incs, err)
		}
	})
}
