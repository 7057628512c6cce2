package main

import (
	"github.com/wabarouter/wabarouter/internal/notification"
	slacksink "github.com/wabarouter/wabarouter/internal/sinks/slack"
)

// slackPayload is the chat.postMessage JSON the Slack sink posts first
// for n, and that a bot's root message is updated to: the message a
// channel shows.
func slackPayload(n notification.Notification) ([]byte, error) {
	return slacksink.Payload(n)
}
