package rules

import (
	"text/template"

	"github.com/wabarouter/wabarouter/internal/event"
)

// The default texts are written for a compliance officer, not an engineer:
// a title that reads as a sentence and a body that says what it means.
// Enums read by their human names (human, capitalized: words.Enum);
// the raw values are in the event's details, which the sinks show. A
// date after the event's own time reads in the future tense ("will be
// banned on"): templates compare it with .time, never the wall clock, so
// the same event always reads the same.
//
// "waba" names the account as sinks.Who does, "Acme Retail EU — +1
// 650-555-1111 (support line)", or "WABA <id>" when the accounts
// directory does not list it; "acct" is the same without the number. A
// test keeps "waba" and sinks.Who in step.
const subject = `{{define "acct"}}{{if .account.name}}{{.account.name}}{{else}}WABA {{if .waba_id}}{{.waba_id}}{{else}}(id not sent){{end}}{{end}}{{end}}` +
	`{{define "waba"}}{{template "acct" .}}{{with phone .phone_number}} — {{.}}{{with $.account.phone_label}} ({{.}}){{end}}{{end}}{{end}}` +
	`{{define "tmpl"}}Template "{{.template_name}}"{{with .template_language}} ({{.}}){{end}} on {{template "acct" .}}{{end}}` +
	`{{define "reason"}}{{with .reason}}{{if ne . "NONE"}}Meta's reason: {{human .}}. {{end}}{{end}}{{end}}` +
	`{{define "undocumented"}}Meta does not document what this update carries; run wabarouter parse on the payload (or wabarouter why on the event) to see it. {{template "when" .}}{{end}}` +
	`{{define "when"}}Reported by Meta at {{utc .time}}.{{end}}`

// defaultTexts maps "field/EVENT" (or "field") to a title and a body.
var defaultTexts = map[string][2]string{
	"account_update/ACCOUNT_VIOLATION": {
		`{{template "waba" .}} was found violating WhatsApp policy ({{human .violation_type}})`,
		`Meta found a policy violation ({{human .violation_type}}). Repeated violations lead to messaging restrictions or a ban; review recent messages and templates in WhatsApp Manager. {{template "when" .}}`},
	"account_update/ACCOUNT_RESTRICTION": {
		`{{template "waba" .}} can no longer {{restrictions .restrictions}}`,
		`Meta restricted the account after policy violations. Customers are affected until the restriction ends or an appeal succeeds.{{range .restrictions}}{{with .remediation}} What Meta advises: {{sentence .}}{{end}}{{end}} {{template "when" .}}`},
	"account_update/DISABLED_UPDATE": {
		`{{template "waba" .}} ` +
			`{{if eq .ban_state "DISABLE"}}{{if after .ban_date .time}}will be banned on {{utc .ban_date}} and then can no longer use WhatsApp{{else}}has been banned and can no longer use WhatsApp{{if not .ban_date.IsZero}} (since {{utc .ban_date}}){{end}}{{end}}` +
			`{{else if eq .ban_state "SCHEDULE_FOR_DISABLE"}}{{if after .ban_date .time}}will be banned on {{utc .ban_date}}{{else if .ban_date.IsZero}}is scheduled to be banned{{else}}was scheduled to be banned on {{utc .ban_date}}{{end}}` +
			`{{else if eq .ban_state "REINSTATE"}}has been reinstated and can use WhatsApp again` +
			`{{else}}ban state changed to {{human .ban_state}}{{end}}`,
		`{{if eq .ban_state "REINSTATE"}}Meta lifted the ban; messaging can resume.{{else}}A ban stops all messaging on the account{{if after .ban_date .time}} from {{utc .ban_date}}{{end}}; it can be appealed in WhatsApp Manager.{{end}} {{template "when" .}}`},
	"account_update/VERIFIED_ACCOUNT": {
		`{{template "waba" .}} is now a verified account`,
		`Meta verified the account. {{template "when" .}}`},
	"account_update/ACCOUNT_DELETED": {
		`{{template "waba" .}} was deleted`,
		`The account was deleted and can no longer send or receive messages. {{template "when" .}}`},
	"account_update/ACCOUNT_OFFBOARDED": {
		`{{template "waba" .}} was offboarded from this app`,
		`This app can no longer send or receive messages for the account until it is reconnected. {{template "when" .}}`},
	"account_update/ACCOUNT_RECONNECTED": {
		`{{template "waba" .}} is connected to this app again`,
		`Messaging through this app can resume. {{template "when" .}}`},
	"account_update/PARTNER_REMOVED": {
		`{{template "waba" .}} removed this business as its partner{{with .disconnection_info.reason}} ({{human .}}){{end}}`,
		`This app no longer has access to the account.{{with .disconnection_info.initiated_by}} The disconnection was started by {{if eq . "SYSTEM"}}Meta's systems{{else if eq . "USER"}}a person{{else}}{{human .}}{{end}}.{{end}} {{template "when" .}}`},
	"account_update/PARTNER_ADDED": {
		`{{template "acct" .}} was shared with this business as a partner{{with .waba_info.waba_id}} (account {{.}}){{end}}`,
		`This app can now manage the account{{with .waba_info.owner_business_id}} owned by business {{.}}{{end}}. {{template "when" .}}`},
	"account_update/PARTNER_APP_INSTALLED": {
		`{{template "waba" .}} installed {{with .waba_info.partner_app_id}}partner app {{.}}{{else}}a partner app{{end}}`,
		`The business shared the account with the app. {{template "when" .}}`},
	"account_update/PARTNER_APP_UNINSTALLED": {
		`{{template "waba" .}} uninstalled {{with .waba_info.partner_app_id}}partner app {{.}}{{else}}a partner app{{end}}`,
		`The business no longer shares the account with the app. {{template "when" .}}`},
	"account_update/VOLUME_BASED_PRICING_TIER_UPDATE": {
		`{{template "acct" .}} moved to a new pricing tier{{with .volume_tier_info.pricing_category}} for {{human .}} messages{{end}}{{with .volume_tier_info.region}} in {{capitalized .}}{{end}}`,
		`{{with .volume_tier_info.tier}}The new tier is {{.}} messages a month (from:to){{with $.volume_tier_info.effective_month}}, from {{.}}{{end}}. {{end}}Volume tiers change what each message costs. {{template "when" .}}`},
	"account_update": {
		`{{template "waba" .}} account update: {{human .event}}`,
		`Meta sent an account update: {{human .event}}. {{template "when" .}}`},
	"message_template_status_update": {
		`{{template "tmpl" .}} ` +
			`{{if eq .event "APPROVED"}}was approved and can be sent` +
			`{{else if eq .event "REJECTED"}}was rejected{{with .reason}}{{if ne . "NONE"}} ({{human .}}){{end}}{{end}}` +
			`{{else if eq .event "PAUSED"}}{{if eq .other_info.title "RATE_LIMITING_PAUSE"}}was paused by Meta's rate limiting{{else}}was paused because of low quality{{end}}` +
			`{{else if eq .event "DISABLED"}}was disabled and can no longer be sent` +
			`{{else if eq .event "FLAGGED"}}was flagged for low quality{{if after .disable_date .time}} and will be disabled on {{utc .disable_date}}{{else if not .disable_date.IsZero}} (Meta named {{utc .disable_date}} to disable it){{end}}` +
			`{{else if eq .event "REINSTATED"}}{{if eq .other_info.title "UNPAUSE"}}was unpaused and can be sent again{{else}}was reinstated and can be sent again{{end}}` +
			`{{else if eq .event "PENDING_DELETION"}}is pending deletion` +
			`{{else if eq .event "LOCKED"}}was locked and can no longer be edited` +
			`{{else if eq .event "ARCHIVED"}}was archived` +
			`{{else if eq .event "LIMIT_EXCEEDED"}}could not be added: the account has reached its limit of templates` +
			`{{else}}changed status: {{human .event}}{{end}}`,
		`{{template "reason" .}}{{with .other_info.description}}{{sentence .}} {{end}}` +
			`{{if eq .event "PAUSED"}}A paused template cannot be sent until the pause ends; a template paused again for low quality is disabled. ` +
			`{{else if eq .event "DISABLED"}}Create a new template or appeal in WhatsApp Manager. ` +
			`{{else if eq .event "FLAGGED"}}Customers blocked or reported it; improve it before Meta disables it. ` +
			`{{else if eq .event "REJECTED"}}Fix the template and submit it again, or appeal in WhatsApp Manager. ` +
			`{{else if eq .event "LOCKED"}}Its content stays as it is until Meta unlocks it. ` +
			`{{else if eq .event "ARCHIVED"}}An archived template cannot be sent until it is unarchived. ` +
			`{{else if eq .event "LIMIT_EXCEEDED"}}Delete templates the business no longer uses before adding more. ` +
			`{{end}}{{template "when" .}}`},
	"message_template_quality_update": {
		`{{template "tmpl" .}} quality changed from {{if .previous_quality_score}}{{human .previous_quality_score}}{{else}}unknown{{end}} to {{human .new_quality_score}}`,
		`Low quality (red) templates can be paused and then disabled by Meta if customers keep blocking or reporting them. {{template "when" .}}`},
	"template_category_update": {
		`{{template "tmpl" .}} ` +
			`{{if eq .event "CATEGORY_CHANGE_PENDING"}}will change category{{if .correct_category}} from {{human .new_category}} to {{human .correct_category}}{{else}}{{with .previous_category}} from {{human .}}{{end}} to {{human .new_category}}{{end}}` +
			`{{else}}changed category{{with .previous_category}} from {{human .}}{{end}} to {{human .new_category}}{{end}}`,
		`A category change alters what the template costs and when it may be sent. {{template "when" .}}`},
	"template_correct_category_detection": {
		`{{template "tmpl" .}} was sent as {{if .new_category}}{{human .new_category}}{{else}}one category{{end}} but Meta found {{if .correct_category}}{{human .correct_category}}{{else}}other{{end}} content`,
		`Meta checks what templates sent directly contain; content of another category can restrict the account from sending utility templates directly. Review the template's content or its category. {{template "when" .}}`},
	"phone_number_name_update": {
		`Display name "{{.requested_verified_name}}" for {{template "waba" .}} was {{human .decision}}`,
		`Meta's decision: {{human .decision}}.{{with .rejection_reason}}{{if ne . "NONE"}} Reason: {{human .}}.{{end}}{{end}} {{template "when" .}}`},
	"phone_number_quality_update": {
		`{{template "waba" .}} ` +
			`{{if eq .event "FLAGGED"}}was flagged for low quality` +
			`{{else if eq .event "UNFLAGGED"}}is no longer flagged for low quality` +
			`{{else if eq .event "DOWNGRADE"}}had its messaging limit lowered` +
			`{{else if eq .event "UPGRADE"}}had its messaging limit raised` +
			`{{else if eq .event "ONBOARDING"}}is being onboarded` +
			`{{else if eq .event "THROUGHPUT_UPGRADE"}}can now send more messages per second` +
			`{{else}}quality update: {{human .event}}{{end}}` +
			`{{with .current_limit}} (limit now {{human .}}){{else}}{{with .max_daily_conversations_per_business}} (limit: {{human .}}){{end}}{{end}}`,
		`{{if eq .event "FLAGGED"}}A flagged number that does not improve within 7 days has its messaging limit lowered. ` +
			`{{else if eq .event "DOWNGRADE"}}The business can start conversations with fewer customers a day until quality improves. ` +
			`{{else if eq .event "ONBOARDING"}}The number's messaging limit rises as it is used well. ` +
			`{{end}}{{with .max_daily_conversations_per_business}}The business may now start conversations with {{human .}}. {{end}}{{template "when" .}}`},
	"account_alerts": {
		`{{template "waba" .}} {{human .alert_severity}} alert: {{or .alert_description (human .alert_type)}}`,
		`{{capitalized .alert_type}}{{if or .alert_severity .alert_status}} ({{with .alert_severity}}{{human .}}{{end}}{{if and .alert_severity .alert_status}}, {{end}}{{with .alert_status}}{{if eq . "ACTIVE"}}active{{else}}no longer active{{end}}{{end}}){{end}}{{with .entity_type}} on {{human .}} {{$.entity_id}}{{end}}. {{template "when" .}}`},
	"account_review_update": {
		`{{template "waba" .}} account review was {{human .decision}}`,
		`Meta's review decision: {{human .decision}}. A rejected account cannot send messages until the review is appealed. {{template "when" .}}`},
	"business_capability_update": {
		`{{template "waba" .}} messaging limits changed{{with .max_daily_conversations_per_business}}: {{human .}}{{else}}{{with .max_daily_conversation_per_phone}}: {{.}} conversations per phone number per day{{end}}{{end}}`,
		`New limits:{{with .max_daily_conversations_per_business}} the business may start conversations with {{human .}}.{{end}}{{with .max_daily_conversation_per_phone}} {{.}} business-initiated conversations per phone number per day.{{end}}{{with .max_phone_numbers_per_business}} {{.}} phone numbers per business.{{end}}{{with .max_phone_numbers_per_waba}} {{.}} phone numbers per account.{{end}} {{template "when" .}}`},
	"flows": {
		`Flow {{.flow_id}} on {{template "acct" .}}: {{human .event}}{{with .alert_state}} {{human .}}{{end}}`,
		`{{with .old_status}}Status changed from {{human .}} to {{human $.new_status}}. {{end}}Customers may be unable to complete this flow. {{template "when" .}}`},
	"messages/MESSAGE_STATUS": {
		`Message to {{phone .recipient_id}} from {{template "waba" .}} {{if eq .status "failed"}}failed{{range $i, $e := .errors}}{{if eq $i 0}}: {{$e.title}} ({{$e.code}}){{end}}{{end}}{{else}}is {{.status}}{{end}}`,
		`Message {{.message_id}} status: {{.status}}.{{range .errors}} Error {{.code}}: {{sentence .title}}{{with .details}} {{sentence .}}{{end}}{{end}} {{template "when" .}}`},
	"messages": {
		`{{template "waba" .}} messages update: {{human .event}}`,
		`{{with .from}}From {{phone .}}. {{end}}{{template "when" .}}`},
	"message_echoes": {
		`Message to {{or (phone .recipient_id) "a customer"}} sent by {{template "waba" .}} from another client`,
		`WhatsApp sent a copy of a message the business sent{{with .message_type}} ({{.}}){{end}}{{with .message_id}}, id {{.}}{{end}}. {{template "when" .}}`},
	"calls/CALL_CONNECT": {
		`{{if eq .call.direction "BUSINESS_INITIATED"}}WhatsApp call from {{template "waba" .}} to {{phone .call.to}}{{else}}WhatsApp call from {{phone .call.from}} to {{template "waba" .}}{{end}} is connecting`,
		`Call {{.call.id}}. {{template "when" .}}`},
	"calls/CALL_TERMINATE": {
		`WhatsApp call {{if eq .call.direction "BUSINESS_INITIATED"}}from {{template "waba" .}} to {{phone .call.to}}{{else}}from {{phone .call.from}} to {{template "waba" .}}{{end}} ` +
			`{{if eq .call.status "FAILED"}}failed{{range $i, $e := .errors}}{{if eq $i 0}}: {{$e.title}} ({{$e.code}}){{end}}{{end}}{{else}}ended{{with .call.duration}} after {{.}} seconds{{end}}{{end}}`,
		`Call {{.call.id}}{{with .call.status}}: {{human .}}{{end}}.{{range .errors}} Error {{.code}}: {{sentence .title}}{{with .details}} {{sentence .}}{{end}}{{end}} {{template "when" .}}`},
	"calls/CALL_STATUS": {
		`WhatsApp call from {{template "waba" .}} to {{phone .recipient_id}} {{if .call.status}}was {{human .call.status}}{{else}}changed status{{end}}`,
		`Call {{.call.id}}. {{template "when" .}}`},
	"calls": {
		`{{template "waba" .}} calls update{{with .event}}: {{human .}}{{end}}`,
		`{{range .errors}}Error {{.code}}: {{sentence .title}} {{end}}{{template "when" .}}`},
	"user_preferences": {
		`Customer {{or (phone .preference.customer) "(number not sent)"}} {{if eq .event "STOP"}}stopped{{else if eq .event "RESUME"}}resumed{{else}}changed their preference for{{end}} {{if .preference.category}}{{human .preference.category}}{{else}}messages{{end}} from {{template "waba" .}}`,
		`{{if eq .event "STOP"}}Do not send them marketing templates: Meta will not deliver them until they resume. {{end}}{{with .preference.detail}}{{sentence .}} {{end}}{{template "when" .}}`},
	"partner_solutions": {
		`{{template "acct" .}}: multi-partner solution {{or .solution_id "(id not sent)"}} {{if .solution_status}}is now {{human .solution_status}}{{else}}was updated{{end}}`,
		`{{if eq .solution_status "REJECTED"}}The partner rejected the solution request. {{else if eq .solution_status "PENDING_DEACTIVATION"}}Deactivation was requested and waits for the partner's answer. {{else if eq .solution_status "DEACTIVATED"}}The solution can no longer be used. {{end}}{{template "when" .}}`},
	"payment_configuration_update": {
		`{{template "acct" .}}: payment configuration {{with .payment_configuration.name}}"{{.}}"{{else}}(name not sent){{end}}{{with .payment_configuration.provider_name}} ({{.}}){{end}} ` +
			`{{if eq .event "NEEDS_CONNECTING"}}is disconnected from its payment gateway{{else if eq .event "NEEDS_TESTING"}}needs testing in WhatsApp Manager{{else if eq .event "ACTIVE"}}is active{{else}}changed status{{with .payment_configuration.status}} to {{.}}{{end}}{{end}}`,
		`{{if eq .event "NEEDS_CONNECTING"}}Customers cannot pay through it until it is connected again in WhatsApp Manager. {{else if eq .event "NEEDS_TESTING"}}It can be used once it is tested in WhatsApp Manager. {{end}}{{template "when" .}}`},
	"account_settings_update": {
		`{{template "waba" .}} account settings changed{{with .event}}: {{human .}}{{end}}`,
		`{{template "undocumented" .}}`},
	"business_status_update": {
		`{{template "waba" .}} business status update{{with .event}}: {{human .}}{{end}}`,
		`{{template "undocumented" .}}`},
}

const unknownText = `{{template "waba" .}} sent an update this router does not know: field "{{.field}}"{{with .event}}, event "{{.}}"{{end}}`
const unknownBody = `Ask an engineer whether a rule is needed; wabarouter parse on the payload (or wabarouter why on the event) shows what Meta sent. {{template "when" .}}`

// defaults holds the parsed default templates; built once by
// newDefaults and never changed afterwards.
type defaults map[string][2]*template.Template

func newDefaults() (defaults, error) {
	d := defaults{}
	texts := map[string][2]string{"": {unknownText, unknownBody}}
	for k, v := range defaultTexts {
		texts[k] = v
	}
	for k, v := range texts {
		var pair [2]*template.Template
		for i, src := range v {
			t, err := newTemplate(k, subject+src)
			if err != nil {
				return nil, err
			}
			pair[i] = t
		}
		d[k] = pair
	}
	return d, nil
}

func (d defaults) lookup(ev event.Event) [2]*template.Template {
	if t, ok := d[ev.Field+"/"+ev.Event]; ok {
		return t
	}
	if t, ok := d[ev.Field]; ok {
		return t
	}
	return d[""]
}
