package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// incidentPeers are a Slack Web API, a PagerDuty and a mail server, and a
// router sending to them with rules written as a user writes them after
// reading the guide: trigger rules only, no keys, no resolve rules.
type incidentPeers struct {
	slack *e2etest.SlackFake
	pd    *e2etest.PagerDutyFake
	mail  *e2etest.SMTPServer
	p     *e2etest.Process
	r     *e2etest.Router
}

const incidentRules = `rules:
  - name: banned
    when: field == "account_update" && event == "DISABLED_UPDATE"
    to: [pager, chat, legal]
  - name: number-quality
    when: field == "phone_number_quality_update"
    to: [pager, chat]
`

func startIncidentPeers(t *testing.T) *incidentPeers {
	t.Helper()
	return startIncidentPeersWith(t, incidentRules, "")
}

// startIncidentPeersWith is startIncidentPeers with other rules and more
// top-level config (such as an accounts directory).
func startIncidentPeersWith(t *testing.T, rules, extra string) *incidentPeers {
	t.Helper()
	ip := &incidentPeers{
		slack: e2etest.ServeSlack(t, slackToken, nil),
		pd:    e2etest.ServePagerDuty(t, pdRoutingKey, nil),
		mail:  e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: smtpUser, Password: smtpPassword}),
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), rules)
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules: [rules.yaml]
sinks:
  - {name: chat, type: slack, token: "${E2E_SLACK_TOKEN}", channel: "#compliance", api_url: %s}
  - {name: pager, type: pagerduty, routing_key: "${E2E_PD_KEY}", events_url: %s}
  - name: legal
    type: email
    host: %s
    port: %d
    tls: none
    username: %s
    password: ${E2E_SMTP_PASSWORD}
    from: wabarouter@example.com
    to: [legal@example.com]
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), ip.slack.APIURL(), ip.pd.URL(), ip.mail.Host(), ip.mail.Port(), smtpUser) + extra
	ip.r = e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg, Env: []string{
		"E2E_SLACK_TOKEN=" + slackToken, "E2E_PD_KEY=" + pdRoutingKey, "E2E_SMTP_PASSWORD=" + smtpPassword}})
	ip.p = ip.r.Start(t)
	return ip
}

// post sends a webhook and waits until the router has sent all it will.
func (ip *incidentPeers) post(t *testing.T, body []byte) {
	t.Helper()
	if code, answer := ip.p.PostSigned(t, appSecret, body); code != http.StatusOK {
		t.Fatalf("post: %d %q", code, answer)
	}
	ip.p.WaitDrained(t)
}

func ban(at int64, state string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":%d,"changes":[{"field":"account_update",
"value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":%q,"waba_ban_date":1765202400}}}]}]}`, at, state)
}

// TestBanIncidentOnEverySink: a ban opens one incident, one page, one
// Slack root and one mail; the same ban again updates the Slack root and
// adds to its thread, opening nothing new; REINSTATE resolves it
// everywhere: PagerDuty under the trigger's key, the Slack root in place
// with a reply in its thread, the mail threaded under the first.
func TestBanIncidentOnEverySink(t *testing.T) {
	t.Parallel()
	ip := startIncidentPeers(t)

	ip.post(t, ban(1764597600, "DISABLE"))
	ip.post(t, ban(1764601200, "DISABLE")) // the same ban, reported again an hour later
	ip.post(t, ban(1764604800, "REINSTATE"))

	// PagerDuty: one trigger, then its resolve under the same key.
	events := ip.pd.Received()
	if len(events) != 2 || events[0].Event.Action != "trigger" || events[1].Event.Action != "resolve" ||
		events[0].Event.DedupKey == "" || events[1].Event.DedupKey != events[0].Event.DedupKey {
		t.Fatalf("PagerDuty got %d events, want a trigger then its resolve under one key:\n%s", len(events), ip.pd.Report())
	}

	// Slack: one root; the repeat and the resolve update it in place and
	// reply in its thread.
	var roots, replies []e2etest.SlackMessage
	for _, m := range ip.slack.Received() {
		if m.ThreadTS == "" {
			roots = append(roots, m)
		} else {
			replies = append(replies, m)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("Slack got %d root messages, want one:\n%s", len(roots), ip.slack.Report())
	}
	root := roots[0]
	if len(replies) != 2 {
		t.Errorf("Slack got %d thread replies, want two (the repeat and the resolve):\n%s", len(replies), ip.slack.Report())
	}
	for _, r := range replies {
		if r.ThreadTS != root.TS || r.ChannelID != root.ChannelID {
			t.Errorf("a reply in thread %s of %s, want under the root %s of %s", r.ThreadTS, r.ChannelID, root.TS, root.ChannelID)
		}
	}
	updates := ip.slack.Updates.Received()
	if len(updates) != 2 {
		t.Fatalf("Slack got %d updates of the root, want two:\n%s", len(updates), ip.slack.Updates.Report())
	}
	for _, u := range updates {
		if u.TS != root.TS || u.ChannelID != root.ChannelID {
			t.Errorf("an update of message %s in %s, want the root %s in %s", u.TS, u.ChannelID, root.TS, root.ChannelID)
		}
	}
	if last := updates[1].Rendered(); !strings.Contains(last, "esolved") {
		t.Errorf("the last update of the root does not say the incident resolved:\n%s", last)
	}
	if n, reasons := ip.slack.Refusals(); n > 0 {
		t.Errorf("Slack refused %d requests: %q", n, reasons)
	}

	// Mail: the ban, then its resolve threaded under it; the repeat sends
	// no mail.
	mails := ip.mail.Received()
	if len(mails) != 2 {
		t.Fatalf("the mail server got %d messages, want the ban and its resolve:\n%s", len(mails), ip.mail.Report())
	}
	first, resolve := mails[0], mails[1]
	id := first.Header.Get("Message-Id")
	if id == "" || first.Header.Get("In-Reply-To") != "" {
		t.Errorf("the first mail has Message-ID %q and In-Reply-To %q; want an id and no parent", id, first.Header.Get("In-Reply-To"))
	}
	if resolve.Header.Get("In-Reply-To") != id || !strings.Contains(resolve.Header.Get("References"), id) {
		t.Errorf("the resolve mail has In-Reply-To %q, References %q; want both to name %s",
			resolve.Header.Get("In-Reply-To"), resolve.Header.Get("References"), id)
	}
	if !strings.Contains(resolve.Subject, strings.TrimPrefix(first.Subject, "Re: ")) {
		t.Errorf("the resolve's subject %q is not the incident's %q", resolve.Subject, first.Subject)
	}
	if first.Header.Get("Importance") != resolve.Header.Get("Importance") {
		t.Errorf("the resolve's importance %q is not the incident's %q", resolve.Header.Get("Importance"), first.Header.Get("Importance"))
	}
}

func numbers(at int64, changes ...[2]string) []byte {
	var cs []string
	for _, c := range changes {
		cs = append(cs, fmt.Sprintf(`{"field":"phone_number_quality_update","value":{"display_phone_number":%q,"event":%q,"current_limit":"TIER_10K"}}`, c[0], c[1]))
	}
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":%d,"changes":[%s]}]}`, at, strings.Join(cs, ","))
}

// TestTwoNumbersTwoIncidents: two numbers flagged in one payload are two
// incidents with two PagerDuty keys; UNFLAGGED for one resolves that one
// alone, and DOWNGRADE on the other escalates it under its own key.
func TestTwoNumbersTwoIncidents(t *testing.T) {
	t.Parallel()
	ip := startIncidentPeers(t)
	ip.post(t, numbers(1764597600, [2]string{"16505551111", "FLAGGED"}, [2]string{"16505552222", "FLAGGED"}))
	ip.post(t, numbers(1764601200, [2]string{"16505551111", "UNFLAGGED"}))
	ip.post(t, numbers(1764604800, [2]string{"16505552222", "DOWNGRADE"}))
	// Per number, in order; the two numbers' pages may come either way round.
	perNumber := map[string][]e2etest.PagerDutyEvent{}
	for _, e := range ip.pd.Received() {
		for _, n := range []string{"16505551111", "16505552222"} {
			if strings.Contains(e.Event.DedupKey, n) {
				perNumber[n] = append(perNumber[n], e)
			}
		}
	}
	actions := func(es []e2etest.PagerDutyEvent) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Event.Action)
		}
		return fmt.Sprint(out)
	}
	one, two := perNumber["16505551111"], perNumber["16505552222"]
	if actions(one) != "[trigger resolve]" || actions(two) != "[trigger trigger]" || ip.pd.Len() != 4 {
		t.Fatalf("PagerDuty got %s for …1111 and %s for …2222, want [trigger resolve] and [trigger trigger]:\n%s",
			actions(one), actions(two), ip.pd.Report())
	}
	if one[0].Event.DedupKey == two[0].Event.DedupKey || one[1].Event.DedupKey != one[0].Event.DedupKey || two[1].Event.DedupKey != two[0].Event.DedupKey {
		t.Errorf("keys %q %q and %q %q: want one per number, each transition under its number's",
			one[0].Event.DedupKey, one[1].Event.DedupKey, two[0].Event.DedupKey, two[1].Event.DedupKey)
	}
	if two[1].Severity() == two[0].Severity() {
		t.Errorf("the escalation's severity %q is the opening's", two[1].Severity())
	}
	roots := 0
	for _, m := range ip.slack.Received() {
		if m.ThreadTS == "" {
			roots++
		}
	}
	if roots != 2 {
		t.Errorf("Slack got %d root messages, want one per number:\n%s", roots, ip.slack.Report())
	}
}
