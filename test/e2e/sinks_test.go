package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

const (
	slackToken    = "xoxb-e2e-secret-token"
	pdRoutingKey  = "R0UT1NGK3Y0123456789abcdefABCDEF"
	smtpUser      = "alerts@example.com"
	smtpPassword  = "smtp-e2e-p4ssw0rd"
	banWabaID     = "102290129340398"
	banDedupKey   = "e2e-ban/" + banWabaID
	seedBanSample = "../../testdata/webhooks/seed_disabled_update_disable.json"
)

func TestServeDeliversToEverySink(t *testing.T) {
	t.Parallel()
	slack := e2etest.ServeSlack(t, slackToken, func(_ context.Context, m e2etest.SlackMessage) e2etest.Answer {
		if m.Channel == "CGONE" {
			return e2etest.SlackAPIError("channel_not_found")
		}
		return e2etest.Answer{}
	})
	pd := e2etest.ServePagerDuty(t, pdRoutingKey, nil)
	mail := e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: smtpUser, Password: smtpPassword})

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	writeFile(t, rulesPath, `rules:
  - name: account-banned
    description: The account is banned
    when: field == "account_update" and event == "DISABLED_UPDATE" and ban_state == "DISABLE"
    severity: critical
    to: [team-slack, oncall-pagerduty, legal-email]
    dedup:
      key: 'e2e-ban/{{.waba_id}}'
`)
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: ${E2E_VERIFY_TOKEN}
  app_secrets: ["${E2E_APP_SECRET}"]
store:
  path: %s
rules: [%s]
sinks:
  - name: team-slack
    type: slack
    token: ${E2E_SLACK_TOKEN}
    channel: C123
    api_url: %s
  - name: oncall-pagerduty
    type: pagerduty
    routing_key: ${E2E_PD_KEY}
    events_url: %s/v2/enqueue
  - name: legal-email
    type: email
    host: %s
    port: %d
    tls: none
    username: %s
    password: ${E2E_SMTP_PASSWORD}
    from: wabarouter@example.com
    to: [legal@example.com]
  - name: gone-slack
    type: slack
    token: ${E2E_SLACK_TOKEN}
    channel: CGONE
    api_url: %s
`, filepath.Join(dir, "router.db"), rulesPath, slack.APIURL(), pd.URL(), mail.Host(), mail.Port(), smtpUser, slack.APIURL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg, Env: []string{
		"E2E_VERIFY_TOKEN=" + verifyToken, "E2E_APP_SECRET=" + appSecret,
		"E2E_SLACK_TOKEN=" + slackToken, "E2E_PD_KEY=" + pdRoutingKey, "E2E_SMTP_PASSWORD=" + smtpPassword}})
	p := r.Start(t)

	slack.Want(1, "the ban posted to C123", func(m e2etest.SlackMessage) bool {
		return m.Channel == "C123" && !strings.Contains(m.Rendered(), "[TEST]")
	})
	pd.Want(1, "the ban's trigger", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && e.Event.DedupKey == banDedupKey
	})
	mail.Want(1, "the ban's mail", func(m e2etest.Mail) bool { return !strings.Contains(m.Subject, "[TEST]") })
	if code, body := p.PostSigned(t, appSecret, readFile(t, seedBanSample)); code != 200 {
		t.Fatalf("got %d %q, want 200", code, body)
	}
	slack.Await(t)
	pd.Await(t)
	mail.Await(t)
	p.WaitDrained(t)
	slack.Check(t)
	pd.Check(t)
	mail.Check(t)
	if t.Failed() {
		t.FailNow()
	}

	t.Run("slack", func(t *testing.T) {
		m := slack.Received()[0]
		if m.Via != e2etest.SlackViaAPI || m.Token != slackToken {
			t.Errorf("slack message came by %s with token %q; want chat.postMessage with the bot token", m.Via, m.Token)
		}
		if len(m.Attachments) == 0 || !strings.Contains(m.Rendered(), banWabaID) || !strings.Contains(m.Rendered(), "banned") {
			t.Errorf("slack attachments do not mention WABA %s and \"banned\": %s", banWabaID, m.Body)
		}
	})

	t.Run("pagerduty", func(t *testing.T) {
		e := pd.Received()[0]
		if e.Severity() != "critical" || e.Event.RoutingKey != pdRoutingKey {
			t.Errorf("pagerduty event %s\nwant severity critical and the routing key", e.Body)
		}
		if !strings.Contains(e.Summary(), banWabaID) {
			t.Errorf("pagerduty summary %q does not name WABA %s", e.Summary(), banWabaID)
		}
	})

	t.Run("email", func(t *testing.T) {
		m := mail.Received()[0]
		if !strings.HasPrefix(m.Subject, "[CRITICAL]") {
			t.Errorf("subject %q, want it to start with [CRITICAL]", m.Subject)
		}
		if !strings.Contains(m.Text, banWabaID) || !strings.Contains(m.HTML, banWabaID) {
			t.Errorf("want both a text and an HTML part naming WABA %s; text:\n%s\nhtml:\n%s", banWabaID, m.Text, m.HTML)
		}
		if len(m.To) != 1 || m.To[0] != "legal@example.com" {
			t.Errorf("envelope recipients %q, want legal@example.com", m.To)
		}
	})

	// Everything the other commands print, for the secret check below.
	var printed strings.Builder
	t.Run("notify-test reaches each peer", func(t *testing.T) {
		slack.Want(1, "a [TEST] post naming team-slack", func(m e2etest.SlackMessage) bool {
			return m.Channel == "C123" && strings.Contains(m.Rendered(), "[TEST]") && strings.Contains(m.Rendered(), "team-slack works")
		})
		mail.Want(1, "a [TEST] mail", func(m e2etest.Mail) bool { return strings.Contains(m.Subject, "[TEST]") })
		for _, sink := range []string{"team-slack", "oncall-pagerduty", "legal-email"} {
			res := r.Run(t, "notify-test", "--sink", sink)
			printed.WriteString(res.Output())
			if res.Code != 0 || !strings.Contains(res.Stdout, "sink "+sink+" answered:") {
				t.Errorf("notify-test --sink %s: exit %d\nstdout: %s\nstderr: %s", sink, res.Code, res.Stdout, res.Stderr)
			}
		}
		// notify-test has returned, so its requests have all been answered.
		slack.Check(t)
		mail.Check(t)
		// PagerDuty is not checked exactly: notify-test may follow its
		// trigger with a resolve.
		if n := countEvents(pd, func(e e2etest.PagerDutyEvent) bool {
			return e.Event.Action == "trigger" && strings.Contains(e.Summary(), "wabarouter test notification")
		}); n != 1 {
			t.Errorf("pagerduty got %d test triggers, want 1:\n%s", n, pd.Report())
		}
		if n := countEvents(pd, func(e e2etest.PagerDutyEvent) bool {
			return e.Event.Action == "resolve" && e.Event.DedupKey == "wabarouter-notify-test/oncall-pagerduty"
		}); n != 1 {
			t.Errorf("pagerduty got %d resolves of the test incident, want 1:\n%s", n, pd.Report())
		}
		if n, reasons := pd.Refusals(); n > 0 {
			t.Errorf("pagerduty refused %d events: %q", n, reasons)
		}
	})

	t.Run("notify-test explains a permanent error", func(t *testing.T) {
		res := r.Run(t, "notify-test", "--sink", "gone-slack")
		printed.WriteString(res.Output())
		if res.Code != 1 || !strings.Contains(res.Stderr, "channel_not_found") || !strings.Contains(res.Stderr, "permanent") {
			t.Errorf("exit %d, stderr %q; want exit 1 naming channel_not_found and saying retrying will not help", res.Code, res.Stderr)
		}
		res = r.Run(t, "notify-test", "--sink", "pagerduty")
		printed.WriteString(res.Output())
		if res.Code != 2 || !strings.Contains(res.Stderr, "defined sinks: team-slack, oncall-pagerduty, legal-email, gone-slack") {
			t.Errorf("unknown sink: exit %d, stderr %q; want a usage error listing the defined sinks", res.Code, res.Stderr)
		}
	})

	t.Run("check prints no secret", func(t *testing.T) {
		res := r.Run(t, "check")
		printed.WriteString(res.Output())
		if res.Code != 0 || !strings.Contains(res.Stdout, "OK") {
			t.Errorf("check: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})

	t.Run("no secret reaches the log or any output", func(t *testing.T) {
		logs := p.LogText() + "\n" + printed.String()
		for name, secret := range map[string]string{"slack token": slackToken, "routing key": pdRoutingKey,
			"smtp password": smtpPassword, "app secret": appSecret, "verify token": verifyToken} {
			if strings.Contains(logs, secret) {
				t.Errorf("the %s reached the log:\n%s", name, logs)
			}
		}
	})
}

func countEvents(pd *e2etest.PagerDutyFake, match func(e2etest.PagerDutyEvent) bool) int {
	n := 0
	for _, e := range pd.Received() {
		if match(e) {
			n++
		}
	}
	return n
}
