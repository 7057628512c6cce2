package messagetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// AssertMessageJSON fails t unless body, the JSON a webhook or log sink
// wrote for n, carries what a person needs under "message": the account
// as the directory names it, the WhatsApp Manager link, Meta's whole
// description and the severity in words; and stays within the
// notification's size limit.
func AssertMessageJSON(t testing.TB, name string, n notification.Notification, body []byte) {
	t.Helper()
	if len(body) > sinks.MaxNotificationJSON {
		t.Errorf("%s: %d bytes, above the limit of %d", name, len(body), sinks.MaxNotificationJSON)
	}
	var got struct {
		ID      string        `json:"id"`
		Message sinks.Message `json:"message"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m := got.Message
	if got.ID != n.ID {
		t.Errorf("%s: id %q, want %q", name, got.ID, n.ID)
	}
	if acc := n.Event.Account.Name; acc != "" && !strings.Contains(m.Who, acc) {
		t.Errorf("%s: message.who %q does not name the account %q", name, m.Who, acc)
	}
	if n.Event.WabaID != "" && (m.ManagerURL == "" || m.ManagerURL != sinks.ManagerURL(n)) {
		t.Errorf("%s: message.manager_url %q, want %q", name, m.ManagerURL, sinks.ManagerURL(n))
	}
	if d := sinks.Description(n); d != "" && m.Description != d {
		t.Errorf("%s: message.description %q, want Meta's whole %q", name, m.Description, d)
	}
	if m.Severity != n.Severity.Word() || m.Severity == "" {
		t.Errorf("%s: message.severity %q, want %q", name, m.Severity, n.Severity.Word())
	}
}
