package sinks

import (
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

func TestWhoManagerURLAndDescription(t *testing.T) {
	acme := event.Account{Name: "Acme Retail EU", PhoneLabel: "support line"}
	for _, tc := range []struct {
		name                    string
		ev                      event.Event
		who, manager, described string
	}{
		{"listed account and number", event.Event{WabaID: "102290129340398", Field: "phone_number_quality_update", PhoneNumber: "16505551111", Account: acme},
			"Acme Retail EU — +1 650-555-1111 (support line)", "https://business.facebook.com/wa/manage/phone-numbers/?waba_id=102290129340398", ""},
		{"unlisted account", event.Event{WabaID: "999", Field: "account_update", Event: "ACCOUNT_RESTRICTION", PhoneNumber: "+447700900123"},
			"WABA 999 — +447700900123", "https://business.facebook.com/wa/manage/home/?waba_id=999", ""},
		{"no waba id", event.Event{Field: "account_alerts", AlertDescription: "Contact support to restore access."},
			"WABA (id not sent)", "", "Contact support to restore access."},
		{"template with other_info", event.Event{WabaID: "1", Field: "message_template_status_update", TemplateName: "t",
			OtherInfo: event.OtherInfo{Title: "FIRST_PAUSE", Description: "Your template was paused for 3 hours."}},
			"WABA 1", "https://business.facebook.com/wa/manage/message-templates/?waba_id=1", "First pause: Your template was paused for 3 hours."},
		{"failed message", event.Event{WabaID: "1", Field: "messages", Errors: []event.MessageError{{Code: 131026, Title: "Message undeliverable.", Details: "The recipient is not on WhatsApp."}}},
			"WABA 1", "https://business.facebook.com/wa/manage/phone-numbers/?waba_id=1", "Message undeliverable. The recipient is not on WhatsApp."},
		{"flow", event.Event{WabaID: "1", Field: "flows", FlowID: "f"}, "WABA 1", "https://business.facebook.com/wa/manage/flows/?waba_id=1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := notification.Notification{Event: tc.ev, Runbook: "https://wiki.example.com/rb"}
			if got := Who(n); got != tc.who {
				t.Errorf("Who = %q, want %q", got, tc.who)
			}
			if got := ManagerURL(n); got != tc.manager {
				t.Errorf("ManagerURL = %q, want %q", got, tc.manager)
			}
			if got := Description(n); got != tc.described {
				t.Errorf("Description = %q, want %q", got, tc.described)
			}
			links := Links(n)
			if last := links[len(links)-1]; last.URL != n.Runbook {
				t.Errorf("Links end with %+v, want the runbook", last)
			}
			if (tc.manager != "") != (len(links) == 2) {
				t.Errorf("Links = %+v", links)
			}
		})
	}
}
