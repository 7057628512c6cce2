package main

import (
	"encoding/json"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/notification"
	slacksink "github.com/wabarouter/wabarouter/internal/sinks/slack"
)

// slackPayload is the chat.postMessage JSON the Slack sink posts first
// for n, as a bot's root message and an incoming webhook's message are
// built today: the title as text, and the coloured attachment holding
// the blocks. It is the one place to switch to slack.Payload once the
// sink exports it.
func slackPayload(n notification.Notification) ([]byte, error) {
	att := slacksink.Attachment(n)
	b, err := json.Marshal(struct {
		Text        string             `json:"text"`
		Attachments []slack.Attachment `json:"attachments"`
	}{att.Fallback, []slack.Attachment{att}})
	if err != nil {
		return nil, fmt.Errorf("encode the Slack message of notification %s: %w", n.ID, err)
	}
	return b, nil
}
