package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

const messageRules = `rules:
  - name: approvals
    when: field == "message_template_status_update" && event == "APPROVED"
    action: change
    to: [pager, chat, legal]
    stop: true
  - name: templates
    when: field == "message_template_status_update"
    to: [pager, chat, legal]
    runbook: 'https://wiki.example.com/whatsapp/templates/{{.event}}'
`

// TestMessagesNameTheAccountOnEverySink: with an accounts directory, a
// rejected template reaches Slack, PagerDuty and mail naming the account
// and linking to WhatsApp Manager and the rule's runbook; an approval,
// good news, reaches PagerDuty as a change event.
func TestMessagesNameTheAccountOnEverySink(t *testing.T) {
	t.Parallel()
	ip := startIncidentPeersWith(t, messageRules, "accounts:\n  - {waba_id: \"102290129340398\", name: Acme Retail EU, team: emea-oncall}\n")
	slackPeer, pdPeer, mailPeer, p := ip.slack, ip.pd, ip.mail, ip.p
	for _, fixture := range []string{"seed_template_rejected.json", "seed_template_approved.json"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", fixture))
		if err != nil {
			t.Fatal(err)
		}
		if code, answer := p.PostSigned(t, appSecret, body); code != 200 {
			t.Fatalf("post %s: %d %q", fixture, code, answer)
		}
	}
	p.WaitDrained(t)

	const manager = "https://business.facebook.com/wa/manage/message-templates/?waba_id=102290129340398"
	const runbook = "https://wiki.example.com/whatsapp/templates/REJECTED"
	// Each sink delivers on its own, so the two arrive in either order.
	events := pdPeer.Received()
	byAction := map[string]e2etest.PagerDutyEvent{}
	for _, ev := range events {
		byAction[ev.Event.Action] = ev
	}
	trigger, hasTrigger := byAction["trigger"]
	_, hasChange := byAction["change"]
	if len(events) != 2 || !hasTrigger || !hasChange {
		t.Fatalf("PagerDuty got %d events, want the rejection's trigger and the approval's change:\n%s", len(events), pdPeer.Report())
	}
	for _, ev := range events {
		if !strings.Contains(ev.Summary(), "Acme Retail EU") || !strings.Contains(string(ev.Body), manager) {
			t.Errorf("PagerDuty %s does not name the account or link to WhatsApp Manager: %s", ev.Event.Action, ev.Body)
		}
	}
	if !strings.Contains(string(trigger.Body), runbook) || !strings.Contains(string(trigger.Body), `"client_url"`) {
		t.Errorf("the trigger carries no runbook link or client_url: %s", trigger.Body)
	}

	mails := mailPeer.Received()
	if len(mails) != 2 {
		t.Fatalf("mail got %d messages, want 2:\n%s", len(mails), mailPeer.Report())
	}
	for _, m := range mails {
		for _, part := range []string{m.Text, m.HTML} {
			if !strings.Contains(part, "Acme Retail EU") || !strings.Contains(part, "WhatsApp Manager") {
				t.Errorf("mail %q does not name the account or link to WhatsApp Manager:\n%s", m.Subject, part)
			}
		}
		if m.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("mail %q has Auto-Submitted %q", m.Subject, m.Header.Get("Auto-Submitted"))
		}
	}
	rejections := 0
	for _, m := range mails {
		if strings.Contains(m.Subject, "rejected") {
			rejections++
			if !strings.Contains(m.Text, runbook) {
				t.Errorf("the rejection's mail has no runbook link:\n%s", m.Text)
			}
		}
	}
	if rejections != 1 {
		t.Errorf("%d mails are about the rejection, want 1:\n%s", rejections, mailPeer.Report())
	}

	msgs := slackPeer.Received()
	if len(msgs) != 2 {
		t.Fatalf("Slack got %d messages, want 2:\n%s", len(msgs), slackPeer.Report())
	}
	for _, m := range msgs {
		if got := m.Rendered(); !strings.Contains(got, "Acme Retail EU") || !strings.Contains(got, strings.ReplaceAll(manager, "&", "&amp;")) && !strings.Contains(got, manager) {
			t.Errorf("Slack message does not name the account or link to WhatsApp Manager:\n%s", got)
		}
	}
}
