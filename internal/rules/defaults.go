package rules

import (
	"text/template"

	"github.com/wabarouter/wabarouter/internal/event"
)

// The default texts are written for a compliance officer, not an engineer:
// a title that reads as a sentence and a body that says what it means.
const subject = `{{define "waba"}}WABA {{if .waba_id}}{{.waba_id}}{{else}}(id not sent){{end}}{{with .phone_number}} ({{phone .}}){{end}}{{end}}` +
	`{{define "tmpl"}}Template "{{.template_name}}"{{with .template_language}} ({{.}}){{end}} on WABA {{.waba_id}}{{end}}` +
	`{{define "when"}}Reported by Meta at {{utc .time}}.{{end}}`

// defaultTexts maps "field/EVENT" (or "field") to a title and a body.
var defaultTexts = map[string][2]string{
	"account_update/ACCOUNT_VIOLATION": {
		`{{template "waba" .}} was found violating WhatsApp policy ({{human .violation_type}})`,
		`Meta found a policy violation of type {{.violation_type}}. Repeated violations lead to messaging restrictions or a ban; review recent messages and templates in WhatsApp Manager. {{template "when" .}}`},
	"account_update/ACCOUNT_RESTRICTION": {
		`{{template "waba" .}} can no longer {{restrictions .restrictions}}`,
		`Meta restricted the account ({{join .types ", "}}) after policy violations. Customers are affected until the restriction ends or an appeal succeeds. {{template "when" .}}`},
	"account_update/DISABLED_UPDATE": {
		`{{template "waba" .}} {{if eq .ban_state "DISABLE"}}has been banned and can no longer use WhatsApp (effective {{utc .ban_date}}){{else if eq .ban_state "SCHEDULE_FOR_DISABLE"}}is scheduled to be banned on {{utc .ban_date}}{{else if eq .ban_state "REINSTATE"}}has been reinstated and can use WhatsApp again{{else}}ban state changed to {{human .ban_state}}{{end}}`,
		`Ban state: {{.ban_state}}{{with .ban_date}}, effective {{utc .}}{{end}}.{{if ne .ban_state "REINSTATE"}} A ban stops all messaging on the account; it can be appealed in WhatsApp Manager.{{else}} Messaging can resume.{{end}} {{template "when" .}}`},
	"account_update/VERIFIED_ACCOUNT": {
		`{{template "waba" .}} is now a verified account`,
		`Meta verified the account. {{template "when" .}}`},
	"account_update/ACCOUNT_DELETED": {
		`{{template "waba" .}} was deleted`,
		`The account was deleted and can no longer send or receive messages. {{template "when" .}}`},
	"account_update/PARTNER_REMOVED": {
		`{{template "waba" .}} removed this business as its partner`,
		`This app no longer has access to the account. {{template "when" .}}`},
	"account_update": {
		`{{template "waba" .}} account update: {{human .event}}`,
		`Meta sent an account update of type {{.event}}. {{template "when" .}}`},
	"message_template_status_update": {
		`{{template "tmpl" .}} {{if eq .event "APPROVED"}}was approved and can be sent{{else if eq .event "REJECTED"}}was rejected{{with .reason}}{{if ne . "NONE"}} ({{human .}}){{end}}{{end}}{{else if eq .event "PAUSED"}}was paused because of low quality{{else if eq .event "DISABLED"}}was disabled and can no longer be sent{{else if eq .event "FLAGGED"}}was flagged for low quality{{with .disable_date}}{{if not .IsZero}} and will be disabled on {{utc .}}{{end}}{{end}}{{else if eq .event "REINSTATED"}}was reinstated and can be sent again{{else if eq .event "PENDING_DELETION"}}is pending deletion{{else}}changed status to {{human .event}}{{end}}`,
		`Template status: {{.event}}{{with .reason}}{{if ne . "NONE"}}; reason: {{.}}{{end}}{{end}}.{{with .other_info.description}} {{.}}{{end}} {{template "when" .}}`},
	"message_template_quality_update": {
		`{{template "tmpl" .}} quality changed from {{or .previous_quality_score "unknown"}} to {{.new_quality_score}}`,
		`Low quality (RED) templates can be paused and then disabled by Meta if customers keep blocking or reporting them. {{template "when" .}}`},
	"template_category_update": {
		`{{template "tmpl" .}} {{if eq .event "CATEGORY_CHANGE_PENDING"}}will change category{{else}}changed category{{end}} from {{.previous_category}} to {{.new_category}}`,
		`A category change alters what the template costs and when it may be sent. {{template "when" .}}`},
	"phone_number_name_update": {
		`Display name "{{.requested_verified_name}}" for {{template "waba" .}} was {{human .decision}}`,
		`Decision: {{.decision}}{{with .rejection_reason}}{{if ne . "NONE"}}; reason: {{.}}{{end}}{{end}}. {{template "when" .}}`},
	"phone_number_quality_update": {
		`Phone number {{phone .phone_number}} on WABA {{.waba_id}} {{if eq .event "FLAGGED"}}was flagged for low quality{{else if eq .event "UNFLAGGED"}}is no longer flagged for low quality{{else if eq .event "DOWNGRADE"}}had its messaging limit lowered{{else if eq .event "UPGRADE"}}had its messaging limit raised{{else}}quality update: {{human .event}}{{end}}{{with .current_limit}} (limit now {{.}}){{end}}`,
		`A flagged number that does not improve within 7 days has its messaging limit lowered. {{template "when" .}}`},
	"account_alerts": {
		`{{template "waba" .}} {{human .alert_severity}} alert: {{or .alert_description (human .alert_type)}}`,
		`Alert {{.alert_type}} ({{.alert_severity}}, {{.alert_status}}){{with .entity_type}} on {{human .}} {{$.entity_id}}{{end}}. {{template "when" .}}`},
	"account_review_update": {
		`{{template "waba" .}} account review was {{human .decision}}`,
		`Meta's review decision: {{.decision}}. A rejected account cannot send messages until the review is appealed. {{template "when" .}}`},
	"business_capability_update": {
		`{{template "waba" .}} messaging limits changed{{with .max_daily_conversation_per_phone}}: {{.}} conversations per phone number per day{{end}}`,
		`New limits:{{with .max_daily_conversation_per_phone}} {{.}} business-initiated conversations per phone number per day.{{end}}{{with .max_phone_numbers_per_business}} {{.}} phone numbers per business.{{end}}{{with .max_phone_numbers_per_waba}} {{.}} phone numbers per account.{{end}} {{template "when" .}}`},
	"flows": {
		`Flow {{.flow_id}} on WABA {{.waba_id}}: {{human .event}}{{with .alert_state}} {{human .}}{{end}}`,
		`{{with .old_status}}Status changed from {{.}} to {{$.new_status}}. {{end}}Customers may be unable to complete this flow. {{template "when" .}}`},
	"messages/MESSAGE_STATUS": {
		`Message to {{phone .recipient_id}} from {{template "waba" .}} {{if eq .status "failed"}}failed{{range $i, $e := .errors}}{{if eq $i 0}}: {{$e.title}} ({{$e.code}}){{end}}{{end}}{{else}}is {{.status}}{{end}}`,
		`Message {{.message_id}} status: {{.status}}.{{range .errors}} Error {{.code}}: {{sentence .title}}{{with .details}} {{sentence .}}{{end}}{{end}} {{template "when" .}}`},
	"messages": {
		`{{template "waba" .}} messages update: {{human .event}}`,
		`{{with .from}}From {{phone .}}. {{end}}{{template "when" .}}`},
}

const unknownText = `{{template "waba" .}} sent an update this router does not know: field "{{.field}}"{{with .event}}, event "{{.}}"{{end}}`
const unknownBody = `The raw value is attached to the event; ask an engineer whether a rule is needed. {{template "when" .}}`

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
