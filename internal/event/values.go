package event

import (
	"slices"
	"strings"
)

// Case is the letter case every value of a field has.
type Case int

// The cases of a field's values.
const (
	// Upper is how Meta writes its enums: ACCOUNT_RESTRICTION, GREEN.
	Upper Case = iota
	// Lower is how the parser writes status (Meta writes it so too) and
	// how Meta writes webhook fields and message types.
	Lower
)

// Values is what one text field of an event takes: the values Meta
// documents, and those the parser itself names, in the order the rules
// guide lists them. Meta's enums are open, so an event may carry a value
// not listed; none carries a value of the other case, because the parser
// writes status in lower case and passes every other value on as Meta
// sends it.
type Values struct {
	// Field is the name in rules and in parse output; the items of a
	// list are named list[].name, and types holds restriction types.
	Field string
	Case  Case
	Known []string
}

// restrictionTypes are Meta's restriction types, its legacy spellings
// last.
var restrictionTypes = []string{
	"RESTRICTED_ADD_PHONE_NUMBER_ACTION", "RESTRICTED_BIZ_INITIATED_MESSAGING",
	"RESTRICTED_CUSTOMER_INITIATED_MESSAGING", "RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING",
	"RESTRICTED_BUSINESS_INITIATED_CALLING", "RESTRICTED_USER_INITIATED_CALLING",
	"RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN", "RESTRICTED_DIRECT_SEND_UTILITY_TEMPLATES",
	"RESTRICTED_UTILITY_TEMPLATES", "RESTRICTION_ON_ADD_PHONE_NUMBER_ACTION", "RESTRICTION_ADD_PHONE_NUMBER_ACTION",
}

var (
	qualityScores = []string{"GREEN", "YELLOW", "RED", "UNKNOWN"}
	categories    = []string{"MARKETING", "UTILITY", "AUTHENTICATION"}
	flowStatuses  = []string{"DRAFT", "PUBLISHED", "THROTTLED", "BLOCKED", "DEPRECATED"}
	decisions     = []string{"APPROVED", "REJECTED", "PENDING", "DEFERRED"}
	// messageStatus is what splitMessages writes, in lower case.
	messageStatus = []string{"sent", "delivered", "read", "failed", "deleted"}
)

// undocumentedFields are the webhook fields Meta documents that the parser has
// no filler for: their events are routed with their raw value.
var undocumentedFields = []string{
	"automatic_events", "history", "security", "smb_app_state_sync", "smb_message_echoes",
	"business_username_updates", "group_lifecycle_update", "group_participants_update",
	"group_settings_update", "group_status_update", "messaging_handovers", "standby", "tracking_events",
	"campaign_status_update",
}

// fieldValues is the table FieldValues returns; docs/rules.md shows it in
// the Values column of its field table, and a test keeps the two, and the
// parser's output for the fixtures, in step.
var fieldValues = []Values{
	{"field", Lower, nil}, // filled in by FieldValues: KnownFields, then undocumentedFields
	{"violation_type", Upper, []string{"ADULT", "ALCOHOL", "SCAM"}},
	{"types", Upper, restrictionTypes},
	{"restrictions[].type", Upper, restrictionTypes},
	{"ban_state", Upper, []string{"DISABLE", "SCHEDULE_FOR_DISABLE", "REINSTATE"}},
	{"decision", Upper, decisions},
	{"reason", Upper, []string{"ABUSIVE_CONTENT", "CATEGORY_NOT_AVAILABLE", "INCORRECT_CATEGORY", "INVALID_FORMAT",
		"NONE", "PROMOTIONAL", "SCAM", "TAG_CONTENT_MISMATCH"}},
	{"previous_category", Upper, categories},
	{"new_category", Upper, categories},
	{"other_info.title", Upper, []string{"FIRST_PAUSE", "SECOND_PAUSE", "RATE_LIMITING_PAUSE", "UNPAUSE", "DISABLED"}},
	{"previous_quality_score", Upper, qualityScores},
	{"new_quality_score", Upper, qualityScores},
	{"current_limit", Upper, []string{"TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K",
		"TIER_UNLIMITED", "TIER_NOT_SET"}},
	{"max_daily_conversations_per_business", Upper, []string{"TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"}},
	{"disconnection_info.reason", Upper, []string{"ACCOUNT_DISCONNECTED", "BUSINESS_DOWNGRADE", "CHANGE_NUMBER",
		"COMPANION_INACTIVITY", "PRIMARY_INACTIVITY", "USER_RE_REGISTERED"}},
	{"disconnection_info.initiated_by", Upper, []string{"SYSTEM", "USER"}},
	{"volume_tier_info.pricing_category", Upper, categories},
	{"correct_category", Upper, categories},
	{"solution_status", Upper, []string{"ACTIVE", "DEACTIVATED", "DRAFT", "INITIATED", "PENDING_DEACTIVATION", "REJECTED"}},
	{"preference.category", Lower, []string{"marketing_messages"}},
	{"preference.value", Lower, []string{"stop", "resume"}},
	{"call.direction", Upper, []string{"BUSINESS_INITIATED", "USER_INITIATED"}},
	{"call.status", Upper, []string{"COMPLETED", "FAILED", "RINGING", "ACCEPTED", "REJECTED"}},
	{"rejection_reason", Upper, []string{"NAME_EMPLOYEE_ISSUE", "NAME_ENDCLIENT_NOTRELATED", "NAME_FORMAT_UNACCEPTABLE",
		"NAME_INDIVIDUAL_ISSUE", "NAME_NOT_CONSISTENT", "UNKNOWN"}},
	{"alert_type", Upper, []string{"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED", "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED",
		"INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO", "OBA_APPROVED", "OBA_REJECTED", "OBA_APPEAL_REJECTED",
		"PROFILE_PICTURE_LOST"}},
	{"alert_severity", Upper, []string{"CRITICAL", "WARNING", "INFORMATIONAL"}},
	{"alert_status", Upper, []string{"ACTIVE", "NONE"}},
	{"entity_type", Upper, []string{"BUSINESS", "PHONE_NUMBER", "WABA", "CURRENT_STATUS_ID"}},
	{"old_status", Upper, flowStatuses},
	{"new_status", Upper, flowStatuses},
	// Meta does not document the state an alert returns to: only the case
	// is known.
	{"alert_state", Upper, nil},
	{"status", Lower, messageStatus},
	{"message_type", Lower, []string{"text", "image", "audio", "video", "document", "sticker", "location",
		"contacts", "interactive", "button", "reaction", "order", "system", "unsupported"}},
}

// eventNames are the events of each field: Meta's value.event, or the
// name the parser gives the change (see doc.go), in the order the rules
// guide lists them.
var eventNames = []struct {
	field  string
	events []string
}{
	{"account_update", []string{"ACCOUNT_VIOLATION", "ACCOUNT_RESTRICTION", "DISABLED_UPDATE", "ACCOUNT_DELETED",
		"ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED", "VERIFIED_ACCOUNT", "PARTNER_ADDED", "PARTNER_REMOVED",
		"PARTNER_APP_INSTALLED", "PARTNER_APP_UNINSTALLED", "PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE",
		"AD_ACCOUNT_LINKED", "MM_LITE_TERMS_SIGNED", "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE",
		"BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", "VOLUME_BASED_PRICING_TIER_UPDATE"}},
	{"account_review_update", decisions},
	{"account_alerts", nil}, // the alert_type: filled in by NamesOf
	{"business_capability_update", []string{"CAPABILITY_UPDATE"}},
	{"phone_number_quality_update", []string{"FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE", "ONBOARDING", "THROUGHPUT_UPGRADE"}},
	{"phone_number_name_update", decisions},
	{"security", []string{"PIN_CHANGED", "PIN_RESET_REQUEST", "PIN_REQUEST_SUCCESS"}},
	{"message_template_status_update", []string{"APPROVED", "ARCHIVED", "DELETED", "DISABLED", "FLAGGED", "IN_APPEAL",
		"LIMIT_EXCEEDED", "LOCKED", "PAUSED", "PENDING", "REINSTATED", "PENDING_DELETION", "REJECTED"}},
	{"message_template_quality_update", qualityScores},
	{"message_template_components_update", []string{"COMPONENTS_UPDATE"}},
	{"template_category_update", []string{"CATEGORY_CHANGED", "CATEGORY_CHANGE_PENDING"}},
	{"flows", []string{"FLOW_STATUS_CHANGE", "CLIENT_ERROR_RATE", "ENDPOINT_ERROR_RATE", "ENDPOINT_LATENCY",
		"ENDPOINT_AVAILABILITY", "FLOW_VERSION_EXPIRY_WARNING"}},
	{"messages", []string{"MESSAGE_STATUS", "MESSAGE_RECEIVED", "MESSAGES_ERROR"}},
	{"message_echoes", []string{"MESSAGE_ECHO"}},
	{"calls", []string{"CALL_CONNECT", "CALL_TERMINATE", "CALL_STATUS", "CALLS_ERROR"}},
	{"user_preferences", []string{"STOP", "RESUME", "PREFERENCES_UPDATE"}},
	{"template_correct_category_detection", []string{"CORRECT_CATEGORY_DETECTED"}},
	{"partner_solutions", []string{"SOLUTION_CREATED", "SOLUTION_UPDATED"}},
	{"payment_configuration_update", []string{"ACTIVE", "NEEDS_CONNECTING", "NEEDS_TESTING", "CONFIGURATION_UPDATE"}},
}

// FieldValues returns the known values of every text field that has a
// known set, in the rules guide's order. The event field is not among
// them: its values depend on the field, see NamesOf.
func FieldValues() []Values {
	out := make([]Values, len(fieldValues))
	for i, v := range fieldValues {
		v.Known = slices.Clone(v.Known)
		if v.Field == "field" {
			v.Known = append(KnownFields(), undocumentedFields...)
		}
		out[i] = v
	}
	return out
}

// ValuesOf returns the known values of one field, by its name in rules.
func ValuesOf(field string) (Values, bool) {
	for _, v := range FieldValues() {
		if v.Field == field {
			return v, true
		}
	}
	return Values{}, false
}

// FieldsWithEvents lists the fields NamesOf knows events of, in the rules
// guide's order.
func FieldsWithEvents() []string {
	out := make([]string, 0, len(eventNames))
	for _, e := range eventNames {
		out = append(out, e.field)
	}
	return out
}

// NamesOf returns the events of one webhook field (nil for a field
// whose events are not known); with field "" it returns the events of
// every field, each once. All are in upper case.
func NamesOf(field string) []string {
	var out []string
	for _, e := range eventNames {
		if field != "" && e.field != field {
			continue
		}
		events := e.events
		if e.field == "account_alerts" {
			alerts, _ := ValuesOf("alert_type")
			events = alerts.Known
		}
		for _, name := range events {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// HasCase reports whether s is written in case c: it has no letter of
// the other case.
func HasCase(s string, c Case) bool {
	if c == Upper {
		return s == strings.ToUpper(s)
	}
	return s == strings.ToLower(s)
}
