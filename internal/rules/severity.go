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
		// LOCKED: the template can no longer be edited; LIMIT_EXCEEDED:
		// the account can add no more templates. Both need a person, not
		// a page.
		return byEvent(ev.Event, map[string]notification.Severity{
			"DISABLED": notification.Error, "PAUSED": notification.Error, "REJECTED": notification.Error,
			"FLAGGED": notification.Warning, "LOCKED": notification.Warning, "LIMIT_EXCEEDED": notification.Warning,
		})
	case "template_correct_category_detection":
		// Content of another category sent as utility can restrict the
		// account from sending utility templates directly.
		return notification.Warning
	case "partner_solutions":
		return byEvent(ev.SolutionStatus, map[string]notification.Severity{
			"REJECTED": notification.Warning, "PENDING_DEACTIVATION": notification.Warning, "DEACTIVATED": notification.Warning,
		})
	case "payment_configuration_update":
		// A configuration that needs connecting takes no payments.
		return byEvent(ev.Event, map[string]notification.Severity{
			"NEEDS_CONNECTING": notification.Error, "NEEDS_TESTING": notification.Warning,
		})
	case "calls":
		if ev.Call.Status == "FAILED" || ev.Event == "CALLS_ERROR" {
			return notification.Warning
		}
	case "message_template_quality_update":
		return byEvent(ev.Event, map[string]notification.Severity{
			"RED": notification.Error, "YELLOW": notification.Warning,
		})
	case "phone_number_quality_update":
		return byEvent(ev.Event, map[string]notification.Severity{
			"DOWNGRADE": notification.Error, "FLAGGED": notification.Warning,
		})
	case "account_review_update":
		// A rejected account cannot send messages until an appeal succeeds.
		decision := ev.Decision
		if decision == "" {
			decision = ev.Event
		}
		return byEvent(decision, map[string]notification.Severity{
			"REJECTED": notification.Error, "DEFERRED": notification.Warning,
		})
	case "account_alerts":
		return byEvent(ev.AlertSeverity, map[string]notification.Severity{
			"CRITICAL": notification.Critical, "WARNING": notification.Warning,
		})
	case "flows":
		return flowsSeverity(ev)
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
	case "ACCOUNT_DELETED", "ACCOUNT_OFFBOARDED", "PARTNER_REMOVED":
		// The business lost the account, or this app lost access to it.
		return notification.Error
	}
	return notification.Info
}

// flowsSeverity follows Meta's flows webhook (WABA_WEBHOOKS.md §5.12). An
// endpoint or client alert is an error while raised (alert_state
// ACTIVATED, or no state at all) and news once it is not: Meta does not
// document the recovery state, so any other state counts as recovered.
// Enums are open, so a status or event this router does not know is a
// warning: worth a look, not a page.
func flowsSeverity(ev event.Event) notification.Severity {
	switch ev.Event {
	case "ENDPOINT_ERROR_RATE", "ENDPOINT_LATENCY", "ENDPOINT_AVAILABILITY", "CLIENT_ERROR_RATE":
		if ev.AlertState == "" || ev.AlertState == "ACTIVATED" {
			return notification.Error
		}
		return notification.Info
	case "FLOW_STATUS_CHANGE":
		switch ev.NewStatus {
		case "BLOCKED", "THROTTLED":
			return notification.Error
		case "DEPRECATED":
			return notification.Warning
		case "PUBLISHED", "DRAFT":
			return notification.Info
		}
		return notification.Warning
	}
	return notification.Warning // FLOW_VERSION_EXPIRY_WARNING and events not known yet
}
