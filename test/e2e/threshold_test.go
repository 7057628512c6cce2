package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

const thresholdRules = `rules:
  - name: failed-messages
    when: field == "messages" && status == "failed"
    title: 'Failed messages from {{phone .phone_number}}'
    to: [pager, chat]
    threshold: {count: 20, within: 10m, by: [phone_number_id]}
`

// failedMessage is one failed message of the sending number with id
// numberID, as Meta sends its status; seq makes it a message of its own.
func failedMessage(numberID, display string, seq int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
"messaging_product":"whatsapp","metadata":{"display_phone_number":%q,"phone_number_id":%q},
"statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0Mzk.%s.%d","status":"failed","timestamp":"%d","recipient_id":"16315551234",
"errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.",
"message":"This message was not delivered to maintain healthy ecosystem engagement."}]}]}}]}]}`,
		display, numberID, numberID, seq, 1764597660+seq)
}

// TestThresholdFiresOnceFor25FailedMessages: with a rule that fires on 20
// failed messages within 10 minutes per sending number, 25 failures of
// one number page once and post one Slack message (the 5 after the 20th
// update it), while 5 failures of another number reach no sink and why
// says how far their count is. The router is restarted after the 15th
// failure: the count is stored, and the 20th still fires.
func TestThresholdFiresOnceFor25FailedMessages(t *testing.T) {
	t.Parallel()
	slackFake := e2etest.ServeSlack(t, slackToken, nil)
	pdFake := e2etest.ServePagerDuty(t, pdRoutingKey, nil)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), thresholdRules)
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules: [rules.yaml]
sinks:
  - {name: chat, type: slack, token: "${E2E_SLACK_TOKEN}", channel: "#deliveries", api_url: %s}
  - {name: pager, type: pagerduty, routing_key: "${E2E_PD_KEY}", events_url: %s}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), slackFake.APIURL(), pdFake.URL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg, Env: []string{
		"E2E_SLACK_TOKEN=" + slackToken, "E2E_PD_KEY=" + pdRoutingKey}})
	p := r.Start(t)
	post := func(body []byte) {
		t.Helper()
		if code, answer := p.PostSigned(t, appSecret, body); code != http.StatusOK {
			t.Fatalf("post: %d %q", code, answer)
		}
	}

	const busy, quiet = "106540352242922", "106540352249999"
	for i := range 15 {
		post(failedMessage(busy, "16505551111", i))
	}
	for i := range 5 {
		post(failedMessage(quiet, "16505552222", i))
	}
	p.WaitDrained(t)
	if pdFake.Len() != 0 || slackFake.Len() != 0 {
		t.Fatalf("15 and 5 failures reached a sink:\n%s\n%s", pdFake.Report(), slackFake.Report())
	}
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	p = r.Start(t)

	pdFake.Want(1, "one trigger for the busy number", func(e e2etest.PagerDutyEvent) bool {
		return e.Event.Action == "trigger" && strings.HasSuffix(e.Event.DedupKey, "phone_number_id="+busy)
	})
	for i := 15; i < 25; i++ {
		post(failedMessage(busy, "16505551111", i))
	}
	pdFake.Await(t)
	p.WaitDrained(t)
	pdFake.Check(t)
	if n := len(pdFake.Received()); n != 1 {
		t.Fatalf("PagerDuty got %d events, want the one trigger:\n%s", n, pdFake.Report())
	}
	if got, want := pdFake.Received()[0].Summary(), "Failed messages from +1 650-555-1111"; !strings.Contains(got, want) {
		t.Errorf("the page says %q, want it to name %q", got, want)
	}
	roots := map[string]bool{}
	for _, m := range slackFake.Received() {
		if m.ThreadTS == "" {
			roots[m.TS] = true
		}
	}
	if len(roots) != 1 {
		t.Fatalf("Slack got %d messages in the channel, want one for the busy number:\n%s", len(roots), slackFake.Report())
	}
	for _, m := range slackFake.Received() {
		if strings.Contains(m.Rendered(), "555-2222") {
			t.Errorf("Slack heard of the quiet number: %s", m)
		}
	}

	incs := r.Run(t, "incidents", "--format", "json")
	if strings.Count(incs.Stdout, `"rule":"failed-messages"`) != 1 || !strings.Contains(incs.Stdout, "phone_number_id="+busy) {
		t.Errorf("incidents: want one, of the busy number:\n%s", incs.Stdout)
	}
	why := r.Run(t, "why", "--waba", "102290129340398", "--format", "json")
	if want := "threshold: 5 of 20 within 10m for phone_number_id=" + quiet; !strings.Contains(why.Stdout, want) {
		t.Errorf("why does not say %q:\n%s", want, why.Stdout)
	}
	if want := "threshold: 19 of 20 within 10m for phone_number_id=" + busy; !strings.Contains(why.Stdout, want) {
		t.Errorf("why does not say %q (the count went on across the restart):\n%s", want, why.Stdout)
	}
}
