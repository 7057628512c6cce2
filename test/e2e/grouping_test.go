package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// groupingRules group every paused template of an account: the wait is
// short so that the test does not sit through Alertmanager's 30 s.
const groupingRules = `rules:
  - name: templates-paused
    when: field == "message_template_status_update" && event == "PAUSED"
    to: [pager, chat, legal]
    group: {by: [waba_id, field], wait: 6s, max: 100}
`

func startGroupingPeers(t *testing.T) *incidentPeers {
	t.Helper()
	return startIncidentPeersWith(t, groupingRules, "")
}

// pausedTemplate is the name of the i-th template of the test.
func pausedTemplate(i int) string { return fmt.Sprintf("spring_sale_%02d", i) }

// pauses are the first-pause webhooks of templates from to to, one change
// each, in one entry, as Meta batches them.
func pauses(at int64, from, to int) []byte {
	var cs []string
	for i := from; i <= to; i++ {
		cs = append(cs, fmt.Sprintf(`{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":%d,
"message_template_name":%q,"message_template_language":"en_US","reason":"NONE","other_info":{"title":"FIRST_PAUSE",
"description":"Your WhatsApp message template has been paused for 3 hours because it had issues."}}}`, 7000+i, pausedTemplate(i)))
	}
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":%d,"changes":[%s]}]}`, at, strings.Join(cs, ","))
}

// names counts the test's template names in text.
func names(text string, upTo int) (missing []string) {
	for i := 1; i <= upTo; i++ {
		if !strings.Contains(text, pausedTemplate(i)) {
			missing = append(missing, pausedTemplate(i))
		}
	}
	return missing
}

// TestFortyPausesOneMessage: 40 templates paused within the group's wait
// reach Slack as one message naming all 40, PagerDuty as one alert with
// the 40 in its details and the mail server as one mail listing them; a
// 41st pause after that updates the Slack message in place, and pages no
// one again.
func TestFortyPausesOneMessage(t *testing.T) {
	t.Parallel()
	ip := startGroupingPeers(t)
	start := time.Now()
	for b := range 4 {
		if code, answer := ip.p.PostSigned(t, appSecret, pauses(1764597600+int64(b), b*10+1, b*10+10)); code != http.StatusOK {
			t.Fatalf("post: %d %q", code, answer)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Skipf("posting 40 pauses took %v, longer than the group's wait allows this test to check", took)
	}
	ip.slack.AwaitFunc(t, "one message about the group", func(ms []e2etest.SlackMessage) bool { return len(ms) > 0 })
	ip.pd.AwaitCount(t, 1)
	ip.mail.AwaitCount(t, 1)
	if since := time.Since(start); since < 5*time.Second {
		t.Errorf("the group went out %v after its first pause, before its 6s wait", since)
	}
	ip.p.WaitDrained(t)

	roots := ip.slack.Received()
	if len(roots) != 1 || roots[0].ThreadTS != "" {
		t.Fatalf("Slack got %d messages, want one root:\n%s", len(roots), ip.slack.Report())
	}
	root := roots[0]
	if missing := names(root.Rendered(), 40); len(missing) > 0 {
		t.Errorf("the Slack message does not name %d of the 40 templates: %v\n%s", len(missing), missing, root.Rendered())
	}
	events := ip.pd.Received()
	if len(events) != 1 || events[0].Event.Action != "trigger" {
		t.Fatalf("PagerDuty got %d events, want one trigger:\n%s", len(events), ip.pd.Report())
	}
	if missing := names(string(events[0].Body), 40); len(missing) > 0 || !strings.Contains(string(events[0].Body), `"items":[`) {
		t.Errorf("the PagerDuty alert's details do not list %v:\n%s", missing, events[0].Body)
	}
	mails := ip.mail.Received()
	if len(mails) != 1 {
		t.Fatalf("the mail server got %d mails, want one:\n%s", len(mails), ip.mail.Report())
	}
	if missing := names(mails[0].Text, 40); len(missing) > 0 {
		t.Errorf("the mail does not list %v:\n%s", missing, mails[0].Text)
	}

	// One more pause: the root is updated in place to name all 41, with
	// a reply in its thread; PagerDuty and the mail hear nothing of it.
	if code, answer := ip.p.PostSigned(t, appSecret, pauses(1764597700, 41, 41)); code != http.StatusOK {
		t.Fatalf("post: %d %q", code, answer)
	}
	ip.slack.Updates.AwaitCount(t, 1)
	ip.p.WaitDrained(t)
	updates := ip.slack.Updates.Received()
	if len(updates) != 1 || updates[0].TS != root.TS || updates[0].ChannelID != root.ChannelID {
		t.Fatalf("Slack got %d updates, want one of the root %s:\n%s", len(updates), root.TS, ip.slack.Updates.Report())
	}
	if missing := names(updates[0].Rendered(), 41); len(missing) > 0 {
		t.Errorf("the updated root does not name %v:\n%s", missing, updates[0].Rendered())
	}
	msgs := ip.slack.Received()
	if len(msgs) != 2 || msgs[1].ThreadTS != root.TS {
		t.Errorf("Slack got %d messages, want the root and one reply in its thread:\n%s", len(msgs), ip.slack.Report())
	}
	if ip.pd.Len() != 1 || ip.mail.Len() != 1 {
		t.Errorf("PagerDuty got %d events and the mail server %d mails, want one each:\n%s\n%s", ip.pd.Len(), ip.mail.Len(), ip.pd.Report(), ip.mail.Report())
	}
	for _, c := range []interface{ Refusals() (int, []string) }{ip.slack, ip.slack.Updates, ip.pd} {
		if n, reasons := c.Refusals(); n > 0 {
			t.Errorf("a peer refused %d requests: %q", n, reasons)
		}
	}
}
