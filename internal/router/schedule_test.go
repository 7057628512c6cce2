package router

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/schedule"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

const scheduleRules = `rules:
  - name: banned
    when: field == "account_update" && event == "DISABLED_UPDATE"
    to: [pager, chat]
  - name: quality
    when: field == "phone_number_quality_update"
    active_during: [business-hours]
    when_muted: drop
    to: [chat]
`

// businessHours is the example: Monday to Friday, 09:00 to 18:00
// in Berlin.
func businessHours(t *testing.T) schedule.Set {
	t.Helper()
	loc, err := schedule.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	days, err := schedule.ParseWeekdays("monday:friday")
	if err != nil {
		t.Fatal(err)
	}
	hours, err := schedule.ParseTimeRange("09:00", "18:00")
	if err != nil {
		t.Fatal(err)
	}
	return schedule.Set{"business-hours": {Name: "business-hours", Intervals: []schedule.Interval{
		{Location: loc, Weekdays: []schedule.Range{days}, Times: []schedule.TimeRange{hours}}}}}
}

// scheduleFixture routes scheduleRules with a pager that takes
// notifications during business hours only and a chat that takes them at
// any time, on a clock the test moves.
func scheduleFixture(t *testing.T, start time.Time) (*fixture, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schedules := businessHours(t)
	set, err := rules.ParseFileWith("rules.yaml", []byte(scheduleRules), []string{"pager", "chat"}, schedules)
	if err != nil {
		t.Fatal(err)
	}
	set.SinkSchedules = map[string]schedule.Gate{"pager": {ActiveDuring: []string{"business-hours"}}}
	clock := start
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }})
	return &fixture{st: db, r: r}, &clock
}

func berlinTime(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func routeAt(t *testing.T, f *fixture, body []byte) Result {
	t.Helper()
	ctx := context.Background()
	at := f.r.now()
	id, err := f.st.AppendWebhook(ctx, body, at)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.r.Route(ctx, store.Webhook{ID: id, Body: body, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decisionFor(t *testing.T, res Result, sink string) NotificationDecision {
	t.Helper()
	for _, d := range res.Decisions {
		for _, n := range d.Notifications {
			if n.Notification.Sink == sink {
				return n
			}
		}
	}
	t.Fatalf("no notification for %s in %+v", sink, res)
	return NotificationDecision{}
}

// TestSaturdayIsHeldToMonday: a ban on Saturday 2026-11-28 10:00 in Berlin
// reaches the chat at once and is held for the pager until Monday
// 2026-11-30 09:00 Berlin (08:00 UTC): its row is due then, the decision
// says so and why, and a worker finds it only then.
func TestSaturdayIsHeldToMonday(t *testing.T) {
	f, clock := scheduleFixture(t, berlinTime(t, "2026-11-28 10:00"))
	res := routeAt(t, f, envelope(1, banState("DISABLE")))
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	pager := decisionFor(t, res, "pager")
	if pager.Outcome != Queued || !pager.HeldUntil.Equal(monday) || pager.HeldUntil.Location().String() != "Europe/Berlin" {
		t.Fatalf("pager: %+v, want queued and held until %s in Berlin", pager, monday)
	}
	if want := `sink "pager": outside active_during business-hours`; pager.Reason != want {
		t.Errorf("reason %q, want %q", pager.Reason, want)
	}
	if got := FormatHeld(pager.HeldUntil); got != "2026-11-30 09:00 Europe/Berlin" {
		t.Errorf("FormatHeld: %s", got)
	}
	if rec := res.Decisions[0].Record(); !rec.Notifications[0].HeldUntil.Equal(monday) && !rec.Notifications[1].HeldUntil.Equal(monday) {
		t.Errorf("the decision log does not keep the hold: %+v", rec.Notifications)
	}
	if chat := decisionFor(t, res, "chat"); chat.Outcome != Queued || !chat.HeldUntil.IsZero() {
		t.Errorf("chat: %+v, want queued at once", chat)
	}
	// The worker's view: nothing for the pager until Monday 09:00.
	if got := f.queued(t, "pager"); len(got) != 0 {
		t.Fatalf("sent on Saturday: %+v", got)
	}
	*clock = monday.Add(-time.Second - time.Minute)
	if got := f.queued(t, "pager"); len(got) != 0 {
		t.Fatalf("sent before Monday 09:00: %+v", got)
	}
	*clock = monday
	if got := f.queued(t, "pager"); len(got) != 1 || got[0].Action != notification.Trigger {
		t.Fatalf("on Monday 09:00: %+v", got)
	}
}

// TestResolveWaitsForTheHeldOpening: a ban and its reinstatement on a
// Saturday are both held for the pager and reach it on Monday in order,
// the opening first.
func TestResolveWaitsForTheHeldOpening(t *testing.T) {
	f, clock := scheduleFixture(t, berlinTime(t, "2026-11-28 10:00"))
	routeAt(t, f, envelope(1, banState("DISABLE")))
	*clock = clock.Add(time.Hour)
	res := routeAt(t, f, envelope(2, banState("REINSTATE")))
	if n := decisionFor(t, res, "pager"); n.Outcome != Queued || n.HeldUntil.IsZero() || n.Notification.Action != notification.Resolve {
		t.Fatalf("the resolve: %+v", n)
	}
	if got := f.queued(t, "chat"); len(got) != 2 {
		t.Fatalf("chat: %+v, want both at once", got)
	}
	*clock = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	got := f.queued(t, "pager")
	if len(got) != 2 || got[0].Action != notification.Trigger || got[1].Action != notification.Resolve {
		t.Fatalf("pager on Monday: %+v, want the opening then the resolve", got)
	}
}

// TestWhenMutedDrop: a rule's own active_during with when_muted: drop
// makes no notification outside it, naming the rule and the schedule.
func TestWhenMutedDrop(t *testing.T) {
	f, _ := scheduleFixture(t, berlinTime(t, "2026-11-28 10:00"))
	res := routeAt(t, f, envelope(1, quality("+1 555 0100", "FLAGGED")))
	n := decisionFor(t, res, "chat")
	want := `rule "quality": outside active_during business-hours (when_muted: drop)`
	if n.Outcome != Skipped || n.Reason != want {
		t.Fatalf("got %+v, want skipped: %s", n, want)
	}
	f2, _ := scheduleFixture(t, berlinTime(t, "2026-11-30 10:00"))
	if n := decisionFor(t, routeAt(t, f2, envelope(1, quality("+1 555 0100", "FLAGGED"))), "chat"); n.Outcome != Queued || !n.HeldUntil.IsZero() {
		t.Fatalf("within business hours: %+v", n)
	}
}

// TestHeldRow: the pager's row of a ban held to Monday 09:00 in Berlin
// is due then (08:00 UTC), and, since the hold can outlast delivery's age
// limit (24 h), its life starts then too: CreatedAt is when it may go.
func TestHeldRow(t *testing.T) {
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, at := range []string{"2026-11-28 10:00", "2026-11-27 19:00", "2026-11-30 08:59"} {
		t.Run(at, func(t *testing.T) {
			f, _ := scheduleFixture(t, berlinTime(t, at))
			routeAt(t, f, envelope(1, banState("DISABLE")))
			rows, err := f.st.Lease(context.Background(), "pager", "test", monday.Add(24*time.Hour), 10, time.Minute)
			if err != nil || len(rows) != 1 {
				t.Fatalf("%v %v", rows, err)
			}
			if !rows[0].NextAttempt.Equal(monday) || !rows[0].CreatedAt.Equal(monday) || !rows[0].AcceptedAt.Equal(monday) {
				t.Errorf("row due %s, created %s, accepted %s; want all %s", rows[0].NextAttempt, rows[0].CreatedAt, rows[0].AcceptedAt, monday)
			}
		})
	}
}
