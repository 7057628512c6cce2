package event

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// problemKind is one row of the default key table: which events it takes
// and the shape of their key. The table in docs/rules.md lists these rows,
// in this order, and a test keeps the two in step.
type problemKind struct {
	field string // "" for a field no row above names
	// events is how the docs name the events the row takes.
	events string
	match  func(Event) bool
	// shape is the key, its {names} filled by keyParts.
	shape string
}

func anyEvent(Event) bool { return true }

func eventIn(names ...string) func(Event) bool {
	return func(ev Event) bool { return slices.Contains(names, ev.Event) }
}

// problemKinds names what each kind of event is about, so that the events
// that open and close one problem (DISABLE and REINSTATE; FLAGGED,
// DOWNGRADE and UNFLAGGED of one number; a template PAUSED and then
// REINSTATED) share a key, and different problems (two numbers, two
// templates, two violation or restriction types, two alert types) do not.
// The first row that takes an event gives its key.
var problemKinds = []problemKind{
	{"account_update", "`DISABLED_UPDATE` (every ban state)", eventIn("DISABLED_UPDATE"), "{waba_id}/ban"},
	{"account_update", "`ACCOUNT_RESTRICTION`", eventIn("ACCOUNT_RESTRICTION"), "{waba_id}/restriction/{types}"},
	{"account_update", "`ACCOUNT_VIOLATION`", eventIn("ACCOUNT_VIOLATION"), "{waba_id}/violation/{violation_type}"},
	{"account_update", "`ACCOUNT_OFFBOARDED`, `ACCOUNT_RECONNECTED`", eventIn("ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED"), "{waba_id}/connection"},
	{"account_update", "any other", anyEvent, "{waba_id}/account/{event}"},
	{"account_review_update", "any", anyEvent, "{waba_id}/review"},
	{"business_capability_update", "any", anyEvent, "{waba_id}/capability/{event}"},
	{"phone_number_quality_update", "any", anyEvent, "{waba_id}/phone/{phone_number}/quality"},
	{"phone_number_name_update", "any", anyEvent, "{waba_id}/phone/{phone_number}/name"},
	{"message_template_status_update", "any", anyEvent, "{waba_id}/template/{template_id}/{template_language}/status"},
	{"message_template_quality_update", "any", anyEvent, "{waba_id}/template/{template_id}/{template_language}/quality"},
	{"template_category_update", "any", anyEvent, "{waba_id}/template/{template_id}/{template_language}/category"},
	{"message_template_components_update", "any", anyEvent, "{waba_id}/template/{template_id}/{template_language}/components"},
	{"flows", "any", anyEvent, "{waba_id}/flow/{flow_id}/{event}"},
	{"account_alerts", "any", anyEvent, "{waba_id}/alert/{entity_type}/{entity_id}/{alert_type}"},
	{"messages", "`MESSAGE_STATUS` with `errors` (a failed message), `MESSAGES_ERROR`",
		func(ev Event) bool {
			return (ev.Event == "MESSAGE_STATUS" && len(ev.Errors) > 0) || ev.Event == "MESSAGES_ERROR"
		},
		"{waba_id}/messages/{phone_number_id}/failed/{error_codes}"},
	{"messages", "`MESSAGE_STATUS` without `errors`", eventIn("MESSAGE_STATUS"), "{waba_id}/messages/{phone_number_id}/recipient/{recipient_id}"},
	{"messages", "`MESSAGE_RECEIVED`", eventIn("MESSAGE_RECEIVED"), "{waba_id}/messages/{phone_number_id}/from/{from}"},
	{"messages", "any other", anyEvent, "{waba_id}/messages/{fingerprint}"},
	{"", "any", anyEvent, "{waba_id}/{field}/{fingerprint}"},
}

// missingPrefix starts the stand-in for an id a key needs but the event
// lacks: the change's fingerprint, so two such events never share a key.
const missingPrefix = "change-"

// ProblemKey names the problem ev is about, as the default dedup key (and
// so the PagerDuty incident and the e-mail thread): the WABA, the kind of
// problem and what it is about, for example 102290129340398/ban or
// 102290129340398/phone/+16505551111/quality. It never names a rule or an
// event name where one problem has several events. A part the event lacks
// (no waba_id in a bare change, no number on a phone event) is replaced by
// "change-" and the change's fingerprint, so that such events never share
// a key; the error is Fingerprint's, for an event the parser would not
// build.
func ProblemKey(ev Event) (string, error) {
	kind := problemKindOf(ev)
	var fp string
	var fpErr error
	fingerprint := func() string {
		if fp == "" && fpErr == nil {
			fp, fpErr = Fingerprint(ev)
		}
		return fp
	}
	var b strings.Builder
	shape := kind.shape
	for shape != "" {
		open := strings.IndexByte(shape, '{')
		if open < 0 {
			b.WriteString(shape)
			break
		}
		b.WriteString(shape[:open])
		end := strings.IndexByte(shape[open:], '}') + open
		name := shape[open+1 : end]
		shape = shape[end+1:]
		part := ""
		if name == "fingerprint" {
			part = fingerprint()
		} else if part = keyPart(ev, name); part == "" {
			part = missingPrefix + fingerprint()
		}
		b.WriteString(part)
	}
	if fpErr != nil {
		return "", fpErr
	}
	return b.String(), nil
}

// problemKindOf is the first row that takes ev; the last row takes every
// event of a field no row names.
func problemKindOf(ev Event) problemKind {
	for _, k := range problemKinds {
		if (k.field == ev.Field || k.field == "") && k.match(ev) {
			return k
		}
	}
	return problemKinds[len(problemKinds)-1]
}

// keyPart is the value of one {name} of a key shape; "" when the event
// lacks it. A slash inside a value is escaped, so that parts never run
// into each other.
func keyPart(ev Event, name string) string {
	var s string
	switch name {
	case "waba_id":
		s = ev.WabaID
	case "field":
		s = ev.Field
	case "event":
		s = ev.Event
	case "types":
		types := slices.Clone(ev.Types)
		slices.Sort(types)
		s = strings.Join(slices.Compact(types), "+")
	case "violation_type":
		s = ev.ViolationType
	case "phone_number":
		s = phoneKey(ev.PhoneNumber)
	case "template_id":
		s = ev.TemplateID
	case "template_language":
		s = ev.TemplateLanguage
	case "flow_id":
		s = ev.FlowID
	case "entity_type":
		s = ev.EntityType
	case "entity_id":
		s = ev.EntityID
	case "alert_type":
		s = ev.AlertType
	case "phone_number_id":
		s = ev.PhoneNumberID
	case "recipient_id":
		s = customerRef(ev.RecipientID)
	case "from":
		s = customerRef(ev.From)
	case "error_codes":
		var codes []int
		for _, e := range ev.Errors {
			if e.Code != 0 {
				codes = append(codes, e.Code)
			}
		}
		slices.Sort(codes)
		parts := make([]string, 0, len(codes))
		for _, c := range slices.Compact(codes) {
			parts = append(parts, strconv.Itoa(c))
		}
		s = strings.Join(parts, "+")
	}
	return strings.ReplaceAll(strings.TrimSpace(s), "/", "%2F")
}

// customerRef stands for a customer's WhatsApp id in a key: the key is
// the PagerDuty dedup_key and goes to every sink, and a customer's number
// is theirs, not ours to hand out (sinks withhold it elsewhere). The same
// customer still gets the same key. "" when id is empty.
func customerRef(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("wabarouter customer\x00" + id))
	return "customer-" + hex.EncodeToString(sum[:8])
}

// phoneKey writes a number as + and its digits, so that 16505551111 and
// "+1 650-555-1111" are one number; "" when it has no digits.
func phoneKey(number string) string {
	var b strings.Builder
	for _, r := range number {
		if r >= '0' && r <= '9' {
			if b.Len() == 0 {
				b.WriteByte('+')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
