package event

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// fillers read the keys of each known field into the typed fields. A field
// that is not here still becomes an event carrying its raw value.
var fillers = map[string]func(Event) []Event{
	"account_update":                     one(fillAccountUpdate),
	"account_review_update":              one(fillDecisionEvent),
	"phone_number_name_update":           one(fillPhoneNameUpdate),
	"phone_number_quality_update":        one(fillPhoneQualityUpdate),
	"account_alerts":                     one(fillAccountAlerts),
	"business_capability_update":         one(fillCapabilityUpdate),
	"message_template_status_update":     one(fillTemplateStatus),
	"message_template_quality_update":    one(fillTemplateQuality),
	"message_template_components_update": one(fillTemplateComponents),
	"template_category_update":           one(fillTemplateCategory),
	"flows":                              one(fillFlows),
	"messages":                           splitMessages,
}

// KnownFields lists, sorted, the webhook fields the parser reads into
// typed fields. Any other field is still a legal event.
func KnownFields() []string {
	fields := make([]string, 0, len(fillers))
	for f := range fillers {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	return fields
}

func one(fill func(*Event)) func(Event) []Event {
	return func(ev Event) []Event {
		fill(&ev)
		return []Event{ev}
	}
}

func fillAccountUpdate(ev *Event) {
	v := ev.Value
	if vi, ok := v["violation_info"].(map[string]any); ok {
		ev.ViolationType = str(vi["violation_type"])
	}
	fillRestrictions(ev, v["restriction_info"])
	if bi, ok := v["ban_info"].(map[string]any); ok {
		fillBanState(ev, bi["waba_ban_state"])
		ev.BanDate = timeField(ev, "waba_ban_date", bi["waba_ban_date"])
	}
}

// fillRestrictions accepts restriction_info as Meta documents it (a list)
// and as some senders model it (a single object).
func fillRestrictions(ev *Event, raw any) {
	var list []any
	switch t := raw.(type) {
	case nil:
		return
	case []any:
		list = t
	case map[string]any:
		list = []any{t}
		ev.Warnings = append(ev.Warnings, "restriction_info is a single object, not a list")
	default:
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("restriction_info is %s; ignored", kindOf(raw)))
		return
	}
	for _, item := range list {
		r, ok := item.(map[string]any)
		if !ok {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("restriction_info entry is %s; ignored", kindOf(item)))
			continue
		}
		rs := Restriction{Type: str(r["restriction_type"])}
		rs.Expiration = timeField(ev, "expiration", r["expiration"])
		ev.Restrictions = append(ev.Restrictions, rs)
		if rs.Type != "" {
			ev.Types = append(ev.Types, rs.Type)
		}
	}
}

// fillBanState accepts waba_ban_state as a string or, as one of Meta's
// examples prints it, a list; from a list the first state is taken.
func fillBanState(ev *Event, raw any) {
	switch t := raw.(type) {
	case string:
		ev.BanState = t
	case []any:
		if len(t) > 0 {
			ev.BanState = str(t[0])
		}
		if len(t) > 1 {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("waba_ban_state is a list of %d states; took the first, %q", len(t), ev.BanState))
		}
	}
}

// fillDecisionEvent names a change that carries only a decision after it.
func fillDecisionEvent(ev *Event) {
	ev.Decision = str(ev.Value["decision"])
	if ev.Event == "" {
		ev.Event = ev.Decision
	}
}

func fillPhoneNameUpdate(ev *Event) {
	fillDecisionEvent(ev)
	ev.RequestedVerifiedName = str(ev.Value["requested_verified_name"])
	ev.RejectionReason = str(ev.Value["rejection_reason"])
}

func fillPhoneQualityUpdate(ev *Event) {
	ev.CurrentLimit = str(ev.Value["current_limit"])
}

// fillAccountAlerts accepts the documented nested alert_info and the flat
// shape of the App Dashboard's sample; the alert type names the event.
func fillAccountAlerts(ev *Event) {
	v := ev.Value
	info := v
	if nested, ok := v["alert_info"].(map[string]any); ok {
		info = nested
	}
	ev.AlertType = str(info["alert_type"])
	ev.AlertSeverity = str(info["alert_severity"])
	ev.AlertStatus = str(info["alert_status"])
	ev.AlertDescription = str(info["alert_description"])
	ev.EntityType = str(v["entity_type"])
	ev.EntityID = str(v["entity_id"])
	if ev.Event == "" {
		ev.Event = ev.AlertType
	}
}

func fillCapabilityUpdate(ev *Event) {
	v := ev.Value
	ev.MaxDailyConversationPerPhone = intField(ev, v, "max_daily_conversation_per_phone")
	ev.MaxPhoneNumbersPerBusiness = intField(ev, v, "max_phone_numbers_per_business")
	ev.MaxPhoneNumbersPerWaba = intField(ev, v, "max_phone_numbers_per_waba")
	if ev.Event == "" {
		ev.Event = "CAPABILITY_UPDATE"
	}
}

func intField(ev *Event, v map[string]any, key string) int {
	raw, ok := v[key]
	if !ok || raw == nil {
		return 0
	}
	n, ok := integer(raw)
	if !ok {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s %s is not a whole number; left empty", key, describe(raw)))
	}
	return n
}

func fillTemplate(ev *Event) {
	v := ev.Value
	ev.TemplateID = str(v["message_template_id"])
	ev.TemplateName = str(v["message_template_name"])
	ev.TemplateLanguage = str(v["message_template_language"])
}

func fillTemplateStatus(ev *Event) {
	fillTemplate(ev)
	v := ev.Value
	ev.Reason = str(v["reason"])
	if di, ok := v["disable_info"].(map[string]any); ok {
		ev.DisableDate = timeField(ev, "disable_date", di["disable_date"])
	}
	if oi, ok := v["other_info"].(map[string]any); ok {
		ev.OtherInfo = OtherInfo{Title: str(oi["title"]), Description: str(oi["description"])}
	}
	if ri, ok := v["rejection_info"].(map[string]any); ok && ev.Reason == "" {
		ev.Reason = str(ri["reason"])
	}
}

// fillTemplateQuality names the change after the new score (GREEN, YELLOW,
// RED, UNKNOWN), which is what decides how loud it is.
func fillTemplateQuality(ev *Event) {
	fillTemplate(ev)
	ev.PreviousQualityScore = str(ev.Value["previous_quality_score"])
	ev.NewQualityScore = str(ev.Value["new_quality_score"])
	if ev.Event == "" {
		ev.Event = ev.NewQualityScore
	}
}

func fillTemplateComponents(ev *Event) {
	fillTemplate(ev)
	if ev.Event == "" {
		ev.Event = "COMPONENTS_UPDATE"
	}
}

// fillTemplateCategory tells a completed change (previous_category present)
// from an impending one (correct_category or a future timestamp).
func fillTemplateCategory(ev *Event) {
	fillTemplate(ev)
	v := ev.Value
	ev.PreviousCategory = str(v["previous_category"])
	ev.NewCategory = str(v["new_category"])
	if ev.Event != "" {
		return
	}
	switch {
	case v["correct_category"] != nil || v["category_update_timestamp"] != nil:
		ev.Event = "CATEGORY_CHANGE_PENDING"
	default:
		ev.Event = "CATEGORY_CHANGED"
	}
}

func fillFlows(ev *Event) {
	v := ev.Value
	ev.FlowID = str(v["flow_id"])
	ev.OldStatus = str(v["old_status"])
	ev.NewStatus = str(v["new_status"])
	ev.AlertState = str(v["alert_state"])
}

// splitMessages makes one event per status and per inbound message, so a
// rule can page on a single failed delivery.
func splitMessages(ev Event) []Event {
	v := ev.Value
	if md, ok := v["metadata"].(map[string]any); ok {
		ev.PhoneNumberID = str(md["phone_number_id"])
		if ev.PhoneNumber == "" {
			ev.PhoneNumber = str(md["display_phone_number"])
		}
	}
	var out []Event
	for _, raw := range list(v["statuses"]) {
		s, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		e := ev
		e.Event = "MESSAGE_STATUS"
		e.MessageID = str(s["id"])
		e.Status = strings.ToLower(str(s["status"]))
		e.RecipientID = str(s["recipient_id"])
		e.Warnings = slices.Clip(e.Warnings) // siblings must not share appends
		if ts := timeField(&e, "statuses[].timestamp", s["timestamp"]); !ts.IsZero() {
			e.Time = ts
		}
		e.Errors = messageErrors(s["errors"])
		out = append(out, e)
	}
	for _, raw := range list(v["messages"]) {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		e := ev
		e.Event = "MESSAGE_RECEIVED"
		e.MessageID = str(m["id"])
		e.From = str(m["from"])
		e.MessageType = str(m["type"])
		e.Warnings = slices.Clip(e.Warnings)
		if ts := timeField(&e, "messages[].timestamp", m["timestamp"]); !ts.IsZero() {
			e.Time = ts
		}
		e.Errors = messageErrors(m["errors"])
		out = append(out, e)
	}
	if len(out) == 0 {
		if errs := messageErrors(v["errors"]); len(errs) > 0 {
			ev.Event = "MESSAGES_ERROR"
			ev.Errors = errs
		}
		out = append(out, ev)
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func messageErrors(v any) []MessageError {
	var out []MessageError
	for _, raw := range list(v) {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		code, _ := integer(m["code"])
		me := MessageError{Code: code, Title: str(m["title"]), Message: str(m["message"])}
		if ed, ok := m["error_data"].(map[string]any); ok {
			me.Details = str(ed["details"])
		}
		out = append(out, me)
	}
	return out
}
