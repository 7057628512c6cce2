package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

func TestDefaultSeverityTable(t *testing.T) {
	cases := []struct {
		ev   event.Event
		want notification.Severity
	}{
		{event.Event{Field: "account_update", Event: "ACCOUNT_RESTRICTION"}, notification.Critical},
		{event.Event{Field: "account_update", Event: "DISABLED_UPDATE", BanState: "DISABLE"}, notification.Critical},
		{event.Event{Field: "account_update", Event: "DISABLED_UPDATE", BanState: "SCHEDULE_FOR_DISABLE"}, notification.Critical},
		{event.Event{Field: "account_update", Event: "DISABLED_UPDATE", BanState: "REINSTATE"}, notification.Info},
		{event.Event{Field: "account_update", Event: "ACCOUNT_VIOLATION"}, notification.Error},
		{event.Event{Field: "account_update", Event: "VERIFIED_ACCOUNT"}, notification.Info},
		{event.Event{Field: "message_template_status_update", Event: "DISABLED"}, notification.Error},
		{event.Event{Field: "message_template_status_update", Event: "PAUSED"}, notification.Error},
		{event.Event{Field: "message_template_status_update", Event: "REJECTED"}, notification.Error},
		{event.Event{Field: "message_template_status_update", Event: "FLAGGED"}, notification.Warning},
		{event.Event{Field: "message_template_status_update", Event: "APPROVED"}, notification.Info},
		{event.Event{Field: "message_template_status_update", Event: "REINSTATED"}, notification.Info},
		{event.Event{Field: "message_template_quality_update", Event: "RED"}, notification.Error},
		{event.Event{Field: "message_template_quality_update", Event: "YELLOW"}, notification.Warning},
		{event.Event{Field: "message_template_quality_update", Event: "GREEN"}, notification.Info},
		{event.Event{Field: "phone_number_quality_update", Event: "DOWNGRADE"}, notification.Error},
		{event.Event{Field: "phone_number_quality_update", Event: "FLAGGED"}, notification.Warning},
		{event.Event{Field: "phone_number_quality_update", Event: "UPGRADE"}, notification.Info},
		{event.Event{Field: "phone_number_quality_update", Event: "UNFLAGGED"}, notification.Info},
		{event.Event{Field: "account_alerts", AlertSeverity: "CRITICAL"}, notification.Critical},
		{event.Event{Field: "account_alerts", AlertSeverity: "WARNING"}, notification.Warning},
		{event.Event{Field: "account_alerts", AlertSeverity: "INFORMATIONAL"}, notification.Info},
		{event.Event{Field: "account_update", Event: "ACCOUNT_DELETED"}, notification.Error},
		{event.Event{Field: "account_update", Event: "ACCOUNT_OFFBOARDED"}, notification.Error},
		{event.Event{Field: "account_update", Event: "PARTNER_REMOVED"}, notification.Error},
		{event.Event{Field: "account_update", Event: "PARTNER_ADDED"}, notification.Info},
		{event.Event{Field: "account_update", Event: "ACCOUNT_RECONNECTED"}, notification.Info},
		{event.Event{Field: "account_review_update", Event: "REJECTED", Decision: "REJECTED"}, notification.Error},
		{event.Event{Field: "account_review_update", Event: "DEFERRED", Decision: "DEFERRED"}, notification.Warning},
		{event.Event{Field: "account_review_update", Event: "APPROVED", Decision: "APPROVED"}, notification.Info},
		{event.Event{Field: "account_review_update", Event: "PENDING", Decision: "PENDING"}, notification.Info},
		{event.Event{Field: "flows", Event: "ENDPOINT_LATENCY", AlertState: "ACTIVATED"}, notification.Error},
		{event.Event{Field: "flows", Event: "ENDPOINT_ERROR_RATE", AlertState: "ACTIVATED"}, notification.Error},
		{event.Event{Field: "flows", Event: "ENDPOINT_AVAILABILITY", AlertState: "ACTIVATED"}, notification.Error},
		{event.Event{Field: "flows", Event: "CLIENT_ERROR_RATE", AlertState: "ACTIVATED"}, notification.Error},
		{event.Event{Field: "flows", Event: "ENDPOINT_ERROR_RATE"}, notification.Error},
		{event.Event{Field: "flows", Event: "ENDPOINT_ERROR_RATE", AlertState: "DEACTIVATED"}, notification.Info},
		{event.Event{Field: "flows", Event: "CLIENT_ERROR_RATE", AlertState: "RESOLVED"}, notification.Info},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "BLOCKED"}, notification.Error},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "THROTTLED"}, notification.Error},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "DEPRECATED"}, notification.Warning},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "PUBLISHED"}, notification.Info},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "DRAFT"}, notification.Info},
		{event.Event{Field: "flows", Event: "FLOW_STATUS_CHANGE", NewStatus: "SOMETHING_NEW"}, notification.Warning},
		{event.Event{Field: "flows", Event: "FLOW_VERSION_EXPIRY_WARNING"}, notification.Warning},
		{event.Event{Field: "flows", Event: "SOMETHING_NEW"}, notification.Warning},
		{event.Event{Field: "messages", Event: "MESSAGE_STATUS", Status: "failed"}, notification.Warning},
		{event.Event{Field: "messages", Event: "MESSAGE_STATUS", Status: "read"}, notification.Info},
		{event.Event{Field: "something_new"}, notification.Info},
	}
	for _, c := range cases {
		if got := DefaultSeverity(c.ev, nil); got != c.want {
			t.Errorf("%s/%s %s: got %v; want %v", c.ev.Field, c.ev.Event, c.ev.BanState+c.ev.AlertSeverity+c.ev.AlertState+c.ev.NewStatus, got, c.want)
		}
	}
}

// TestDefaultTextsWithoutFixtures covers kinds of event no webhook fixture
// has yet, so every branch of the default templates renders a sentence.
func TestDefaultTextsWithoutFixtures(t *testing.T) {
	s := mustParse(t, "rules:\n  - name: all\n    when: \"true\"\n    to: [legal-email]\n")
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	tmpl := event.Event{WabaID: "1", Field: "message_template_status_update", TemplateName: "promo", TemplateLanguage: "en"}
	with := func(ev event.Event, f func(*event.Event)) event.Event { f(&ev); return ev }
	cases := []struct {
		ev   event.Event
		want string
	}{
		{with(tmpl, func(e *event.Event) { e.Event = "DISABLED" }), `Template "promo" (en) on WABA 1 was disabled and can no longer be sent`},
		{with(tmpl, func(e *event.Event) { e.Event = "REINSTATED" }), `was reinstated and can be sent again`},
		{with(tmpl, func(e *event.Event) { e.Event, e.DisableDate = "FLAGGED", at }), `was flagged for low quality and will be disabled on 2026-01-02 03:04 UTC`},
		{with(tmpl, func(e *event.Event) {
			e.Field, e.Event, e.PreviousCategory, e.NewCategory = "template_category_update", "CATEGORY_CHANGE_PENDING", "UTILITY", "MARKETING"
		}), `will change category from utility to marketing`},
		{with(tmpl, func(e *event.Event) {
			e.Field, e.Event, e.NewCategory, e.CorrectCategory = "template_category_update", "CATEGORY_CHANGE_PENDING", "UTILITY", "MARKETING"
		}), `will change category from utility to marketing`},
		{event.Event{WabaID: "1", Field: "phone_number_quality_update", Event: "UPGRADE", PhoneNumber: "447700900123", CurrentLimit: "TIER_100K"},
			`WABA 1 — +447700900123 had its messaging limit raised (limit now 100,000 customers a day)`},
		{event.Event{WabaID: "1", Field: "phone_number_quality_update", Event: "UNFLAGGED", PhoneNumber: "16505551111"}, `is no longer flagged`},
		{event.Event{WabaID: "1", Field: "phone_number_name_update", Event: "REJECTED", Decision: "REJECTED", RequestedVerifiedName: "Acme"},
			`Display name "Acme" for WABA 1 was rejected`},
		{event.Event{WabaID: "1", Field: "account_update", Event: "ACCOUNT_RESTRICTION", Restrictions: []event.Restriction{
			{Type: "RESTRICTED_BUSINESS_INITIATED_CALLING", Expiration: at}, {Type: "RESTRICTED_NEW_THING"}}},
			`WABA 1 can no longer place business-initiated calls until 2026-01-02 03:04 UTC and use what RESTRICTED_NEW_THING covers until further notice`},
		{event.Event{WabaID: "1", Field: "account_update", Event: "DISABLED_UPDATE", BanState: "COMPROMISED"}, `ban state changed to compromised`},
		{event.Event{WabaID: "1", Field: "flows", Event: "FLOW_STATUS_CHANGE", FlowID: "9", OldStatus: "PUBLISHED", NewStatus: "BLOCKED"},
			`Status changed from published to blocked`},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ms, errs := s.Evaluate(c.ev)
			if len(errs) > 0 || len(ms) != 1 {
				t.Fatalf("errors %v", errs)
			}
			if text := ms[0].Title + "\n" + ms[0].Body; !strings.Contains(text, c.want) {
				t.Errorf("got\n%s\nwant it to contain %q", text, c.want)
			}
		})
	}
}

func TestNotificationsOnePerSink(t *testing.T) {
	s := exampleSet(t)
	ms, _ := s.Evaluate(fixtureEvents(t, "seed_disabled_update_disable.json")[0])
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ns := ms[0].Notifications(now)
	if len(ns) != 2 || ns[0].Sink != "oncall-pagerduty" || ns[1].Sink != "legal-email" ||
		ns[0].Rule != "account-banned" || !ns[0].CreatedAt.Equal(now) || ns[0].DedupKey != ns[1].DedupKey {
		t.Fatalf("notifications %+v", ns)
	}
}

// FuzzParseFile checks that no input makes the loader panic.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("rules:\n  - name: a\n    when: field == \"x\"\n    to: [legal-email]\n"))
	f.Add([]byte("rules:\n  - name: a\n    when: |\n      waba_id\n    to: [x]\n    dedup: {key: '{{', window: x}\n"))
	f.Add([]byte("rules: [1, [2], {name: {}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseFile("f.yaml", data, testSinks)
		if err == nil && s == nil {
			t.Fatal("nil set without error")
		}
	})
}

// TestEvaluateConcurrently lets -race check that a loaded Set is safe to
// share between the goroutines handling webhook deliveries.
func TestEvaluateConcurrently(t *testing.T) {
	s := exampleSet(t)
	ev := fixtureEvents(t, "seed_disabled_update_disable.json")[0]
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for range 50 {
				ms, _ := s.Evaluate(ev)
				n += len(ms)
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != 50 {
			t.Errorf("got %d matches; want 50", n)
		}
	}
}

// TestBanAndReinstateShareAKey: a ban and its reinstatement are one
// problem, so the key a rule gets by default for either is the same, and
// the incident the ban opened is the one the reinstatement ends.
func TestBanAndReinstateShareAKey(t *testing.T) {
	s := exampleSet(t)
	banRule := s.Rule("account-banned")
	banKey, err1 := s.IncidentKey(banRule, fixtureEvents(t, "seed_disabled_update_disable.json")[0])
	backKey, err2 := s.IncidentKey(banRule, fixtureEvents(t, "seed_disabled_update_reinstate.json")[0])
	if err1 != nil || err2 != nil || banKey == "" || banKey != backKey {
		t.Fatalf("ban key %q (%v), reinstatement key %q (%v); want one key", banKey, err1, backKey, err2)
	}
}

// TestIncidentSettings: incident.key names the incident, renotify reminds,
// dedup's older spellings mean the same, and resolve_when is the rule's
// own recovery.
func TestIncidentSettings(t *testing.T) {
	set, err := ParseFile("r.yaml", []byte(`rules:
  - name: flow-alert
    when: field == "flows" && alert_state == "ACTIVATED"
    to: [compliance-slack]
    incident: {key: 'flow/{{.flow_id}}'}
    renotify: 24h
    resolve_when: alert_state == "DEACTIVATED"
  - name: old-spelling
    when: field == "flows"
    to: [compliance-slack]
    dedup: {key: 'old/{{.flow_id}}', window: 6h}
  - name: sticky
    when: field == "flows"
    to: [compliance-slack]
    resolve: never
`), testSinks)
	if err != nil {
		t.Fatal(err)
	}
	flow, old, sticky := set.Rules[0], set.Rules[1], set.Rules[2]
	if flow.Renotify != 24*time.Hour || old.Renotify != 6*time.Hour || sticky.Renotify != 0 || !sticky.ResolveNever || flow.ResolveNever {
		t.Errorf("renotify %v %v %v, resolve never %v %v", flow.Renotify, old.Renotify, sticky.Renotify, flow.ResolveNever, sticky.ResolveNever)
	}
	ev := event.Event{Field: "flows", FlowID: "F1", AlertState: "DEACTIVATED", WabaID: "1"}
	for _, c := range []struct {
		r    *Rule
		want string
	}{{flow, "flow/F1"}, {old, "old/F1"}} {
		if key, err := set.IncidentKey(c.r, ev); err != nil || key != c.want {
			t.Errorf("IncidentKey(%s) = %q, %v; want %q", c.r.Name, key, err, c.want)
		}
	}
	if ok, err := flow.Recovers(ev); err != nil || !ok {
		t.Errorf("flow-alert.Recovers(DEACTIVATED) = %v, %v; want true", ok, err)
	}
	ev.AlertState = "ACTIVATED"
	if ok, err := flow.Recovers(ev); err != nil || ok {
		t.Errorf("flow-alert.Recovers(ACTIVATED) = %v, %v; want false", ok, err)
	}
	if ok, err := sticky.Recovers(ev); err != nil || ok {
		t.Errorf("a rule without resolve_when recovers nothing itself: %v, %v", ok, err)
	}
}

// TestNowIsTheSetsClock: now() in a condition reads the set's clock, the
// one a test's now: pins, not the wall clock.
func TestNowIsTheSetsClock(t *testing.T) {
	set, err := ParseFile("r.yaml", []byte(`rules:
  - name: late
    when: now().Year() == 2031 && ban_date.Before(now())
    to: [compliance-slack]
`), testSinks)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Field: "account_update", Event: "DISABLED_UPDATE", BanDate: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)}
	set.Now = func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }
	if matches, errs := set.Evaluate(ev); len(errs) != 0 || len(matches) != 1 {
		t.Fatalf("at 2031: matches %d, errs %v; want the rule to match", len(matches), errs)
	}
	set.Now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	if matches, errs := set.Evaluate(ev); len(errs) != 0 || len(matches) != 0 {
		t.Fatalf("at 2030: matches %d, errs %v; want none", len(matches), errs)
	}
}
