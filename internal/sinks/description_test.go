package sinks

import (
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

func TestDescriptionCarriesRemediation(t *testing.T) {
	cases := []struct {
		name string
		ev   event.Event
		want string
	}{
		{"one remediation", event.Event{Restrictions: []event.Restriction{
			{Type: "RESTRICTED_DIRECT_SEND_UTILITY_TEMPLATES", Remediation: "Send only utility content with Direct Send."}}},
			"What Meta advises: Send only utility content with Direct Send."},
		{"only the restrictions that have one", event.Event{Restrictions: []event.Restriction{
			{Type: "RESTRICTED_BIZ_INITIATED_MESSAGING"},
			{Type: "RESTRICTED_UTILITY_TEMPLATES", Remediation: "  Review your templates.  "}}},
			"What Meta advises: Review your templates."},
		{"after the alert's description", event.Event{AlertDescription: "Limits cannot be increased for <BUSINESS_NAME>.",
			Restrictions: []event.Restriction{{Remediation: "Appeal in Business Support Home."}}},
			"Limits cannot be increased for <BUSINESS_NAME>.\nWhat Meta advises: Appeal in Business Support Home."},
		{"none", event.Event{Restrictions: []event.Restriction{{Type: "RESTRICTED_BIZ_INITIATED_MESSAGING"}}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Description(notification.Notification{Event: c.ev}); got != c.want {
				t.Errorf("Description = %q, want %q", got, c.want)
			}
		})
	}
}
