package sinkstest

import (
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// AssertNoSecret fails t if secret appears in any of texts. An empty
// secret is a test bug and fails too.
func AssertNoSecret(t testing.TB, secret string, texts ...string) {
	t.Helper()
	if secret == "" {
		t.Fatal("AssertNoSecret: empty secret")
	}
	for i, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("text %d leaks a secret: %q", i, s)
		}
	}
}

// Time is the fixed event time of the sample notifications.
var Time = time.Date(2026, 11, 23, 14, 2, 3, 0, time.UTC)

// Restriction is a critical notification about a phone number restriction.
func Restriction() notification.Notification {
	return notification.Notification{
		ID:        "n-restriction-1",
		Sink:      "test",
		Rule:      "restrictions",
		Severity:  notification.Critical,
		Action:    notification.Trigger,
		Title:     "WABA 104996122399160 restricted: RESTRICTED_BIZ_INITIATED_MESSAGING",
		Body:      "Business-initiated messaging is restricted until 2026-11-30 14:02 UTC.",
		DedupKey:  "restrictions/104996122399160/RESTRICTED_BIZ_INITIATED_MESSAGING",
		CreatedAt: Time.Add(time.Second),
		Event: event.Event{
			Object:      event.ObjectWABA,
			WabaID:      "104996122399160",
			Time:        Time,
			Field:       "account_update",
			Event:       "ACCOUNT_RESTRICTION",
			PhoneNumber: "16505551234",
			Restrictions: []event.Restriction{{
				Type:       "RESTRICTED_BIZ_INITIATED_MESSAGING",
				Expiration: time.Date(2026, 11, 30, 14, 2, 3, 0, time.UTC),
			}},
			Value: map[string]any{"event": "ACCOUNT_RESTRICTION"},
		},
	}
}

// Ban is an error notification about a disabled account.
func Ban() notification.Notification {
	return notification.Notification{
		ID:        "n-ban-1",
		Sink:      "test",
		Rule:      "bans",
		Severity:  notification.Error,
		Action:    notification.Trigger,
		Title:     "WABA 104996122399160 banned <DISABLE>",
		Body:      "The account is scheduled for disable & review.",
		DedupKey:  "bans/104996122399160",
		CreatedAt: Time,
		Event: event.Event{
			Object:   event.ObjectWABA,
			WabaID:   "104996122399160",
			Time:     Time,
			Field:    "account_update",
			Event:    "DISABLED_UPDATE",
			BanState: "DISABLE",
			BanDate:  time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
			Value:    map[string]any{"event": "DISABLED_UPDATE"},
		},
	}
}

// TemplatePaused is a warning about a paused template.
func TemplatePaused() notification.Notification {
	return notification.Notification{
		ID:              "n-template-1",
		Sink:            "test",
		Rule:            "templates",
		Severity:        notification.Warning,
		Action:          notification.Trigger,
		Title:           "Template order_update (en_US) PAUSED",
		Body:            "Paused for low quality.",
		DedupKey:        "templates/104996122399160/order_update",
		Suppressed:      3,
		SuppressedSince: Time.Add(-time.Hour),
		CreatedAt:       Time,
		Event: event.Event{
			Object:           event.ObjectWABA,
			WabaID:           "104996122399160",
			Time:             Time,
			Field:            "message_template_status_update",
			Event:            "PAUSED",
			TemplateID:       "8888",
			TemplateName:     "order_update",
			TemplateLanguage: "en_US",
			Reason:           "LOW_QUALITY",
			Value:            map[string]any{"event": "PAUSED"},
		},
	}
}

// QualityRed is an error about a phone number whose quality went RED.
func QualityRed() notification.Notification {
	return notification.Notification{
		ID:        "n-quality-1",
		Sink:      "test",
		Rule:      "quality",
		Severity:  notification.Error,
		Action:    notification.Trigger,
		Title:     "Quality of +1 650-555-1234 is RED",
		Body:      "Quality went from YELLOW to RED.",
		DedupKey:  "quality/16505551234",
		CreatedAt: Time,
		Event: event.Event{
			Object:               event.ObjectWABA,
			WabaID:               "104996122399160",
			Time:                 Time,
			Field:                "phone_number_quality_update",
			Event:                "DOWNGRADE",
			PhoneNumber:          "16505551234",
			PreviousQualityScore: "YELLOW",
			NewQualityScore:      "RED",
			CurrentLimit:         "TIER_1K",
			Value:                map[string]any{"event": "DOWNGRADE"},
		},
	}
}

// AccountAlert is an informational account alert, resolved.
func AccountAlert() notification.Notification {
	return notification.Notification{
		ID:        "n-alert-1",
		Sink:      "test",
		Rule:      "alerts",
		Severity:  notification.Info,
		Action:    notification.Resolve,
		Title:     "Account alert OBA_APPROVED",
		Body:      "Official business account approved.",
		DedupKey:  "alerts/104996122399160/OBA_APPROVED",
		CreatedAt: Time,
		Event: event.Event{
			Object:        event.ObjectWABA,
			WabaID:        "104996122399160",
			Time:          Time,
			Field:         "account_alerts",
			Event:         "OBA_APPROVED",
			AlertType:     "OBA_APPROVED",
			AlertSeverity: "INFORMATIONAL",
			AlertStatus:   "NONE",
			Value:         map[string]any{"alert_info": map[string]any{"alert_type": "OBA_APPROVED"}},
		},
	}
}

// All returns every sample with a short name, for golden tests.
func All() map[string]notification.Notification {
	return map[string]notification.Notification{
		"restriction":     Restriction(),
		"ban":             Ban(),
		"template_paused": TemplatePaused(),
		"quality_red":     QualityRed(),
		"account_alert":   AccountAlert(),
	}
}
