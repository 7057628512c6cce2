package registry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
	"github.com/wabarouter/wabarouter/internal/sinks/slack"
)

// TestPreviewOfIsWhatTheSinksSend: for every sample notification the
// preview is the sinks' own rendering: Slack's payload, the e-mail's
// parts, and a PagerDuty event of the right kind.
func TestPreviewOfIsWhatTheSinksSend(t *testing.T) {
	for _, fx := range messagetest.Fixtures(t) {
		n := fx.Notification
		p, err := PreviewOf(n)
		if err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		payload, _ := slack.Payload(n)
		html, _ := email.HTMLBody(n)
		if string(p.SlackPayload) != string(payload) || p.EmailHTML != html || p.EmailSubject != email.Subject(n) {
			t.Errorf("%s: the preview differs from what the sinks send", fx.Name)
		}
		var ev map[string]any
		if err := json.Unmarshal(p.PagerDutyEvent, &ev); err != nil {
			t.Fatalf("%s: the PagerDuty event is not JSON: %v", fx.Name, err)
		}
		_, hasKey := ev["dedup_key"]
		if (n.Action == notification.Change) == hasKey || !strings.Contains(string(p.PagerDutyEvent), "ROUTING_KEY") {
			t.Errorf("%s (%s): the PagerDuty event is\n%s", fx.Name, n.Action, p.PagerDutyEvent)
		}
	}
}
