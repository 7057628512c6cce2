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

	"template_correct_category_detection": one(fillCategoryDetection),
	"account_settings_update":             one(undocumented),
	"business_status_update":              one(undocumented),
	"partner_solutions":                   one(fillPartnerSolutions),
	"payment_configuration_update":        one(fillPaymentConfiguration),
	"user_preferences":                    one(fillUserPreferences),
	"calls":                               one(fillCalls),
	"message_echoes":                      splitEchoes,
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
	if wi := object(ev, "waba_info"); wi != nil {
		ev.WabaInfo = WabaInfo{
			WabaID:                     str(wi["waba_id"]),
			OwnerBusinessID:            str(wi["owner_business_id"]),
			PartnerAppID:               str(wi["partner_app_id"]),
			SolutionID:                 str(wi["solution_id"]),
			SolutionPartnerBusinessIDs: texts(wi["solution_partner_business_ids"]),
			AdAccountLinked:            str(wi["ad_account_linked"]),
		}
	}
	if di := object(ev, "disconnection_info"); di != nil {
		ev.DisconnectionInfo = DisconnectionInfo{Reason: str(di["reason"]), InitiatedBy: str(di["initiated_by"])}
	}
	if ti := object(ev, "volume_tier_info"); ti != nil {
		ev.VolumeTierInfo = VolumeTierInfo{
			TierUpdateTime:  timeField(ev, "tier_update_time", ti["tier_update_time"]),
			PricingCategory: str(ti["pricing_category"]),
			Tier:            str(ti["tier"]),
			EffectiveMonth:  str(ti["effective_month"]),
			Region:          str(ti["region"]),
		}
	}
}

// object returns value[key] when it is an object; when it is something
// else it notes so and returns nil.
func object(ev *Event, key string) map[string]any {
	raw, ok := ev.Value[key]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s is %s, not an object; ignored", key, kindOf(raw)))
	}
	return m
}

// texts reads a list of scalars as text, skipping what is not one.
func texts(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s := str(x); s != "" {
			out = append(out, s)
		}
	}
	return out
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
		rs := Restriction{Type: str(r["restriction_type"]), Remediation: str(r["remediation"])}
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
	fillBusinessLimit(ev)
}

// tiers are the messaging limit tiers by the number of conversations
// they allow, for a limit sent as a number (as one of Meta's examples
// does) rather than as the tier it documents.
var tiers = map[int]string{250: "TIER_250", 2000: "TIER_2K", 10000: "TIER_10K", 100000: "TIER_100K", -1: "TIER_UNLIMITED"}

// fillBusinessLimit reads max_daily_conversations_per_business as a tier.
func fillBusinessLimit(ev *Event) {
	const key = "max_daily_conversations_per_business"
	raw, ok := ev.Value[key]
	if !ok || raw == nil {
		return
	}
	if s, ok := raw.(string); ok {
		ev.MaxDailyConversationsPerBusiness = s
		return
	}
	n, ok := integer(raw)
	if !ok {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s is %s, not a tier; left empty", key, kindOf(raw)))
		return
	}
	if tier, ok := tiers[n]; ok {
		ev.MaxDailyConversationsPerBusiness = tier
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s is the number %d, not a tier; read as %s", key, n, tier))
		return
	}
	ev.MaxDailyConversationsPerBusiness = str(raw)
	ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s is the number %d, which is no tier; kept as %q", key, n, ev.MaxDailyConversationsPerBusiness))
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
	fillBusinessLimit(ev)
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
	ev.CorrectCategory = str(v["correct_category"])
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

// undocumented fills a field Meta lists but documents no keys of: its
// event is value.event if Meta sends one (the parser invents no name it
// might contradict later), its phone number is read as for every field,
// and the rest stays reachable as value.some_key.
func undocumented(*Event) {}

// fillCategoryDetection reads a template_correct_category_detection: Meta
// found content of another category in a template sent (by Direct Send)
// as category.
func fillCategoryDetection(ev *Event) {
	fillTemplate(ev)
	ev.NewCategory = str(ev.Value["category"])
	ev.CorrectCategory = str(ev.Value["correct_category"])
	if ev.Event == "" {
		ev.Event = "CORRECT_CATEGORY_DETECTED"
	}
}

func fillPartnerSolutions(ev *Event) {
	ev.SolutionID = str(ev.Value["solution_id"])
	ev.SolutionStatus = str(ev.Value["solution_status"])
	if ev.Event == "" {
		ev.Event = "SOLUTION_UPDATED"
	}
}

// fillPaymentConfiguration names the change after the configuration's
// status in upper case (NEEDS_CONNECTING), keeping the status as Meta
// writes it ("Needs Connecting").
func fillPaymentConfiguration(ev *Event) {
	v := ev.Value
	ev.PaymentConfiguration = PaymentConfiguration{
		Name:         str(v["configuration_name"]),
		ProviderName: str(v["provider_name"]),
		ProviderMID:  str(v["provider_mid"]),
		Status:       str(v["status"]),
		CreatedTime:  timeField(ev, "created_timestamp", v["created_timestamp"]),
		UpdatedTime:  timeField(ev, "updated_timestamp", v["updated_timestamp"]),
	}
	if ev.Event == "" {
		ev.Event = enumName(ev.PaymentConfiguration.Status, "CONFIGURATION_UPDATE")
	}
}

// enumName writes free text as an event name: upper case, words joined
// by underscores; fallback when there is no text.
func enumName(s, fallback string) string {
	f := strings.Fields(strings.ToUpper(s))
	if len(f) == 0 {
		return fallback
	}
	return strings.Join(f, "_")
}

// firstOf returns the first object of a list Meta sends one item in (a
// call, a preference), noting when there are more: the others stay in
// value. It is nil when the list holds no object.
func firstOf(ev *Event, key string) map[string]any {
	items := listOf(ev, key)
	var first map[string]any
	n := 0
	for _, raw := range items {
		if m, ok := raw.(map[string]any); ok {
			if first == nil {
				first = m
			}
			n++
		}
	}
	if n > 1 {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s holds %d entries; the first is typed, all are in value.%s", key, n, key))
	}
	return first
}

// listOf returns value[key] when it is a list; when it is something else
// it notes so and returns nil.
func listOf(ev *Event, key string) []any {
	raw, ok := ev.Value[key]
	if !ok || raw == nil {
		return nil
	}
	l, ok := raw.([]any)
	if !ok {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("%s is %s, not a list; ignored", key, kindOf(raw)))
	}
	return l
}

// fillMetadata reads the business number of a messages-like change.
func fillMetadata(ev *Event) {
	if md, ok := ev.Value["metadata"].(map[string]any); ok {
		ev.PhoneNumberID = str(md["phone_number_id"])
		if ev.PhoneNumber == "" {
			ev.PhoneNumber = str(md["display_phone_number"])
		}
	}
}

// fillUserPreferences names the change after what the customer did:
// STOP or RESUME (of marketing messages).
func fillUserPreferences(ev *Event) {
	fillMetadata(ev)
	p := firstOf(ev, "user_preferences")
	if p != nil {
		ev.Preference = Preference{
			Customer: str(p["wa_id"]),
			Category: str(p["category"]),
			Value:    str(p["value"]),
			Detail:   str(p["detail"]),
		}
		if ts := timeField(ev, "user_preferences[].timestamp", p["timestamp"]); !ts.IsZero() {
			ev.Time = ts
		}
	}
	if ev.Event == "" {
		ev.Event = enumName(ev.Preference.Value, "PREFERENCES_UPDATE")
	}
}

// fillCalls reads a calls change: a call's connect or terminate
// (CALL_CONNECT, CALL_TERMINATE) or a business-initiated call's status
// (CALL_STATUS).
func fillCalls(ev *Event) {
	fillMetadata(ev)
	ev.Errors = messageErrors(ev.Value["errors"])
	if c := firstOf(ev, "calls"); c != nil {
		ev.Call = Call{
			ID:        str(c["id"]),
			Direction: str(c["direction"]),
			Status:    str(c["status"]),
			From:      str(c["from"]),
			To:        str(c["to"]),
			StartTime: timeField(ev, "calls[].start_time", c["start_time"]),
			EndTime:   timeField(ev, "calls[].end_time", c["end_time"]),
		}
		if ts := timeField(ev, "calls[].timestamp", c["timestamp"]); !ts.IsZero() {
			ev.Time = ts
		}
		if c["duration"] != nil {
			ev.Call.Duration = intField(ev, c, "duration")
		}
		if errs := messageErrors(c["errors"]); len(errs) > 0 {
			ev.Errors = errs
		}
		if ev.Event == "" {
			ev.Event = enumName("CALL "+str(c["event"]), "CALL")
		}
		return
	}
	if s := firstOf(ev, "statuses"); s != nil {
		ev.Call = Call{ID: str(s["id"]), Status: str(s["status"])}
		ev.RecipientID = str(s["recipient_id"])
		if ts := timeField(ev, "statuses[].timestamp", s["timestamp"]); !ts.IsZero() {
			ev.Time = ts
		}
		if errs := messageErrors(s["errors"]); len(errs) > 0 {
			ev.Errors = errs
		}
		if ev.Event == "" {
			ev.Event = "CALL_STATUS"
		}
		return
	}
	if ev.Event == "" && len(ev.Errors) > 0 {
		ev.Event = "CALLS_ERROR"
	}
}

// splitEchoes makes one event per message the business sent from
// another client (message_echoes), like splitMessages; the message id
// tells the events of one change apart.
func splitEchoes(ev Event) []Event {
	fillMetadata(&ev)
	var out []Event
	for _, raw := range listOf(&ev, "message_echoes") {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		e := ev
		e.Warnings = slices.Clip(e.Warnings)
		if e.Event == "" {
			e.Event = "MESSAGE_ECHO"
		}
		e.MessageID = str(m["id"])
		e.RecipientID = str(m["to"])
		e.MessageType = str(m["type"])
		if ts := timeField(&e, "message_echoes[].timestamp", m["timestamp"]); !ts.IsZero() {
			e.Time = ts
		}
		e.Errors = messageErrors(m["errors"])
		out = append(out, e)
	}
	if len(out) == 0 {
		out = append(out, ev)
	}
	return out
}
