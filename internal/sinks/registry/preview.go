package registry

import (
	"encoding/json"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
	"github.com/wabarouter/wabarouter/internal/sinks/pagerduty"
	"github.com/wabarouter/wabarouter/internal/sinks/slack"
)

// Preview is one notification as the Slack, PagerDuty and e-mail sinks
// would send it, made by the sinks' own renderers (the console's
// playground shows it), so that a preview cannot differ from a send.
type Preview struct {
	// SlackPayload is the chat.postMessage JSON of the incident's first
	// message.
	SlackPayload []byte
	// PagerDutyEvent is the Events API v2 event (a change event for a
	// change), with the routing key written ROUTING_KEY.
	PagerDutyEvent []byte
	EmailSubject   string
	EmailHTML      string
	EmailText      string
}

// PreviewOf renders n for each of the three sinks.
func PreviewOf(n notification.Notification) (Preview, error) {
	var p Preview
	var err error
	if p.SlackPayload, err = slack.Payload(n); err != nil {
		return p, fmt.Errorf("the Slack message of %s: %w", n.ID, err)
	}
	var ev any = pagerduty.Event("ROUTING_KEY", n)
	if n.Action == notification.Change {
		ev = pagerduty.ChangeEvent("ROUTING_KEY", n)
	}
	if p.PagerDutyEvent, err = json.MarshalIndent(ev, "", "  "); err != nil {
		return p, fmt.Errorf("the PagerDuty event of %s: %w", n.ID, err)
	}
	p.EmailSubject = email.Subject(n)
	if p.EmailHTML, err = email.HTMLBody(n); err != nil {
		return p, err
	}
	if p.EmailText, err = email.TextBody(n); err != nil {
		return p, err
	}
	return p, nil
}
