package event

import "time"

// ObjectWABA is the only webhook object this router accepts.
const ObjectWABA = "whatsapp_business_account"

// Event is one change of one WhatsApp Business Account webhook, with the
// keys Meta sends under many shapes flattened into typed fields. The json
// and expr tags name each field the same way in `wabarouter parse` output
// and in rule expressions.
type Event struct {
	Object string    `json:"object" expr:"object"`
	WabaID string    `json:"waba_id" expr:"waba_id"`
	Time   time.Time `json:"time,omitzero" expr:"time"`
	Field  string    `json:"field" expr:"field"`
	// Event is value.event where Meta sends one; for fields without it the
	// parser names the change from the field's main enum (see doc.go).
	Event       string `json:"event" expr:"event"`
	PhoneNumber string `json:"phone_number,omitempty" expr:"phone_number"`

	ViolationType string        `json:"violation_type,omitempty" expr:"violation_type"`
	Types         []string      `json:"types,omitempty" expr:"types"`
	Restrictions  []Restriction `json:"restrictions,omitempty" expr:"restrictions"`
	BanState      string        `json:"ban_state,omitempty" expr:"ban_state"`
	BanDate       time.Time     `json:"ban_date,omitzero" expr:"ban_date"`
	Decision      string        `json:"decision,omitempty" expr:"decision"`

	TemplateID       string    `json:"template_id,omitempty" expr:"template_id"`
	TemplateName     string    `json:"template_name,omitempty" expr:"template_name"`
	TemplateLanguage string    `json:"template_language,omitempty" expr:"template_language"`
	Reason           string    `json:"reason,omitempty" expr:"reason"`
	PreviousCategory string    `json:"previous_category,omitempty" expr:"previous_category"`
	NewCategory      string    `json:"new_category,omitempty" expr:"new_category"`
	DisableDate      time.Time `json:"disable_date,omitzero" expr:"disable_date"`
	OtherInfo        OtherInfo `json:"other_info,omitzero" expr:"other_info"`

	PreviousQualityScore  string `json:"previous_quality_score,omitempty" expr:"previous_quality_score"`
	NewQualityScore       string `json:"new_quality_score,omitempty" expr:"new_quality_score"`
	CurrentLimit          string `json:"current_limit,omitempty" expr:"current_limit"`
	RequestedVerifiedName string `json:"requested_verified_name,omitempty" expr:"requested_verified_name"`
	RejectionReason       string `json:"rejection_reason,omitempty" expr:"rejection_reason"`

	AlertType        string `json:"alert_type,omitempty" expr:"alert_type"`
	AlertSeverity    string `json:"alert_severity,omitempty" expr:"alert_severity"`
	AlertStatus      string `json:"alert_status,omitempty" expr:"alert_status"`
	AlertDescription string `json:"alert_description,omitempty" expr:"alert_description"`
	EntityType       string `json:"entity_type,omitempty" expr:"entity_type"`
	EntityID         string `json:"entity_id,omitempty" expr:"entity_id"`

	MaxDailyConversationPerPhone int `json:"max_daily_conversation_per_phone,omitempty" expr:"max_daily_conversation_per_phone"`
	MaxPhoneNumbersPerBusiness   int `json:"max_phone_numbers_per_business,omitempty" expr:"max_phone_numbers_per_business"`
	MaxPhoneNumbersPerWaba       int `json:"max_phone_numbers_per_waba,omitempty" expr:"max_phone_numbers_per_waba"`
	// MaxDailyConversationsPerBusiness is the business's messaging limit
	// tier (TIER_2K); Meta documents a tier and sometimes sends the number
	// of conversations, which the parser reads as its tier.
	MaxDailyConversationsPerBusiness string `json:"max_daily_conversations_per_business,omitempty" expr:"max_daily_conversations_per_business"`

	// Account updates about partners, pricing and connections
	// (account_update PARTNER_*, VOLUME_BASED_PRICING_TIER_UPDATE, ...).
	WabaInfo          WabaInfo          `json:"waba_info,omitzero" expr:"waba_info"`
	DisconnectionInfo DisconnectionInfo `json:"disconnection_info,omitzero" expr:"disconnection_info"`
	VolumeTierInfo    VolumeTierInfo    `json:"volume_tier_info,omitzero" expr:"volume_tier_info"`

	// CorrectCategory is the category Meta says a template belongs in
	// (template_category_update while pending,
	// template_correct_category_detection).
	CorrectCategory string `json:"correct_category,omitempty" expr:"correct_category"`

	// Multi-partner solutions (field "partner_solutions").
	SolutionID     string `json:"solution_id,omitempty" expr:"solution_id"`
	SolutionStatus string `json:"solution_status,omitempty" expr:"solution_status"`

	// PaymentConfiguration is a payment_configuration_update's value.
	PaymentConfiguration PaymentConfiguration `json:"payment_configuration,omitzero" expr:"payment_configuration"`
	// Preference is a user_preferences change's (first) preference.
	Preference Preference `json:"preference,omitzero" expr:"preference"`
	// Call is a calls change's (first) call or call status.
	Call Call `json:"call,omitzero" expr:"call"`

	// Flows alerts (field "flows").
	FlowID     string `json:"flow_id,omitempty" expr:"flow_id"`
	OldStatus  string `json:"old_status,omitempty" expr:"old_status"`
	NewStatus  string `json:"new_status,omitempty" expr:"new_status"`
	AlertState string `json:"alert_state,omitempty" expr:"alert_state"`

	// Messages (field "messages"): one event per status or inbound message.
	PhoneNumberID string         `json:"phone_number_id,omitempty" expr:"phone_number_id"`
	MessageID     string         `json:"message_id,omitempty" expr:"message_id"`
	Status        string         `json:"status,omitempty" expr:"status"`
	RecipientID   string         `json:"recipient_id,omitempty" expr:"recipient_id"`
	From          string         `json:"from,omitempty" expr:"from"`
	MessageType   string         `json:"message_type,omitempty" expr:"message_type"`
	Errors        []MessageError `json:"errors,omitempty" expr:"errors"`

	// Value is the whole raw value object, so a rule can reach any key Meta
	// adds later as value.some_key. Numbers are int or float64.
	Value map[string]any `json:"value" expr:"value"`

	// Account is what the accounts directory says of WabaID, filled in by
	// the router after parsing (the parser never sets it); its zero value
	// means the directory does not list the account.
	Account Account `json:"account,omitzero" expr:"account"`

	// Warnings says where the payload strayed from Meta's documented shape
	// and what the parser made of it; the event is still routed.
	Warnings []string `json:"warnings,omitempty" expr:"warnings"`
}

// Restriction is one entry of restriction_info.
type Restriction struct {
	Type       string    `json:"type" expr:"type"`
	Expiration time.Time `json:"expiration,omitzero" expr:"expiration"`
	// Remediation is Meta's advice on lifting the restriction, in words.
	Remediation string `json:"remediation,omitempty" expr:"remediation"`
}

// WabaInfo is an account update's waba_info: which account, whose, and
// which partner app or solution the update is about.
type WabaInfo struct {
	WabaID                     string   `json:"waba_id,omitempty" expr:"waba_id"`
	OwnerBusinessID            string   `json:"owner_business_id,omitempty" expr:"owner_business_id"`
	PartnerAppID               string   `json:"partner_app_id,omitempty" expr:"partner_app_id"`
	SolutionID                 string   `json:"solution_id,omitempty" expr:"solution_id"`
	SolutionPartnerBusinessIDs []string `json:"solution_partner_business_ids,omitempty" expr:"solution_partner_business_ids"`
	AdAccountLinked            string   `json:"ad_account_linked,omitempty" expr:"ad_account_linked"`
}

// DisconnectionInfo says why a partner lost an account (PARTNER_REMOVED).
type DisconnectionInfo struct {
	Reason      string `json:"reason,omitempty" expr:"reason"`
	InitiatedBy string `json:"initiated_by,omitempty" expr:"initiated_by"`
}

// VolumeTierInfo is a VOLUME_BASED_PRICING_TIER_UPDATE's new tier.
type VolumeTierInfo struct {
	TierUpdateTime  time.Time `json:"tier_update_time,omitzero" expr:"tier_update_time"`
	PricingCategory string    `json:"pricing_category,omitempty" expr:"pricing_category"`
	// Tier is the range of messages it covers, "min:max".
	Tier string `json:"tier,omitempty" expr:"tier"`
	// EffectiveMonth is "YYYY-MM".
	EffectiveMonth string `json:"effective_month,omitempty" expr:"effective_month"`
	Region         string `json:"region,omitempty" expr:"region"`
}

// PaymentConfiguration is a payment_configuration_update's value.
type PaymentConfiguration struct {
	Name         string `json:"name,omitempty" expr:"name"`
	ProviderName string `json:"provider_name,omitempty" expr:"provider_name"`
	ProviderMID  string `json:"provider_mid,omitempty" expr:"provider_mid"`
	// Status is as Meta writes it: "Active", "Needs Connecting",
	// "Needs Testing".
	Status      string    `json:"status,omitempty" expr:"status"`
	CreatedTime time.Time `json:"created_time,omitzero" expr:"created_time"`
	UpdatedTime time.Time `json:"updated_time,omitzero" expr:"updated_time"`
}

// Preference is one entry of a user_preferences change: a customer who
// stopped or resumed a kind of message. Its timestamp is the event's time.
type Preference struct {
	Customer string `json:"customer,omitempty" expr:"customer"`
	Category string `json:"category,omitempty" expr:"category"`
	// Value is "stop" or "resume", in lower case as Meta sends it.
	Value  string `json:"value,omitempty" expr:"value"`
	Detail string `json:"detail,omitempty" expr:"detail"`
}

// Call is one WhatsApp call of a calls change, or one call status.
type Call struct {
	ID string `json:"id,omitempty" expr:"id"`
	// Direction is BUSINESS_INITIATED or USER_INITIATED.
	Direction string `json:"direction,omitempty" expr:"direction"`
	// Status is a terminated call's COMPLETED or FAILED, or a status
	// update's RINGING, ACCEPTED or REJECTED.
	Status    string    `json:"status,omitempty" expr:"status"`
	From      string    `json:"from,omitempty" expr:"from"`
	To        string    `json:"to,omitempty" expr:"to"`
	StartTime time.Time `json:"start_time,omitzero" expr:"start_time"`
	EndTime   time.Time `json:"end_time,omitzero" expr:"end_time"`
	// Duration is in seconds.
	Duration int `json:"duration,omitempty" expr:"duration"`
}

// OtherInfo is a template status update's other_info.
type OtherInfo struct {
	Title       string `json:"title,omitempty" expr:"title"`
	Description string `json:"description,omitempty" expr:"description"`
}

// MessageError is one entry of a message status's errors list.
type MessageError struct {
	Code    int    `json:"code,omitempty" expr:"code"`
	Title   string `json:"title,omitempty" expr:"title"`
	Message string `json:"message,omitempty" expr:"message"`
	Details string `json:"details,omitempty" expr:"details"`
}

// Account is the accounts directory's entry for an event's WABA: the
// names people know it by. It is not part of what Meta sent, so neither
// the fingerprint nor the problem key looks at it.
type Account struct {
	// Name is the business's display name ("Acme Retail EU").
	Name string `json:"name,omitempty" expr:"name"`
	// Team is who owns the account, for routing by team.
	Team string   `json:"team,omitempty" expr:"team"`
	Tags []string `json:"tags,omitempty" expr:"tags"`
	// PhoneLabel is the directory's label of the event's phone number
	// ("support line"), "" when it has none.
	PhoneLabel string `json:"phone_label,omitempty" expr:"phone_label"`
}
