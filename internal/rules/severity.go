package rules

import (
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// DefaultSeverity is the severity of an event for a rule that sets none.
// overrides are keyed "field/EVENT" first, then "field".
func DefaultSeverity(ev event.Event, overrides map[string]notification.Severity) notification.Severity {
	if s, ok := overrides[ev.Field+"/"+ev.Event]; ok {
		return s
	}
	if s, ok := overrides[ev.Field]; ok {
		return s
	}
	switch ev.Field {
	case "account_update":
		return accountUpdateSeverity(ev)
	case "message_template_status_update":
		return byEvent(ev.Event, map[string]notification.Severity{
			"DISABLED": notification.Error, "PAUSED": notification.Error, "REJECTED": notification.Error,
			"FLAGGED": notification.Warning,
		})
	case "message_template_quality_update":
		return byEvent(ev.Event, map[string]notification.Severity{
			"RED": notification.Error, "YELLOW": notification.Warning,
		})
	case "phone_number_quality_update":
		return byEvent(ev.Event, map[string]notification.Severity{
			"DOWNGRADE": notification.Error, "FLAGGED": notification.Warning,
		})
	case "account_alerts":
		return byEvent(ev.AlertSeverity, map[string]notification.Severity{
			"CRITICAL": notification.Critical, "WARNING": notification.Warning,
		})
	case "flows":
		return notification.Error
	case "messages":
		if ev.Status == "failed" {
			return notification.Warning
		}
	}
	return notification.Info
}

// byEvent looks key up, with Info for anything not listed (APPROVED,
// GREEN, UPGRADE and the like are good news).
func byEvent(key string, m map[string]notification.Severity) notification.Severity {
	return m[key]
}

func accountUpdateSeverity(ev event.Event) notification.Severity {
	switch ev.Event {
	case "ACCOUNT_VIOLATION":
		return notification.Error
	case "ACCOUNT_RESTRICTION":
		return notification.Critical
	case "DISABLED_UPDATE":
		switch ev.BanState {
		case "DISABLE", "SCHEDULE_FOR_DISABLE":
			return notification.Critical
		}
	}
	return notification.Info
}
