package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// scheduleConfig is business hours in Berlin for a chat, a pager at any
// time, and a "later" sink that takes notifications only on the weekday
// after tomorrow (UTC), so that whenever the test runs, serve holds what
// it routes for it by a day at least.
func scheduleConfig(dir, hookURL string, later time.Weekday) string {
	return fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
schedules:
  business-hours:
    time_zone: Europe/Berlin
    weekdays: ["monday:friday"]
    times: [{start: "09:00", end: "18:00"}]
  later:
    weekdays: [%s]
rules:
  - {name: banned, when: 'field == "account_update" && event == "DISABLED_UPDATE"', severity: critical, to: [hook, chat, later]}
sinks:
  - {name: hook, type: webhook, url: %s}
  - {name: chat, type: log, path: %s, active_during: [business-hours]}
  - {name: later, type: log, path: %s, active_during: [later]}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), strings.ToLower(later.String()), hookURL,
		filepath.Join(dir, "chat.log"), filepath.Join(dir, "later.log"))
}

// TestSchedulesRouteAndTest: the real binary's route --at and test, on a
// config with Berlin business hours, say that a Saturday ban is held for
// the chat until Monday 09:00 and sent to the others at once.
func TestSchedulesRouteAndTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: scheduleConfig(dir, "http://127.0.0.1:9/", time.Sunday)})
	ban, err := filepath.Abs("../../testdata/webhooks/seed_disabled_update_disable.json")
	if err != nil {
		t.Fatal(err)
	}
	res := r.Run(t, "route", "--at", "2026-11-28T10:00:00+01:00", ban)
	want := `rule "banned" → chat [critical, incident opened] key "102290129340398/ban" — held until 2026-11-30 09:00 Europe/Berlin: sink "chat": outside active_during business-hours`
	if res.Code != 0 || !strings.Contains(res.Stdout, want) {
		t.Fatalf("route: exit %d, want %q in\n%s", res.Code, want, res.Output())
	}
	if !strings.Contains(res.Stdout, `→ hook [critical, incident opened] key "102290129340398/ban"`+"\n") {
		t.Errorf("route: the hook is held or missing:\n%s", res.Stdout)
	}
	tests := filepath.Join(dir, "schedules_test.yaml")
	writeFile(t, tests, `tests:
  - name: a Saturday ban reaches the chat on Monday 09:00
    now: 2026-11-28T10:00:00+01:00
    payload_file: `+ban+`
    expect:
      - {rule: banned, sink: hook, severity: critical}
      - {rule: banned, sink: chat, severity: critical, held_until: "2026-11-30 09:00"}
      - {rule: banned, sink: later, severity: critical, held_until: "2026-11-29 00:00"}
  - name: a Monday 09:00 ban reaches the chat at once
    now: 2026-11-30T09:00:00+01:00
    payload_file: `+ban+`
    expect:
      - {rule: banned, sink: hook, severity: critical}
      - {rule: banned, sink: chat, severity: critical}
      - {rule: banned, sink: later, severity: critical, held_until: "2026-12-06 00:00"}
`)
	if res := r.Run(t, "test", tests); res.Code != 0 || !strings.Contains(res.Stdout, "2 passed, 0 failed") {
		t.Fatalf("test: exit %d\n%s", res.Code, res.Output())
	}
}

// TestServeHoldsForASchedule: serve sends a ban to the sink without a
// schedule at once and holds it for the sink whose schedule is shut,
// saying until when in its log.
func TestServeHoldsForASchedule(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	later := time.Now().UTC().AddDate(0, 0, 2).Weekday()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: scheduleConfig(dir, peer.URL(), later)})
	p := r.Start(t)
	peer.Want(1, "the ban, at once", func(d e2etest.WebhookDelivery) bool { return d.Notification.Rule == "banned" })
	if code, answer := p.PostSigned(t, appSecret, readFile(t, "../../testdata/webhooks/seed_disabled_update_disable.json")); code != http.StatusOK {
		t.Fatalf("%d %q", code, answer)
	}
	peer.Await(t)
	p.WaitForLog(t, "notification held", "sink=later", "outside active_during later")
	if p.HasLog("notification sent", "sink=later") {
		t.Errorf("the held notification was sent:\n%s", p.Tail(40))
	}
	// why, beside the running router, tells the hold from the decision log.
	res := r.Run(t, "why", "--waba", "102290129340398")
	if res.Code != 0 || !regexp.MustCompile(`→ later: held until \d{4}-\d\d-\d\d 00:00 \+00:00: sink "later": outside active_during later; not sent yet`).MatchString(res.Stdout) {
		t.Errorf("why: exit %d\n%s", res.Code, res.Output())
	}
}
