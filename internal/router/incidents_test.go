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

// userRules are rules as a user writes them after reading the docs:
// trigger rules only, no keys, no resolve rules.
const userRules = `rules:
  - name: banned
    when: field == "account_update" && event == "DISABLED_UPDATE"
    to: [pager, chat, mail]
  - name: number-quality
    when: field == "phone_number_quality_update"
    to: [pager, chat]
  - name: restricted
    when: event == "ACCOUNT_RESTRICTION"
    to: [chat]
  - name: review
    when: field == "account_review_update"
    resolve: never
    to: [chat]
  - name: flow-alert
    when: field == "flows"
    resolve_when: alert_state == "DEACTIVATED"
    renotify: 1h
    to: [chat]
`

const waba = "102290129340398"

// incidentFixture routes with userRules into a store of its own, with a
// pager that takes no updates, a chat that takes everything, and a mail
// that takes no updates, as the pipeline sets them up.
func incidentFixture(t *testing.T) (*fixture, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(userRules), []string{"pager", "chat", "mail"})
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

// envelope wraps changes of WABA waba at entry time at.
func envelope(at int64, changes ...string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[%s]}]}`,
		waba, at, strings.Join(changes, ","))
}

func banState(state string) string {
	return fmt.Sprintf(`{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":%q,"waba_ban_date":1765202400}}}`, state)
}

func quality(number, ev string) string {
	return fmt.Sprintf(`{"field":"phone_number_quality_update","value":{"display_phone_number":%q,"event":%q,"current_limit":"TIER_10K"}}`, number, ev)
}

// transitions names what each notification says, sink by sink:
// "opened", "updated"... and the dedup key sinks see.
func transitions(ns []notification.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s@%s", n.Incident.Transition, n.DedupKey))
	}
	return out
}

func wantTransitions(t *testing.T, step, sink string, got []notification.Notification, want ...string) {
	t.Helper()
	if fmt.Sprint(transitions(got)) != fmt.Sprint(want) {
		t.Errorf("%s: %s got %v, want %v", step, sink, transitions(got), want)
	}
}

// TestBanLifecycle: a scheduled ban opens one incident on every sink, a
// repeat updates it (the pager and the mail are not told again), the ban
// itself escalates it, REINSTATE resolves it under the same key on every
// sink, and a ban after that is a new episode with a new key.
func TestBanLifecycle(t *testing.T) {
	f, clock := incidentFixture(t)
	key := waba + "/ban"
	steps := []struct {
		name              string
		body              []byte
		pager, chat, mail []string
	}{
		{"scheduled ban", envelope(1, banState("SCHEDULE_FOR_DISABLE")), []string{"opened@" + key}, []string{"opened@" + key}, []string{"opened@" + key}},
		{"the same news again", envelope(2, banState("SCHEDULE_FOR_DISABLE")), nil, []string{"updated@" + key}, nil},
		{"the ban", envelope(3, banState("DISABLE")), []string{"escalated@" + key}, []string{"escalated@" + key}, []string{"escalated@" + key}},
		{"reinstated", envelope(4, banState("REINSTATE")), []string{"resolved@" + key}, []string{"resolved@" + key}, []string{"resolved@" + key}},
		{"banned again", envelope(5, banState("DISABLE")), []string{"opened@" + key + "#2"}, []string{"opened@" + key + "#2"}, []string{"opened@" + key + "#2"}},
	}
	for _, st := range steps {
		*clock = clock.Add(time.Minute)
		if _, err := f.route(t, st.body); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		wantTransitions(t, st.name, "pager", f.queued(t, "pager"), st.pager...)
		wantTransitions(t, st.name, "chat", f.queued(t, "chat"), st.chat...)
		wantTransitions(t, st.name, "mail", f.queued(t, "mail"), st.mail...)
	}
	incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{Key: key})
	if err != nil || len(incs) != 2 {
		t.Fatalf("incidents under %s: %+v, %v; want two episodes", key, incs, err)
	}
	first := incs[1]
	if first.State != "resolved" || first.Events != 3 || first.Seq != 4 || !strings.Contains(first.Reason, "REINSTATE") {
		t.Errorf("first episode = %+v; want resolved after 3 events and 4 transitions, by REINSTATE", first)
	}
	if incs[0].Episode != 2 || incs[0].State != "open" {
		t.Errorf("second episode = %+v", incs[0])
	}
}

// TestTwoNumbersTwoIncidents: two numbers flagged in one payload are two
// incidents; UNFLAGGED for one resolves that one alone, and DOWNGRADE on
// the other escalates it under its own key.
func TestTwoNumbersTwoIncidents(t *testing.T) {
	f, clock := incidentFixture(t)
	one, two := waba+"/phone/+16505551111/quality", waba+"/phone/+16505552222/quality"
	if _, err := f.route(t, envelope(1, quality("16505551111", "FLAGGED"), quality("16505552222", "FLAGGED"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "two flagged", "pager", f.queued(t, "pager"), "opened@"+one, "opened@"+two)
	*clock = clock.Add(time.Hour)
	if _, err := f.route(t, envelope(2, quality("16505551111", "UNFLAGGED"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "one unflagged", "pager", f.queued(t, "pager"), "resolved@"+one)
	if _, err := f.route(t, envelope(3, quality("16505552222", "DOWNGRADE"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "the other downgraded", "pager", f.queued(t, "pager"), "escalated@"+two)
	open, err := f.st.Incidents(context.Background(), store.IncidentFilter{State: "open"})
	if err != nil || len(open) != 1 || open[0].Key != two {
		t.Errorf("open incidents = %+v, %v; want only %s", open, err, two)
	}
}

// TestRestrictionResolvesAtItsExpiry: a restriction's incident resolves by
// itself when its expiration passes, through a timer kept in the store.
func TestRestrictionResolvesAtItsExpiry(t *testing.T) {
	f, clock := incidentFixture(t)
	expires := clock.Add(2 * time.Hour)
	body := envelope(1, fmt.Sprintf(`{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_ADD_PHONE_NUMBER_ACTION","expiration":%d}]}}`, expires.Unix()))
	if _, err := f.route(t, body); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "restricted", "chat", f.queued(t, "chat"), "opened@"+waba+"/restriction/RESTRICTED_ADD_PHONE_NUMBER_ACTION")
	ctx := context.Background()
	if due, err := f.st.DueTimers(ctx, expires.Add(-time.Second), 10); err != nil || len(due) != 0 {
		t.Fatalf("timers due before the expiry: %+v, %v", due, err)
	}
	*clock = expires.Add(time.Second)
	due, err := f.st.DueTimers(ctx, *clock, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("timers due after the expiry: %+v, %v; want one", due, err)
	}
	res, err := f.r.Fire(ctx, due[0])
	if err != nil || len(res.Decisions) != 1 {
		t.Fatalf("Fire = %+v, %v", res, err)
	}
	got := f.queued(t, "chat")
	wantTransitions(t, "expired", "chat", got, "resolved@"+waba+"/restriction/RESTRICTED_ADD_PHONE_NUMBER_ACTION")
	if len(got) == 1 && !strings.Contains(got[0].Body, "expired") {
		t.Errorf("the resolve says %q; want it to say the restriction expired", got[0].Body)
	}
	if due, _ := f.st.DueTimers(ctx, clock.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("timers left after the resolve: %+v", due)
	}
}

// TestRuleSaysWhatEndsItsIncidents: resolve: never keeps an incident open
// through the schema's recovery; resolve_when is the rule's own recovery,
// and renotify reminds on a repeat and on its timer.
func TestRuleSaysWhatEndsItsIncidents(t *testing.T) {
	f, clock := incidentFixture(t)
	review := func(decision string) string {
		return fmt.Sprintf(`{"field":"account_review_update","value":{"decision":%q}}`, decision)
	}
	if _, err := f.route(t, envelope(1, review("REJECTED"))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.route(t, envelope(2, review("APPROVED"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "review rejected then approved", "chat", f.queued(t, "chat"), "opened@"+waba+"/review", "updated@"+waba+"/review")

	flow := func(state string) string {
		return fmt.Sprintf(`{"field":"flows","value":{"event":"ENDPOINT_ERROR_RATE","flow_id":"F1","alert_state":%q}}`, state)
	}
	key := waba + "/flow/F1/ENDPOINT_ERROR_RATE"
	if _, err := f.route(t, envelope(10, flow("ACTIVATED"))); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(10 * time.Minute)
	if _, err := f.route(t, envelope(11, flow("ACTIVATED"))); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(time.Hour)
	if _, err := f.route(t, envelope(12, flow("ACTIVATED"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "flow alert, a repeat, a repeat after the hour", "chat", f.queued(t, "chat"),
		"opened@"+key, "updated@"+key, "reminded@"+key)
	*clock = clock.Add(time.Hour + time.Second)
	due, err := f.st.DueTimers(context.Background(), *clock, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due timers = %+v, %v; want the reminder", due, err)
	}
	if _, err := f.r.Fire(context.Background(), due[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.route(t, envelope(13, flow("DEACTIVATED"))); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, "the reminder timer, then the rule's own recovery", "chat", f.queued(t, "chat"), "reminded@"+key, "resolved@"+key)
}

// TestDecisionLogSaysWhy: every event's decision is kept with its rules,
// its incident transition and each notification made or not made.
func TestDecisionLogSaysWhy(t *testing.T) {
	f, _ := incidentFixture(t)
	w, err := f.route(t, envelope(1, banState("SCHEDULE_FOR_DISABLE")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.route(t, envelope(1, banState("SCHEDULE_FOR_DISABLE"))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.route(t, envelope(2, banState("SCHEDULE_FOR_DISABLE"))); err != nil {
		t.Fatal(err)
	}
	ds, err := f.st.Decisions(context.Background(), store.DecisionFilter{WabaID: waba})
	if err != nil || len(ds) != 3 {
		t.Fatalf("decisions = %d, %v; want three", len(ds), err)
	}
	var recs []Record
	for _, d := range ds {
		var rec Record
		if err := json.Unmarshal(d.Record, &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	first := recs[0]
	if first.WebhookID != w.ID || first.Field != "account_update" || len(first.Rules) != 1 || !first.Rules[0].Matched ||
		len(first.Incidents) != 1 || first.Incidents[0].Transition != notification.Opened || len(first.Notifications) != 3 {
		t.Errorf("first decision = %+v", first)
	}
	if len(ds[0].IncidentIDs) != 1 || ds[0].IncidentIDs[0] != first.Incidents[0].ID {
		t.Errorf("first decision is not found by its incident: %v", ds[0].IncidentIDs)
	}
	if !recs[1].Redelivery || len(recs[1].Notifications) != 0 {
		t.Errorf("second decision = %+v; want a redelivery that sent nothing", recs[1])
	}
	skipped := map[string]string{}
	for _, n := range recs[2].Notifications {
		if n.Outcome == Skipped {
			skipped[n.Sink] = n.Reason
		}
	}
	if !strings.Contains(skipped["pager"], "takes no updated") || !strings.Contains(skipped["mail"], "takes no updated") || len(skipped) != 2 {
		t.Errorf("the repeat's skips = %v; want the pager and the mail, saying they take no updates", skipped)
	}
}
