package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrNotJSON, ErrNotWebhook and ErrWrongObject classify a payload that is
// refused whole; test for them with errors.Is.
var (
	ErrNotJSON     = errors.New("payload is not JSON")
	ErrNotWebhook  = errors.New("payload is not a webhook")
	ErrWrongObject = errors.New("payload is not about a WhatsApp Business Account")
)

// ChangeError says which change of a payload could not be read. Its
// siblings are still parsed and returned.
type ChangeError struct {
	Entry, Change int
	Err           error
}

func (e *ChangeError) Error() string {
	return fmt.Sprintf("entry[%d].changes[%d]: %v", e.Entry, e.Change, e.Err)
}

func (e *ChangeError) Unwrap() error { return e.Err }

// Parse turns one webhook body into its events, one per entry[].changes[]
// (and, for the messages field, one per status and inbound message), within
// DefaultMaxChanges; see Parser.Parse.
func Parse(body []byte) ([]Event, error) {
	pl, err := Parser{}.Parse(body)
	return pl.Events, err
}

// Parse turns one webhook body into its events, one per entry[].changes[]
// (and, for the messages field, one per status and inbound message).
//
// A body that is not JSON, not a webhook, about another object, or with
// more changes than p allows is refused whole: Parse returns no events and
// an error wrapping ErrNotJSON, ErrNotWebhook, ErrWrongObject or
// ErrTooManyChanges. The changes are counted before any is decoded, so a
// refused body costs no more than reading its bytes. A change that cannot
// be read yields a *ChangeError in the returned (joined) error, and the
// events of its healthy siblings are returned beside it.
//
// A webhook with nothing in it (an empty entry list, or entries with empty
// changes lists) is no error: Meta retries what is refused for days. Parse
// then returns no events, no error and a warning in Payload.Warnings.
func (p Parser) Parse(body []byte) (Payload, error) {
	env, err := p.survey(body)
	if err != nil {
		return Payload{}, err
	}
	root, err := decodeObject(body)
	if err != nil {
		return Payload{}, err
	}
	entries, err := entriesOf(root)
	if err != nil {
		return Payload{}, err
	}
	pl := Payload{Warnings: env.warnings}
	var errs []error
	for i, raw := range entries {
		entry, ok := raw.(map[string]any)
		if !ok {
			errs = append(errs, &ChangeError{Entry: i, Change: -1, Err: fmt.Errorf("entry is %s, not an object", kindOf(raw))})
			continue
		}
		evs, entryErrs := parseEntry(i, entry, env.object, env.warnings)
		pl.Events = append(pl.Events, evs...)
		errs = append(errs, entryErrs...)
	}
	if len(pl.Events) == 0 && len(errs) == 0 {
		what := "the entry list is empty"
		if len(entries) > 0 {
			what = "no entry has changes"
		}
		pl.Warnings = append(slices.Clip(pl.Warnings), "payload holds no changes ("+what+"); nothing to route")
	}
	return pl, errors.Join(errs...)
}

// decodeObject decodes a body survey accepted, so it is one JSON object.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is %s, not an object", ErrNotWebhook, kindOf(v))
	}
	return normalize(root).(map[string]any), nil
}

// entriesOf returns the entry list; a bare {field, value} change, as Meta's
// policy-violation guide prints them, becomes one entry with no id.
func entriesOf(root map[string]any) ([]any, error) {
	if raw, ok := root["entry"]; ok {
		switch e := raw.(type) {
		case []any:
			return e, nil
		case map[string]any:
			return []any{e}, nil
		}
		return nil, fmt.Errorf("%w: entry is %s, not a list", ErrNotWebhook, kindOf(raw))
	}
	if _, ok := root["value"].(map[string]any); ok {
		return []any{map[string]any{"changes": []any{root}}}, nil
	}
	return nil, fmt.Errorf("%w: no \"entry\" list", ErrNotWebhook)
}

func parseEntry(i int, entry map[string]any, object string, payloadWarnings []string) ([]Event, []error) {
	var changes []any
	switch c := entry["changes"].(type) {
	case []any:
		changes = c
	case map[string]any:
		changes = []any{c}
	case nil:
		return nil, []error{&ChangeError{Entry: i, Change: -1, Err: errors.New(`entry has no "changes" list`)}}
	default:
		return nil, []error{&ChangeError{Entry: i, Change: -1, Err: fmt.Errorf("changes is %s, not a list", kindOf(c))}}
	}
	base := Event{Object: object, WabaID: str(entry["id"])}
	base.Warnings = payloadWarnings
	base.Time = timeField(&base, "time", entry["time"])
	var events []Event
	var errs []error
	for j, raw := range changes {
		change, ok := raw.(map[string]any)
		if !ok {
			errs = append(errs, &ChangeError{Entry: i, Change: j, Err: fmt.Errorf("change is %s, not an object", kindOf(raw))})
			continue
		}
		ev := base
		ev.Warnings = slices.Clone(base.Warnings)
		evs, err := parseChange(ev, entry, change)
		if err != nil {
			errs = append(errs, &ChangeError{Entry: i, Change: j, Err: err})
			continue
		}
		events = append(events, evs...)
	}
	return events, errs
}

func parseChange(ev Event, entry, change map[string]any) ([]Event, error) {
	value, ok := change["value"].(map[string]any)
	if !ok {
		if change["value"] == nil {
			return nil, errors.New(`change has no "value" object`)
		}
		return nil, fmt.Errorf("value is %s, not an object", kindOf(change["value"]))
	}
	ev.Value = value
	ev.Field = fieldOf(&ev, entry, change, value)
	if ev.Field == "" {
		return nil, errors.New(`change has no "field" and its value matches no known field`)
	}
	ev.Event = str(value["event"])
	ev.PhoneNumber = firstString(value, "phone_number", "display_phone_number")
	if fill, ok := fillers[ev.Field]; ok {
		return fill(ev), nil
	}
	return []Event{ev}, nil
}

// fieldOf finds the change's field where Meta put it: on the change, or (in
// some of its examples) on the entry or inside the value. A quality update
// filed under message_template_status_update, as one of Meta's examples is,
// is recognised by its shape.
func fieldOf(ev *Event, entry, change, value map[string]any) string {
	field := str(change["field"])
	if field == "" {
		if f := str(entry["field"]); f != "" {
			field = f
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("field %q found on the entry, not on the change", f))
		} else if f := str(value["field"]); f != "" {
			field = f
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("field %q found inside the value, not on the change", f))
		}
	}
	if field == "" {
		if f := fieldFromShape(value); f != "" {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("change has no field; %q inferred from its keys", f))
			return f
		}
	}
	if field == "message_template_status_update" && value["new_quality_score"] != nil && value["event"] == nil {
		ev.Warnings = append(ev.Warnings, "quality update filed under message_template_status_update; read as message_template_quality_update")
		return "message_template_quality_update"
	}
	return field
}

func fieldFromShape(v map[string]any) string {
	switch {
	case v["new_quality_score"] != nil:
		return "message_template_quality_update"
	case v["restriction_info"] != nil, v["ban_info"] != nil, v["violation_info"] != nil:
		return "account_update"
	case v["message_template_id"] != nil && v["event"] != nil:
		return "message_template_status_update"
	case v["new_category"] != nil:
		return "template_category_update"
	case v["alert_type"] != nil, v["alert_info"] != nil:
		return "account_alerts"
	case v["messaging_product"] != nil:
		return "messages"
	}
	return ""
}

// normalize turns json.Number into int (or float64 where it is not a whole
// number that fits), so rules compare value.some_key with plain numbers.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return int(i)
		}
		if f, err := strconv.ParseFloat(string(t), 64); err == nil {
			return f
		}
		return string(t)
	}
	return v
}

// str reads a scalar as text: Meta sends ids as numbers or strings.
func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := str(m[k]); s != "" {
			return s
		}
	}
	return ""
}

// integer reads a count sent as a number or a numeric string.
func integer(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int(t), true
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			return i, true
		}
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(truncate(s, 64))
	}
	return kindOf(v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
