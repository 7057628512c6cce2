package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// The end-to-end checks of the hardening issue: each starts the real
// binary against real protocol peers.

// hookConfig is a router whose one rule sends every event to a signed
// webhook sink with the given concurrency.
func hookConfig(dir, peerURL string, concurrency int) string {
	return fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - {name: everything, when: 'true', to: [hook]}
sinks:
  - {name: hook, type: webhook, url: %s, secret: hook-secret, concurrency: %d}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), peerURL, concurrency)
}

// restrictionAt is a restriction webhook of WABA waba whose entry time is
// ms in Unix milliseconds, as is its expiration, years ahead (a passed
// expiration would resolve the incident at once, a second notification).
func restrictionAt(waba string, ms int64) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[{"field":"account_update",
"value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_ADD_PHONE_NUMBER_ACTION","expiration":%d}]}}]}]}`,
		waba, ms, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

// TestMillisecondTimesDoNotWedgeRouting: twenty webhooks whose times are
// in Unix milliseconds, then an ordinary one. Every one is routed and
// delivered, with its times read for what they are, and the router stays
// ready with nothing parked.
func TestMillisecondTimesDoNotWedgeRouting(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: hookConfig(dir, peer.URL(), 4)})
	p := r.Start(t)
	base := time.Date(2025, 12, 1, 14, 0, 0, 0, time.UTC).UnixMilli()
	peer.Want(20, "the restrictions stamped in milliseconds, dated 2025", func(d e2etest.WebhookDelivery) bool {
		return strings.HasPrefix(d.Notification.Event.WabaID, "77700000000") && d.Contains(`"time":"2025-12-01T14:00:`)
	})
	peer.Want(1, "the ordinary ban after them", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Event.WabaID == "102290129340398" && d.Notification.Event.Event == "DISABLED_UPDATE"
	})
	for i := range 20 {
		body := restrictionAt(fmt.Sprintf("77700000000%02d", i), base+int64(i)*1000)
		if code, answer := p.PostSigned(t, appSecret, body); code != http.StatusOK {
			t.Fatalf("webhook %d in milliseconds: %d %q, want 200", i, code, answer)
		}
	}
	if code, answer := p.PostSigned(t, appSecret, readFile(t, "../../testdata/webhooks/seed_disabled_update_disable.json")); code != http.StatusOK {
		t.Fatalf("ordinary webhook: %d %q", code, answer)
	}
	peer.Await(t)
	m := p.WaitDrained(t)
	peer.Check(t)
	if parked := m.Get("wabarouter_webhooks_parked"); parked != 0 {
		t.Errorf("wabarouter_webhooks_parked = %v, want 0", parked)
	}
	if failures := m.Get("wabarouter_routing_failures_total"); failures != 0 {
		t.Errorf("wabarouter_routing_failures_total = %v, want 0", failures)
	}
	resp, err := http.Get(p.URL("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "ready\nrules: ") ||
		strings.Contains(string(b), "parked") {
		t.Errorf("/readyz = %d %q, want 200 ready with the rules and nothing parked", resp.StatusCode, b)
	}
}

// hostileAlert is an account alert whose Meta-supplied texts try a channel
// ping and a disguised link, and a template whose name (chosen by whoever
// creates templates) tries the same.
func hostileAlert() []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[
{"field":"account_alerts","value":{"entity_type":"BUSINESS","entity_id":"506914307656634","alert_severity":"CRITICAL","alert_status":"ACTIVE",
 "alert_type":"INCREASED_CAPABILITIES_ELIGIBILITY_FAILED",
 "alert_description":"<!channel> limits cannot be increased for <BUSINESS_NAME>; appeal at <https://evil.example|business.facebook.com> or ask <@U024BE7LH> \u202Eexe.gpj"}},
{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":1234567,"message_template_name":"<!here> <https://evil.example|verify>","message_template_language":"en_US","reason":"<!everyone> INVALID_FORMAT"}}]}]}`)
}

// TestSlackGetsNoLiveMentionOrLink: whatever Meta's texts hold, Slack is
// never handed a live mention or link, nor a bidi override, in any part of
// a message, through the Web API or an incoming webhook.
func TestSlackGetsNoLiveMentionOrLink(t *testing.T) {
	t.Parallel()
	slackFake := e2etest.ServeSlack(t, "xoxb-e2e-token", nil)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - {name: everything, when: 'true', to: [bot, hook]}
sinks:
  - {name: bot, type: slack, token: xoxb-e2e-token, channel: C0COMPLIANCE, api_url: %s}
  - {name: hook, type: slack, webhook_url: %s}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), slackFake.APIURL(), slackFake.WebhookURL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)
	for _, via := range []string{e2etest.SlackViaAPI, e2etest.SlackViaWebhook} {
		slackFake.Want(1, "the alert via "+via, func(m e2etest.SlackMessage) bool {
			return m.Via == via && strings.Contains(m.Rendered(), "506914307656634")
		})
		slackFake.Want(1, "the rejected template via "+via, func(m e2etest.SlackMessage) bool {
			return m.Via == via && strings.Contains(m.Rendered(), "was rejected")
		})
	}
	if code, answer := p.PostSigned(t, appSecret, hostileAlert()); code != http.StatusOK {
		t.Fatalf("post: %d %q", code, answer)
	}
	slackFake.Await(t)
	p.WaitDrained(t)
	slackFake.Check(t)
	for _, m := range slackFake.Received() {
		text := m.Rendered()
		for _, live := range []string{"<!", "<@", "<http", "<BUSINESS_NAME>", "|business.facebook.com>", "|verify>", "\u202E"} {
			if strings.Contains(text, live) {
				t.Errorf("%s: Slack was handed %q live:\n%s", m.Via, live, text)
			}
		}
		// The words are still there, shown as text.
		if !strings.Contains(text, "&lt;!") {
			t.Errorf("%s: the escaped text is missing, so the reader cannot see what Meta sent:\n%s", m.Via, text)
		}
	}
}

// TestSlowReceiverGetsEachOnce: a receiver that answers each notification
// in 16 s (under the 20 s client timeout), served one at a time. Four
// notifications take over a minute, longer than any lease; each must
// arrive exactly once.
func TestSlowReceiverGetsEachOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over a minute")
	}
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{
		Respond: func(ctx context.Context, _ e2etest.WebhookDelivery) e2etest.Answer {
			select {
			case <-time.After(16 * time.Second):
			case <-ctx.Done():
			}
			return e2etest.Answer{}
		},
	})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: hookConfig(dir, peer.URL(), 1)})
	p := r.Start(t)
	for i := range 4 {
		waba := fmt.Sprintf("55500000000%02d", i)
		peer.Want(1, "the restriction of "+waba, func(d e2etest.WebhookDelivery) bool { return d.Notification.Event.WabaID == waba })
		body := restrictionAt(waba, time.Date(2025, 12, 1, 14, 0, i, 0, time.UTC).UnixMilli())
		if code, answer := p.PostSigned(t, appSecret, body); code != http.StatusOK {
			t.Fatalf("post %d: %d %q", i, code, answer)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := p.AwaitDrained(ctx); err != nil {
		t.Fatalf("four 16 s sends did not drain in 3 minutes: %v", err)
	}
	peer.Check(t)
	if n := peer.Attempts(); n != 4 {
		t.Errorf("the receiver was sent %d notifications, want 4 (one each)", n)
	}
}

// banConfig pages a PagerDuty service that takes only errors and worse,
// with trigger rules and a resolve rule written as the guide shows, on the
// default keys.
func banConfig(dir, eventsURL, routingKey string) string {
	return fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - name: banned
    when: 'event == "DISABLED_UPDATE" && ban_state == "DISABLE"'
    severity: critical
    to: [pager]
  - name: ban-lifted
    when: 'event == "DISABLED_UPDATE" && ban_state == "REINSTATE"'
    action: resolve
    to: [pager]
  - name: number-flagged
    when: 'field == "phone_number_quality_update"'
    severity: error
    to: [pager]
  - name: restricted
    when: 'event == "ACCOUNT_RESTRICTION"'
    severity: critical
    to: [pager]
sinks:
  - {name: pager, type: pagerduty, routing_key: %s, events_url: %s, min_severity: error}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), routingKey, eventsURL)
}

const e2eRoutingKey = "R0UTINGKEYE2E0123456789ABCDEFGHIJ"

// TestBanResolveReachesAnErrorOnlyPager: the resolve of a ban is info, and
// the pager takes only errors; it heard of the ban, so it gets the resolve,
// under the trigger's key.
func TestBanResolveReachesAnErrorOnlyPager(t *testing.T) {
	t.Parallel()
	pd := e2etest.ServePagerDuty(t, e2eRoutingKey, nil)
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: banConfig(dir, pd.URL(), e2eRoutingKey)})
	p := r.Start(t)
	pd.Want(1, "the ban's trigger", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && e.Severity() == "critical"
	})
	pd.Want(1, "the reinstatement's resolve", func(e e2etest.PagerDutyEvent) bool { return e.Event.Action == "resolve" })
	for _, seed := range []string{"seed_disabled_update_disable.json", "seed_disabled_update_reinstate.json"} {
		if code, answer := p.PostSigned(t, appSecret, readFile(t, "../../testdata/webhooks/"+seed)); code != http.StatusOK {
			t.Fatalf("%s: %d %q", seed, code, answer)
		}
		// In order: the resolve must not overtake its trigger.
		p.WaitDrained(t)
	}
	pd.Await(t)
	pd.Check(t)
	got := pd.Received()
	if trigger, resolve := got[0].Event.DedupKey, got[1].Event.DedupKey; trigger == "" || resolve != trigger {
		t.Errorf("trigger key %q, resolve key %q; want the resolve to close the trigger's incident", trigger, resolve)
	}
}

// TestTwoProblemsOnOneAccountPageTwice: two numbers flagged in one
// webhook, and two restriction types, are four problems, with four
// PagerDuty keys.
func TestTwoProblemsOnOneAccountPageTwice(t *testing.T) {
	t.Parallel()
	pd := e2etest.ServePagerDuty(t, e2eRoutingKey, nil)
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: banConfig(dir, pd.URL(), e2eRoutingKey)})
	p := r.Start(t)
	pd.Want(4, "a trigger per problem", func(e e2etest.PagerDutyEvent) bool { return e.Event.Action == "trigger" })
	flagged := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[
{"field":"phone_number_quality_update","value":{"display_phone_number":"16505551111","event":"FLAGGED","current_limit":"TIER_10K"}},
{"field":"phone_number_quality_update","value":{"display_phone_number":"16505552222","event":"FLAGGED","current_limit":"TIER_10K"}}]}]}`
	restricted := func(kind string, at int) string {
		return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":%d,"changes":[
{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":%q,"expiration":1924992000}]}}]}]}`, at, kind)
	}
	for _, body := range []string{flagged, restricted("RESTRICTED_ADD_PHONE_NUMBER_ACTION", 1764597601), restricted("RESTRICTED_BIZ_INITIATED_MESSAGING", 1764597602)} {
		if code, answer := p.PostSigned(t, appSecret, []byte(body)); code != http.StatusOK {
			t.Fatalf("post: %d %q", code, answer)
		}
	}
	pd.Await(t)
	p.WaitDrained(t)
	pd.Check(t)
	keys := map[string]bool{}
	for _, e := range pd.Received() {
		keys[e.Event.DedupKey] = true
	}
	if len(keys) != 4 {
		t.Errorf("%d distinct dedup keys for four problems: %v", len(keys), keys)
	}
}

// TestRuleAuthorsNeedNoProductionSecrets: a rule author's repository has
// no server section and no sink secrets. check, route and test judge its
// rules, warning about what they could not check; a broken rule still
// fails them; serve refuses to start on it.
func TestRuleAuthorsNeedNoProductionSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed, err := filepath.Abs("../../testdata/webhooks/seed_disabled_update_disable.json")
	if err != nil {
		t.Fatal(err)
	}
	rules := `rules:
  - name: banned
    when: 'event == "DISABLED_UPDATE" && ban_state == "DISABLE"'
    severity: critical
    to: [pager, chat]
`
	writeFile(t, filepath.Join(dir, "rules.yaml"), rules)
	writeFile(t, filepath.Join(dir, "tests.yaml"), `tests:
  - name: a ban pages
    payload_file: `+seed+`
    expect:
      - {rule: banned, sink: pager, severity: critical}
      - {rule: banned, sink: chat, severity: critical}
`)
	cfg := `rules: [rules.yaml]
sinks:
  - {name: pager, type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}
  - {name: chat, type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
`
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	for _, v := range []string{"PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL", "META_VERIFY_TOKEN", "META_APP_SECRET"} {
		if _, set := os.LookupEnv(v); set {
			t.Skipf("%s is set in this environment", v)
		}
	}
	warnings := []string{"no server section", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL"}
	for _, c := range []struct {
		args []string
		out  string
	}{
		{[]string{"check"}, "OK"},
		{[]string{"route", seed}, `rule "banned" → pager`},
		{[]string{"test", filepath.Join(dir, "tests.yaml")}, "1 passed, 0 failed"},
	} {
		res := r.Run(t, c.args...)
		if res.Code != 0 || !strings.Contains(res.Stdout, c.out) {
			t.Errorf("%v: exit %d, want 0 with %q\n%s", c.args, res.Code, c.out, res.Output())
		}
		for _, w := range warnings {
			if !strings.Contains(res.Stderr, w) {
				t.Errorf("%v: stderr does not warn about %s:\n%s", c.args, w, res.Stderr)
			}
		}
	}
	if res := r.Run(t, "check", "--strict"); res.Code == 0 {
		t.Errorf("check --strict passed a config serve refuses:\n%s", res.Output())
	}
	if _, err := r.Launch(context.Background()); err == nil {
		t.Error("serve started without its secrets")
	}

	// A broken rule still fails all three.
	writeFile(t, filepath.Join(dir, "rules.yaml"), strings.Replace(rules, `ban_state == "DISABLE"'`, `ban_stat == "DISABLE"'`, 1))
	for _, args := range [][]string{{"check"}, {"route", seed}, {"test", filepath.Join(dir, "tests.yaml")}} {
		if res := r.Run(t, args...); res.Code == 0 || !strings.Contains(res.Stderr, "rules.yaml:3:") {
			t.Errorf("%v with a broken rule: exit %d, want a failure at rules.yaml:3\n%s", args, res.Code, res.Output())
		}
	}
}

// TestEmptyEntryListIsAccepted: Meta retries every non-200 for days; a
// well-formed envelope with nothing in it gets 200 and routes nothing.
func TestEmptyEntryListIsAccepted(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: hookConfig(dir, peer.URL(), 4)})
	p := r.Start(t)
	for _, body := range []string{`{"object":"whatsapp_business_account","entry":[]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[]}]}`} {
		if code, answer := p.PostSigned(t, appSecret, []byte(body)); code != http.StatusOK {
			t.Errorf("%s: %d %q, want 200", body, code, answer)
		}
	}
	m := p.WaitDrained(t)
	peer.Check(t) // nothing wanted, so nothing may have come
	if got := m.Get("wabarouter_webhooks_accepted_total"); got != 2 {
		t.Errorf("accepted = %v, want 2", got)
	}
}

// TestPagerDutyEchoLeavesNoRoutingKey: an Events API that echoes the
// request, routing key included, in its error. The key must not reach the
// log, the store, deadletter list or notify-test.
func TestPagerDutyEchoLeavesNoRoutingKey(t *testing.T) {
	t.Parallel()
	pd := e2etest.ServePagerDuty(t, e2eRoutingKey, func(_ context.Context, e e2etest.PagerDutyEvent) e2etest.Answer {
		return e2etest.Answer{Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "application/json"},
			Body: fmt.Sprintf(`{"status":"invalid event","message":"Event object is invalid","errors":[%q]}`, "you sent: "+string(e.Body))}
	})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: banConfig(dir, pd.URL(), e2eRoutingKey)})
	p := r.Start(t)
	if code, answer := p.PostSigned(t, appSecret, readFile(t, "../../testdata/webhooks/seed_disabled_update_disable.json")); code != http.StatusOK {
		t.Fatalf("post: %d %q", code, answer)
	}
	p.WaitDrained(t)
	if pd.Attempts() == 0 {
		t.Fatal("PagerDuty was never asked")
	}
	list := r.Run(t, "deadletter", "list")
	if list.Code != 0 || !strings.Contains(list.Stdout, "invalid event") {
		t.Fatalf("deadletter list: exit %d, want the refused trigger with PagerDuty's answer\n%s", list.Code, list.Output())
	}
	notify := r.Run(t, "notify-test", "--sink", "pager")
	if notify.Code == 0 {
		t.Errorf("notify-test passed against a PagerDuty that refuses everything:\n%s", notify.Output())
	}
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	places := map[string][]byte{
		"the router's log":        []byte(p.LogText()),
		"deadletter list":         []byte(list.Output()),
		"notify-test's output":    []byte(notify.Output()),
		"the store (and its WAL)": storeBytes(t, dir),
	}
	for where, b := range places {
		if bytes.Contains(b, []byte(e2eRoutingKey)) {
			t.Errorf("the routing key is in %s", where)
		}
	}
}

// storeBytes is every byte of the store's files.
func storeBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	matches, err := filepath.Glob(filepath.Join(dir, "router.db*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no store files in %s: %v", dir, err)
	}
	for _, m := range matches {
		all = append(all, readFile(t, m)...)
	}
	return all
}
