package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// TestWabaNamesTheAccountAsSinksDo renders the "waba" subtemplate for
// every event of every fixture, with and without a directory entry, and
// compares it with sinks.Who, so a title and a Slack header or an e-mail
// subject name the account the same way. (Only this test imports sinks:
// rules does not.)
func TestWabaNamesTheAccountAsSinksDo(t *testing.T) {
	tmpl, err := newTemplate("who", subject+`{{template "waba" .}}`)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(webhooks, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	accounts := []event.Account{
		{},
		{Name: "Acme Retail EU"},
		{Name: "Acme Retail EU", PhoneLabel: "support line"},
		{PhoneLabel: "support line"},
	}
	seen := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := event.Parse(body)
		for _, ev := range evs {
			for _, acct := range accounts {
				ev.Account = acct
				got, err := render(tmpl, templateData(ev))
				if err != nil {
					t.Fatal(err)
				}
				if want := sinks.Who(notification.Notification{Event: ev}); got != want {
					t.Errorf("%s, account %+v: waba reads %q, sinks.Who %q", filepath.Base(file), acct, got, want)
				}
				seen++
			}
		}
	}
	if seen < 100 {
		t.Errorf("only %d renderings compared", seen)
	}
}

// TestDefaultTitlesNameTheAccount: with a directory entry, titles name
// the account and the number's label, the template, flows and phone
// quality titles included; without one they say WABA <id>.
func TestDefaultTitlesNameTheAccount(t *testing.T) {
	s := mustParse(t, "rules:\n  - name: all\n    when: \"true\"\n    to: [legal-email]\n")
	acme := event.Account{Name: "Acme Retail EU", PhoneLabel: "support line"}
	cases := []struct {
		ev   event.Event
		want string
	}{
		{event.Event{WabaID: "1", Field: "phone_number_quality_update", Event: "FLAGGED", PhoneNumber: "16505551111", Account: acme},
			"Acme Retail EU — +1 650-555-1111 (support line) was flagged for low quality"},
		{event.Event{WabaID: "1", Field: "phone_number_quality_update", Event: "FLAGGED", PhoneNumber: "16505551111"},
			"WABA 1 — +1 650-555-1111 was flagged for low quality"},
		{event.Event{WabaID: "1", Field: "message_template_status_update", Event: "APPROVED", TemplateName: "order_update", Account: acme},
			`Template "order_update" on Acme Retail EU was approved and can be sent`},
		{event.Event{WabaID: "1", Field: "flows", Event: "ENDPOINT_LATENCY", FlowID: "9", Account: acme},
			"Flow 9 on Acme Retail EU: endpoint latency"},
		{event.Event{WabaID: "1", Field: "account_update", Event: "ACCOUNT_DELETED", Account: acme},
			"Acme Retail EU was deleted"},
		{event.Event{WabaID: "1", Field: "account_alerts", AlertSeverity: "CRITICAL", AlertDescription: "Limits cannot be increased for <BUSINESS_NAME>.", Account: acme},
			"Acme Retail EU critical alert: Limits cannot be increased for <BUSINESS_NAME>."},
	}
	for _, c := range cases {
		ms, errs := s.Evaluate(c.ev)
		if len(errs) > 0 || len(ms) != 1 {
			t.Fatalf("%+v: errors %v", c.ev, errs)
		}
		if ms[0].Title != c.want {
			t.Errorf("title %q, want %q", ms[0].Title, c.want)
		}
	}
}

// TestDefaultTextsTense: a date after the event's own time reads in the
// future tense, one before it in the past, whatever the wall clock says.
func TestDefaultTextsTense(t *testing.T) {
	s := mustParse(t, "rules:\n  - name: all\n    when: \"true\"\n    to: [legal-email]\n")
	at := time.Date(2026, 6, 16, 14, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	ban := func(state string, date time.Time) event.Event {
		return event.Event{WabaID: "1", Field: "account_update", Event: "DISABLED_UPDATE", Time: at, BanState: state, BanDate: date}
	}
	flagged := func(date time.Time) event.Event {
		return event.Event{WabaID: "1", Field: "message_template_status_update", Event: "FLAGGED", TemplateName: "t", Time: at, DisableDate: date}
	}
	cases := []struct {
		ev         event.Event
		want, not  string
		wantInBody string
	}{
		{ban("DISABLE", at.Add(week)), "WABA 1 will be banned on 2026-06-23 14:00 UTC", "has been banned", "from 2026-06-23 14:00 UTC"},
		{ban("DISABLE", at.Add(-week)), "WABA 1 has been banned and can no longer use WhatsApp (since 2026-06-09 14:00 UTC)", "will be", "can be appealed"},
		{ban("DISABLE", at), "has been banned", "will be", ""},
		{ban("DISABLE", time.Time{}), "WABA 1 has been banned and can no longer use WhatsApp", "since", ""},
		{ban("SCHEDULE_FOR_DISABLE", at.Add(week)), "WABA 1 will be banned on 2026-06-23 14:00 UTC", "scheduled", ""},
		{ban("SCHEDULE_FOR_DISABLE", at.Add(-week)), "WABA 1 was scheduled to be banned on 2026-06-09 14:00 UTC", "will be", ""},
		{flagged(at.Add(week)), "and will be disabled on 2026-06-23 14:00 UTC", "named", ""},
		{flagged(at.Add(-week)), "(Meta named 2026-06-09 14:00 UTC to disable it)", "will be", ""},
		{flagged(time.Time{}), `Template "t" on WABA 1 was flagged for low quality`, "disable", ""},
	}
	for _, c := range cases {
		ms, errs := s.Evaluate(c.ev)
		if len(errs) > 0 || len(ms) != 1 {
			t.Fatalf("%+v: errors %v", c.ev, errs)
		}
		title, body := ms[0].Title, ms[0].Body
		if !strings.Contains(title, c.want) || (c.not != "" && strings.Contains(title, c.not)) {
			t.Errorf("title %q: want %q, not %q", title, c.want, c.not)
		}
		if !strings.Contains(body, c.wantInBody) {
			t.Errorf("body %q: want %q", body, c.wantInBody)
		}
	}
}

// TestDefaultBodiesNameEnums: no default title or body shows one of
// Meta's enums raw where it has a human name, over every fixture.
func TestDefaultBodiesNameEnums(t *testing.T) {
	s := mustParse(t, "rules:\n  - name: all\n    when: \"true\"\n    to: [legal-email]\n")
	files, _ := filepath.Glob(filepath.Join(webhooks, "*.json"))
	raw := []string{"Template status:", "Ban state:", "Decision:", "_ELIGIBILITY_", "TIER_", "RESTRICTED_", "SCHEDULE_FOR_DISABLE",
		"(WARNING", "(CRITICAL", "PUBLISHED", "The raw value is attached"}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := event.Parse(body)
		for _, ev := range evs {
			ms, _ := s.Evaluate(ev)
			for _, m := range ms {
				for _, r := range raw {
					// "can no longer use what RESTRICTED_X covers" names a
					// restriction wabarouter has no phrase for: its raw
					// type is all there is.
					if strings.Contains(m.Title+"\n"+m.Body, r) && !strings.Contains(m.Title, "use what "+r) {
						t.Errorf("%s %s/%s shows %q raw:\n%s\n%s", filepath.Base(file), ev.Field, ev.Event, r, m.Title, m.Body)
					}
				}
			}
		}
	}
}
