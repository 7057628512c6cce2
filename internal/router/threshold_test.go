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

const thresholdRules = `rules:
  - name: failed-messages
    when: field == "messages" && status == "failed"
    to: [pager, chat]
    threshold: {count: 20, within: 10m, by: [phone_number_id]}
`

// thresholdFixture routes with thresholdRules: a pager that takes no
// updates, a chat that takes everything.
func thresholdFixture(t *testing.T) (*fixture, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(thresholdRules), []string{"pager", "chat"})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
		Sinks: map[string]SinkPolicy{"pager": {Skips: []notification.Transition{notification.Updated, notification.Reminded}}}})
	return &fixture{st: db, r: r}, &clock
}

// failedStatus is one failed message of the number with id number; seq
// makes the message (and so the change) a new one.
func failedStatus(number string, seq int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":%q,"changes":[{"field":"messages","value":{
"messaging_product":"whatsapp","metadata":{"display_phone_number":"16505551111","phone_number_id":%q},
"statuses":[{"id":"wamid.%s.%d","status":"failed","timestamp":"1764597660","recipient_id":"16315551234",
"errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement."}]}]}}]}]}`,
		waba, number, number, seq)
}

// failures routes n failed messages of number, one every step.
func failures(t *testing.T, f *fixture, clock *time.Time, number string, from, n int, step time.Duration) []store.Webhook {
	t.Helper()
	var ws []store.Webhook
	for i := range n {
		w, err := f.route(t, failedStatus(number, from+i))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
		*clock = clock.Add(step)
	}
	return ws
}

func decisionOf(t *testing.T, f *fixture, webhookID int64) Record {
	t.Helper()
	ds, err := f.st.Decisions(context.Background(), store.DecisionFilter{WebhookID: webhookID})
	if err != nil || len(ds) != 1 {
		t.Fatalf("decisions of webhook %d: %v, %v", webhookID, ds, err)
	}
	var rec Record
	if err := json.Unmarshal(ds[0].Record, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestThresholdFiresOnceWhenCrossed: 25 failed messages of one number in
// four minutes open one incident, at the 20th; the 19 before it make no
// notification and the decision log says how far the count is; the 5
// after it update the incident, which the chat shows and the pager does
// not take. 5 failures of another number open nothing.
func TestThresholdFiresOnceWhenCrossed(t *testing.T) {
	f, clock := thresholdFixture(t)
	ws := failures(t, f, clock, "1065", 0, 25, 10*time.Second)
	failures(t, f, clock, "2077", 0, 5, 10*time.Second)

	key := "threshold:failed-messages/phone_number_id=1065"
	wantTransitions(t, "25 failures", "pager", f.queued(t, "pager"), "opened@"+key)
	wantTransitions(t, "25 failures", "chat", f.queued(t, "chat"), "opened@"+key,
		"updated@"+key, "updated@"+key, "updated@"+key, "updated@"+key, "updated@"+key)

	rec := decisionOf(t, f, ws[6].ID)
	if len(rec.Notifications) != 2 || len(rec.Incidents) != 0 {
		t.Fatalf("the 7th failure's decision: %+v", rec)
	}
	for _, n := range rec.Notifications {
		if want := "threshold: 7 of 20 within 10m for phone_number_id=1065"; n.Outcome != Skipped || n.Reason != want {
			t.Errorf("the 7th failure on %s: %s %q, want skipped %q", n.Sink, n.Outcome, n.Reason, want)
		}
	}
	rec = decisionOf(t, f, ws[19].ID)
	if len(rec.Incidents) != 1 || rec.Incidents[0].Transition != notification.Opened {
		t.Errorf("the 20th failure's decision: %+v, want the incident opened", rec.Incidents)
	}
	incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{State: stateOpen})
	if err != nil || len(incs) != 1 || incs[0].Key != key || incs[0].Events != 6 {
		t.Fatalf("open incidents %+v, %v; want the one of 1065 with 6 events", incs, err)
	}
	if want := `Rule "failed-messages" matched 20 times within 10m for phone_number_id=1065`; incs[0].Title != want {
		t.Errorf("title %q, want %q", incs[0].Title, want)
	}
}

// TestThresholdResolvesAfterTheWindow: a window after the incident opened
// the check finds fewer than 20 failures in the window that ends then,
// and resolves it on every sink that heard of it, saying why; while
// failures keep coming at the rate, the check finds it still crossed and
// comes again a bucket later.
func TestThresholdResolvesAfterTheWindow(t *testing.T) {
	f, clock := thresholdFixture(t)
	// 20 failures, one every 15 seconds: the 20th opens the incident at
	// 09:04:45 and the check is due at 09:14:45.
	failures(t, f, clock, "1065", 0, 20, 15*time.Second)
	opened := clock.Add(-15 * time.Second)
	wantTransitions(t, "crossed", "pager", f.queued(t, "pager"), "opened@threshold:failed-messages/phone_number_id=1065")
	// The rate goes on, 20 more within the next 10 minutes: at the check
	// the window still holds 20 or more.
	failures(t, f, clock, "1065", 20, 20, 29*time.Second)
	*clock = opened.Add(10 * time.Minute)
	fireDue(t, f)
	incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{State: stateOpen})
	if err != nil || len(incs) != 1 {
		t.Fatalf("open incidents after a check at the rate: %+v, %v", incs, err)
	}
	timers, err := f.st.DueTimers(context.Background(), clock.Add(time.Hour), 10)
	if err != nil || len(timers) != 1 || timers[0].Kind != timerThreshold || !timers[0].Due.Equal(clock.Add(time.Minute)) {
		t.Fatalf("timers after a check at the rate: %+v, %v; want the check again a minute later", timers, err)
	}
	// Then nothing more: the check, a minute at a time, resolves it once
	// fewer than 20 fall within the window that ends then.
	if got := f.queued(t, "pager"); len(got) != 0 {
		t.Fatalf("the pager got %v while the rate went on", transitions(got))
	}
	for range 30 {
		*clock = clock.Add(time.Minute)
		fireDue(t, f)
		if incs, _ := f.st.Incidents(context.Background(), store.IncidentFilter{State: stateOpen}); len(incs) == 0 {
			break
		}
	}
	got := f.queued(t, "pager")
	wantTransitions(t, "fell back", "pager", got, "resolved@threshold:failed-messages/phone_number_id=1065")
	// The second 20 came from 09:05:00 to 09:14:11, 29 seconds apart. At
	// the check again at 09:15:45 the window starts at 09:06:00 (the
	// first whole minute no more than 10 minutes back) and holds 17.
	inc, _, err := f.st.GetIncident(context.Background(), incs[0].ID)
	if want := "fewer than 20 within 10m: 17 matches since 2026-03-01 09:06:00 UTC"; err != nil || inc.Reason != want {
		t.Errorf("resolved with reason %q, %v; want %q", inc.Reason, err, want)
	}
	if want := opened.Add(11 * time.Minute); !inc.ResolvedAt.Equal(want) {
		t.Errorf("resolved at %s, want %s", inc.ResolvedAt, want)
	}

	// A new crossing is a new episode, under the next key.
	failures(t, f, clock, "1065", 40, 20, time.Second)
	wantTransitions(t, "crossed again", "pager", f.queued(t, "pager"), "opened@threshold:failed-messages/phone_number_id=1065#2")
}

// TestThresholdWindowSlides: 19 failures, then 19 more over 11 minutes
// later, never have 20 within 10 minutes, and open nothing; a burst in
// the same window does.
func TestThresholdWindowSlides(t *testing.T) {
	f, clock := thresholdFixture(t)
	failures(t, f, clock, "1065", 0, 19, 10*time.Second)
	*clock = clock.Add(11 * time.Minute)
	ws := failures(t, f, clock, "1065", 19, 19, 10*time.Second)
	if got := f.queued(t, "chat"); len(got) != 0 {
		t.Fatalf("chat got %v for 19 and 19 failures 11 minutes apart", transitions(got))
	}
	rec := decisionOf(t, f, ws[18].ID)
	if len(rec.Notifications) == 0 || !strings.HasPrefix(rec.Notifications[0].Reason, "threshold: 19 of 20 within 10m") {
		t.Errorf("the last failure's decision: %+v", rec.Notifications)
	}
	failures(t, f, clock, "1065", 38, 1, 0)
	wantTransitions(t, "the 20th in the window", "pager", f.queued(t, "pager"), "opened@threshold:failed-messages/phone_number_id=1065")
}
