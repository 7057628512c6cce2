package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

var update = flag.Bool("update", false, "rewrite testdata/titles.golden and the .golden of each *.bad.yaml")

const webhooks = "../../testdata/webhooks"

// fixtureEvents parses one webhook fixture; a change the parser refuses is
// the parser's business, so its siblings are still used.
func fixtureEvents(t testing.TB, name string) []event.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(webhooks, name))
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := event.Parse(data)
	if len(evs) == 0 {
		t.Fatalf("%s: no events", name)
	}
	return evs
}

func exampleSet(t testing.TB) *Set {
	t.Helper()
	s, err := LoadFiles([]string{"../../rules.example.yaml"}, testSinks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// routes summarises an event's matches as "sink=severity/action" sorted.
func routes(t *testing.T, s *Set, ev event.Event) string {
	t.Helper()
	ms, errs := s.Evaluate(ev)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	var out []string
	for _, m := range ms {
		for _, n := range m.Notifications(time.Time{}) {
			out = append(out, fmt.Sprintf("%s=%s/%s", n.Sink, n.Severity, n.Action))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestExampleRoutesSeeds(t *testing.T) {
	s := exampleSet(t)
	cases := map[string]string{
		"seed_account_restriction.json":                  "oncall-pagerduty=critical/trigger",
		"seed_restriction_multiple.json":                 "oncall-pagerduty=critical/trigger",
		"seed_pv_restriction_add_phone.json":             "oncall-pagerduty=critical/trigger",
		"seed_pv_restriction_biz_messaging.json":         "oncall-pagerduty=critical/trigger",
		"seed_pv_restriction_customer_messaging.json":    "oncall-pagerduty=critical/trigger",
		"seed_account_violation.json":                    "compliance-slack=error/trigger",
		"seed_pv_account_violation.json":                 "compliance-slack=error/trigger",
		"seed_disabled_update_disable.json":              "legal-email=critical/trigger oncall-pagerduty=critical/trigger",
		"seed_disabled_update_schedule_for_disable.json": "legal-email=critical/trigger oncall-pagerduty=critical/trigger",
		"seed_disabled_update_list.json":                 "legal-email=critical/trigger oncall-pagerduty=critical/trigger",
		// No rule: the schema's lifecycle resolves the ban's incident.
		"seed_disabled_update_reinstate.json":     "",
		"seed_template_rejected.json":             "compliance-slack=error/trigger",
		"seed_template_paused.json":               "compliance-slack=error/trigger",
		"seed_template_flagged.json":              "compliance-slack=warning/trigger",
		"seed_template_approved.json":             "",
		"seed_template_pending_deletion.json":     "",
		"seed_template_quality_update.json":       "",
		"seed_template_category_update.json":      "",
		"seed_phone_quality_update.json":          "compliance-slack=warning/trigger",
		"seed_phone_name_update.json":             "",
		"seed_account_alerts_failed.json":         "oncall-pagerduty=critical/trigger",
		"seed_account_alerts_deferred.json":       "compliance-slack=warning/trigger",
		"seed_account_alerts_need_more_info.json": "compliance-slack=warning/trigger",
		"seed_account_review_update.json":         "",
		"seed_business_capability_update.json":    "",
		"seed_account_verified.json":              "",
		"seed_account_deleted.json":               "",
		"seed_partner_removed.json":               "",
		"var_messages_failed_status.json":         "",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			for _, ev := range fixtureEvents(t, file) {
				if got := routes(t, s, ev); got != want {
					t.Errorf("%s/%s routes to %q; want %q", ev.Field, ev.Event, got, want)
				}
			}
		})
	}
}

func mustParse(t testing.TB, src string) *Set {
	t.Helper()
	s, err := ParseFile("test.yaml", []byte(src), testSinks)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func names(ms []Match) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule.Name)
	}
	return strings.Join(out, ",")
}

func TestStopEndsEvaluation(t *testing.T) {
	s := mustParse(t, `rules:
  - name: first
    when: field == "account_update"
    to: [compliance-slack]
  - name: stopper
    when: event == "ACCOUNT_VIOLATION"
    to: [legal-email]
    stop: true
  - name: after
    when: "true"
    to: [oncall-pagerduty]
`)
	ev := fixtureEvents(t, "seed_account_violation.json")[0]
	ms, errs := s.Evaluate(ev)
	if len(errs) > 0 || names(ms) != "first,stopper" {
		t.Fatalf("matched %q, errors %v; want first,stopper", names(ms), errs)
	}
	ev.Event = "ACCOUNT_RESTRICTION"
	if ms, _ := s.Evaluate(ev); names(ms) != "first,after" {
		t.Fatalf("matched %q; want first,after when stopper does not match", names(ms))
	}
}

func TestRuntimeErrorDoesNotStopOtherRules(t *testing.T) {
	s := mustParse(t, `rules:
  - name: before
    when: "true"
    to: [compliance-slack]
  - name: broken
    when: value.missing.key == 1
    to: [oncall-pagerduty]
  - name: bad-duration
    when: within(ban_date, "soon")
    to: [oncall-pagerduty]
  - name: after
    when: field == "account_update"
    to: [legal-email]
`)
	ms, errs := s.Evaluate(fixtureEvents(t, "seed_disabled_update_disable.json")[0])
	if names(ms) != "before,after" {
		t.Errorf("matched %q; want before,after", names(ms))
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `rule "broken"`) ||
		!strings.Contains(errs[1].Error(), `rule "bad-duration"`) {
		t.Errorf("errors %v; want one for broken and one for bad-duration", errs)
	}
}

func TestHelpers(t *testing.T) {
	ban := fixtureEvents(t, "seed_disabled_update_schedule_for_disable.json")[0] // ban_date 2025-12-08 14:00
	cases := []struct {
		when string
		now  string
		want bool
	}{
		{`within(ban_date, "168h")`, "2025-12-01T14:00:00Z", true},
		{`within(ban_date, "167h")`, "2025-12-01T14:00:00Z", false},
		{`within(ban_date, "1000h")`, "2025-12-09T00:00:00Z", false}, // already past
		{`older_than(time, "24h")`, "2025-12-03T00:00:00Z", true},
		{`older_than(time, "24h")`, "2025-12-02T00:00:00Z", false},
		{`contains_any(["A", "B"], "C", "B")`, "2025-12-01T00:00:00Z", true},
		{`contains_any(types, "X")`, "2025-12-01T00:00:00Z", false},
		{`ban_state matches "^SCHEDULE"`, "2025-12-01T00:00:00Z", true},
		{`lower(ban_state) == "schedule_for_disable" and hasPrefix(field, "account")`, "2025-12-01T00:00:00Z", true},
		{`value.ban_info.waba_ban_state == "SCHEDULE_FOR_DISABLE"`, "2025-12-01T00:00:00Z", true},
	}
	for _, c := range cases {
		t.Run(c.when, func(t *testing.T) {
			s := mustParse(t, "rules:\n  - name: r\n    when: '"+c.when+"'\n    to: [legal-email]\n")
			now, _ := time.Parse(time.RFC3339, c.now)
			s.Now = func() time.Time { return now }
			ms, errs := s.Evaluate(ban)
			if len(errs) > 0 || (len(ms) == 1) != c.want {
				t.Errorf("matched %d, errors %v; want match=%v", len(ms), errs, c.want)
			}
		})
	}
}

func TestDedupKeyAndOverrides(t *testing.T) {
	s := mustParse(t, `rules:
  - name: custom
    when: "true"
    to: [legal-email]
    severity: warning
    title: 'Ban on {{.waba_id}} at {{utc .ban_date}}'
    dedup: {key: '{{.waba_id}}/{{.event}}', window: 6h}
  - name: plain
    when: "true"
    to: [legal-email]
`)
	ms, _ := s.Evaluate(fixtureEvents(t, "seed_disabled_update_disable.json")[0])
	if len(ms) != 2 {
		t.Fatalf("got %d matches", len(ms))
	}
	c, p := ms[0], ms[1]
	if c.Title != "Ban on 102290129340398 at 2025-12-08 14:00 UTC" || c.DedupKey != "102290129340398/DISABLED_UPDATE" ||
		c.DedupWindow != 6*time.Hour || c.Severity != notification.Warning {
		t.Errorf("custom match %+v", c)
	}
	if p.DedupKey != "102290129340398/ban" || p.Severity != notification.Critical {
		t.Errorf("plain match key %q severity %v", p.DedupKey, p.Severity)
	}
}

func TestDefaultSeverityOverrides(t *testing.T) {
	ev := event.Event{Field: "flows", Event: "ENDPOINT_ERROR_RATE"}
	if got := DefaultSeverity(ev, nil); got != notification.Error {
		t.Errorf("flows default %v", got)
	}
	o := map[string]notification.Severity{"flows": notification.Warning, "flows/ENDPOINT_ERROR_RATE": notification.Info}
	if got := DefaultSeverity(ev, o); got != notification.Info {
		t.Errorf("field/EVENT override gave %v", got)
	}
	delete(o, "flows/ENDPOINT_ERROR_RATE")
	if got := DefaultSeverity(ev, o); got != notification.Warning {
		t.Errorf("field override gave %v", got)
	}
}

// TestDefaultTitlesGolden renders the default title and body of every
// event of every webhook fixture.
func TestDefaultTitlesGolden(t *testing.T) {
	s := mustParse(t, "rules:\n  - name: all\n    when: \"true\"\n    to: [legal-email]\n")
	files, err := filepath.Glob(filepath.Join(webhooks, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		for _, ev := range fixtureEvents(t, filepath.Base(f)) {
			ms, errs := s.Evaluate(ev)
			if len(errs) > 0 || len(ms) != 1 {
				t.Fatalf("%s: %v", f, errs)
			}
			fmt.Fprintf(&b, "== %s %s/%s [%s]\n%s\n%s\n\n", filepath.Base(f), ev.Field, ev.Event, ms[0].Severity, ms[0].Title, ms[0].Body)
		}
	}
	golden := filepath.Join("testdata", "titles.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("titles differ from %s (run with -update and review the diff):\n%s", golden, b.String())
	}
}

func BenchmarkEvaluate(b *testing.B) {
	ev := fixtureEvents(b, "seed_account_restriction.json")[0]
	// "one" is a real file: many rules, one matches. "tenth" makes every
	// tenth rule match, so rendering of titles and bodies is measured too.
	for _, n := range []int{10, 100, 1000} {
		for _, matching := range []string{"one", "tenth"} {
			b.Run(fmt.Sprintf("%d/match=%s", n, matching), func(b *testing.B) {
				var src strings.Builder
				src.WriteString("rules:\n")
				for i := range n {
					when := fmt.Sprintf(`field == "account_update" and event == "E%d"`, i)
					if (matching == "tenth" && i%10 == 0) || (matching == "one" && i == n/2) {
						when = `field == "account_update" and "RESTRICTED_BIZ_INITIATED_MESSAGING" in types`
					}
					fmt.Fprintf(&src, "  - name: r%d\n    when: '%s'\n    to: [legal-email]\n", i, when)
				}
				s := mustParse(b, src.String())
				b.ReportAllocs()
				for b.Loop() {
					if _, errs := s.Evaluate(ev); len(errs) > 0 {
						b.Fatal(errs)
					}
				}
			})
		}
	}
}
