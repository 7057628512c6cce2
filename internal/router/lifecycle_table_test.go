package router

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/lifecycle"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// everythingRule opens an incident for every event, so that what a
// course does is the schema's lifecycle alone: no rule names a recovery,
// and the severity is fixed, so only a worse state (a higher rank)
// escalates, not a higher default severity.
const everythingRule = `rules:
  - name: everything
    when: "true"
    severity: warning
    to: [oncall]
`

// lifecycleStep is one step of a course: a payload routed, or (with
// expire) the clock moved to at and the incident timers due by then
// fired, as serve's timer loop does; want is what the sink is told,
// transition@key, in order.
type lifecycleStep struct {
	payload string
	at      time.Time
	want    []string
}

// lifecycleCourse plays one course a row of lifecycle.Rows() describes,
// from the opening event to the recovery (or the expiry).
type lifecycleCourse struct {
	name  string
	steps []lifecycleStep
}

// payloadDir holds the courses' payloads; the ban's are Meta's examples.
const payloadDir = "../../testdata/lifecycle"

// lifecycleCourses covers every row of the table; TestLifecycleTable
// fails when a row has no course.
func lifecycleCourses() []lifecycleCourse {
	ban := waba + "/ban"
	restricted := waba + "/restriction/RESTRICTED_BIZ_INITIATED_MESSAGING"
	restrictedMore := waba + "/restriction/RESTRICTED_BIZ_INITIATED_MESSAGING+RESTRICTED_CUSTOMER_INITIATED_MESSAGING"
	connection := waba + "/connection"
	phone := waba + "/phone/+16505551111/quality"
	quality := waba + "/template/1234567/en_US/quality"
	status := waba + "/template/1234567/en_US/status"
	name := waba + "/phone/+16505551111/name"
	review := waba + "/review"
	flowAlert := waba + "/flow/1234/ENDPOINT_ERROR_RATE"
	flowLatency := waba + "/flow/1234/ENDPOINT_LATENCY"
	flowStatus := waba + "/flow/1234/FLOW_STATUS_CHANGE"
	alert := waba + "/alert/BUSINESS/506914307656634/INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO"
	step := func(payload string, want ...string) lifecycleStep { return lifecycleStep{payload: payload, want: want} }
	// expire moves the clock to a minute after 14:00 UTC on the first of
	// month in 2026, the restrictions' expirations.
	expire := func(month time.Month, want ...string) lifecycleStep {
		return lifecycleStep{at: time.Date(2026, month, 1, 14, 1, 0, 0, time.UTC), want: want}
	}
	return []lifecycleCourse{
		{"a scheduled ban, the ban, the ban again, REINSTATE", []lifecycleStep{
			step("../webhooks/seed_disabled_update_schedule_for_disable.json", "opened@"+ban),
			step("../webhooks/seed_disabled_update_disable.json", "escalated@"+ban),
			// The ban reported again a day later: no worse, an update.
			step("ban_disable_again.json", "updated@"+ban),
			// Reinstated a day after that: an event that happened before
			// the ban's latest report would leave it open (told late).
			step("ban_reinstated.json", "resolved@"+ban),
		}},
		{"a restriction, moved on, gaining a type, each ending at its expiration", []lifecycleStep{
			step("restriction_biz_messaging.json", "opened@"+restricted),
			// The same restriction again with a later end: an update, and
			// the end moves on.
			step("restriction_biz_messaging_extended.json", "updated@"+restricted),
			expire(time.June),
			// A new set of types is another problem under its own key;
			// the first restriction stays open beside it.
			step("restriction_biz_and_customer_messaging.json", "opened@"+restrictedMore),
			expire(time.July, "resolved@"+restricted),
			expire(time.August, "resolved@"+restrictedMore),
		}},
		{"ACCOUNT_OFFBOARDED, ACCOUNT_RECONNECTED", []lifecycleStep{
			step("account_offboarded.json", "opened@"+connection),
			step("account_reconnected.json", "resolved@"+connection),
		}},
		{"a number FLAGGED, UNFLAGGED", []lifecycleStep{
			step("phone_flagged.json", "opened@"+phone),
			step("phone_unflagged.json", "resolved@"+phone),
		}},
		{"a number FLAGGED, DOWNGRADE, UPGRADE", []lifecycleStep{
			step("phone_flagged.json", "opened@"+phone),
			step("phone_downgrade.json", "escalated@"+phone),
			step("phone_upgrade.json", "resolved@"+phone),
		}},
		{"template quality YELLOW, RED, GREEN", []lifecycleStep{
			step("template_quality_yellow.json", "opened@"+quality),
			step("template_quality_red.json", "escalated@"+quality),
			step("template_quality_green.json", "resolved@"+quality),
		}},
		{"a template FLAGGED, FIRST_PAUSE, SECOND_PAUSE, DISABLED, REINSTATED", []lifecycleStep{
			step("template_flagged.json", "opened@"+status),
			step("template_paused_first.json", "escalated@"+status),
			step("template_paused_second.json", "escalated@"+status),
			step("template_disabled.json", "escalated@"+status),
			step("template_reinstated.json", "resolved@"+status),
		}},
		{"a template PAUSED, APPROVED", []lifecycleStep{
			step("template_paused_first.json", "opened@"+status),
			step("template_approved.json", "resolved@"+status),
		}},
		{"a template FLAGGED, APPROVED", []lifecycleStep{
			step("template_flagged.json", "opened@"+status),
			step("template_approved.json", "resolved@"+status),
		}},
		{"a template DISABLED, APPROVED", []lifecycleStep{
			step("template_disabled.json", "opened@"+status),
			step("template_approved.json", "resolved@"+status),
		}},
		{"a display name REJECTED, APPROVED", []lifecycleStep{
			step("display_name_rejected.json", "opened@"+name),
			step("display_name_approved.json", "resolved@"+name),
		}},
		{"an account review REJECTED, APPROVED", []lifecycleStep{
			step("review_rejected.json", "opened@"+review),
			step("review_approved.json", "resolved@"+review),
		}},
		{"a flow alert ACTIVATED, DEACTIVATED", []lifecycleStep{
			step("flow_alert_activated.json", "opened@"+flowAlert),
			step("flow_alert_deactivated.json", "resolved@"+flowAlert),
		}},
		{"a flow alert raised without alert_state, DEACTIVATED", []lifecycleStep{
			step("flow_latency_raised_without_state.json", "opened@"+flowLatency),
			step("flow_latency_deactivated.json", "resolved@"+flowLatency),
		}},
		{"a flow THROTTLED, BLOCKED, PUBLISHED", []lifecycleStep{
			step("flow_throttled.json", "opened@"+flowStatus),
			step("flow_blocked.json", "escalated@"+flowStatus),
			step("flow_published.json", "resolved@"+flowStatus),
		}},
		{"an account alert ACTIVE, then no longer active", []lifecycleStep{
			step("account_alert_active.json", "opened@"+alert),
			step("account_alert_no_longer_active.json", "resolved@"+alert),
		}},
	}
}

// lifecycleFixture routes with everythingRule into a SQLite store of its
// own, to a sink that takes every transition.
func lifecycleFixture(t *testing.T) (*fixture, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(everythingRule), []string{"oncall"})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock },
		Sinks: map[string]SinkPolicy{"oncall": {}}})
	return &fixture{st: db, r: r}, &clock
}

// TestLifecycleTable plays, for every row of the schema's lifecycle
// table, payloads through the router and a real store: the opening event,
// the escalations the row has, and the recovery (or, for a restriction,
// its expiration passing), and checks what the sink is told at each step.
// Every step's event must be one the course's row decides, and every row
// must have a course.
func TestLifecycleTable(t *testing.T) {
	played := map[string]bool{}
	for _, c := range lifecycleCourses() {
		t.Run(c.name, func(t *testing.T) {
			f, clock := lifecycleFixture(t)
			ctx := context.Background()
			row := ""
			for i, st := range c.steps {
				label := st.payload
				if st.payload == "" {
					label = "expiry at " + st.at.Format(time.RFC3339)
					*clock = st.at
					due, err := f.st.DueTimers(ctx, *clock, 100)
					if err != nil {
						t.Fatal(err)
					}
					for _, tm := range due {
						if _, err := f.r.Fire(ctx, tm); err != nil {
							t.Fatalf("step %d (%s): firing %+v: %v", i+1, label, tm, err)
						}
					}
				} else {
					*clock = clock.Add(time.Minute)
					body, err := os.ReadFile(filepath.Join(payloadDir, st.payload))
					if err != nil {
						t.Fatal(err)
					}
					evs, err := event.Parse(body)
					if err != nil || len(evs) != 1 {
						t.Fatalf("step %d (%s): %d events, %v; want one", i+1, label, len(evs), err)
					}
					course := lifecycle.Of(evs[0])
					switch {
					case course.Row == "":
						t.Fatalf("step %d (%s): no row of the table takes %s/%s", i+1, label, evs[0].Field, evs[0].Event)
					case row == "":
						row = course.Row
						played[row] = true
					case course.Row != row:
						t.Fatalf("step %d (%s) is decided by row %q, not by the course's row %q", i+1, label, course.Row, row)
					}
					if _, err := f.route(t, body); err != nil {
						t.Fatalf("step %d (%s): %v", i+1, label, err)
					}
				}
				got := f.queued(t, "oncall")
				wantTransitions(t, label, "oncall", got, st.want...)
				for _, n := range got {
					if n.Incident.Transition == notification.Resolved && n.Incident.Reason == "" {
						t.Errorf("step %d (%s): the resolve of %s gives no reason", i+1, label, n.DedupKey)
					}
				}
			}
			open, err := f.st.Incidents(ctx, store.IncidentFilter{State: "open"})
			if err != nil || len(open) != 0 {
				t.Errorf("open incidents after the course: %+v, %v; want none", open, err)
			}
		})
	}
	for _, r := range lifecycle.Rows() {
		name := r.Field + " " + r.Events
		if !played[name] {
			t.Errorf("no course plays the lifecycle row %q (%s); add one to lifecycleCourses with payloads under testdata/lifecycle", name, r.Meaning)
		}
	}
	for name := range played {
		if !slices.ContainsFunc(lifecycle.Rows(), func(r lifecycle.Row) bool { return r.Field+" "+r.Events == name }) {
			t.Errorf("a course plays %q, which names no row of lifecycle.Rows(); how Of names rows changed", strings.TrimSpace(name))
		}
	}
}
