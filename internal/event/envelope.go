package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DefaultMaxChanges bounds the changes of one webhook when a Parser names
// no bound. Meta batches at most 1,000 updates per webhook, so ten times
// that is never reached by Meta and still refuses a body built to exhaust
// memory (100,000 changes fit in 3.4 MB).
const DefaultMaxChanges = 10_000

// ErrTooManyChanges classifies a payload refused whole because it holds
// more changes than the parser's bound.
var ErrTooManyChanges = errors.New("payload has too many changes")

// Parser parses webhook bodies within a bound on their changes.
type Parser struct {
	// MaxChanges is the most changes one body may hold; a messages change
	// counts once per status and inbound message in it, and a
	// message_echoes change once per echo, as each becomes an event. Not
	// positive means DefaultMaxChanges.
	MaxChanges int
}

// Payload is what one body holds.
type Payload struct {
	// Events are the body's events, in order.
	Events []Event
	// Warnings are about the payload as a whole, such as it holding no
	// changes at all; each event carries those that concern it.
	Warnings []string
}

func (p Parser) maxChanges() int {
	if p.MaxChanges <= 0 {
		return DefaultMaxChanges
	}
	return p.MaxChanges
}

// Check refuses a body as Parse would refuse it whole (an error wrapping
// ErrNotJSON, ErrNotWebhook, ErrWrongObject or ErrTooManyChanges), without
// decoding its changes: it reads the envelope and counts the changes in
// place, so what it costs does not grow with what the changes hold.
func (p Parser) Check(body []byte) error {
	_, err := p.survey(body)
	return err
}

// envelope is what survey learns of a body before its changes are decoded.
type envelope struct {
	object   string
	warnings []string
	changes  int
}

// survey validates the body, reads its object and counts its changes in one
// pass over the bytes, building nothing per change. The count follows the
// tree the generic decoder would build: a repeated key counts as its last
// value does, and a change that becomes no event (not an object) counts once.
func (p Parser) survey(body []byte) (envelope, error) {
	var env envelope
	if !json.Valid(body) {
		return env, notJSON(body)
	}
	s := scanner{b: body}
	switch c := s.peek(); c {
	case '{':
	default:
		return env, fmt.Errorf("%w: top level is %s, not an object", ErrNotWebhook, kindOfByte(c))
	}
	var object, entry, value []byte
	var entryChanges, bareChanges int
	var entryShape error
	s.members(func(key []byte) {
		switch {
		case s.keyIs(key, "object"):
			object = s.value()
		case s.keyIs(key, "entry"):
			start := s.i
			entryChanges, entryShape = s.entries()
			entry = body[start:s.i]
		case s.keyIs(key, "value"):
			start := s.i
			bareChanges = s.changeValue()
			value = body[start:s.i]
		default:
			s.value()
		}
	})

	var err error
	if env.object, err = checkObject(object, &env.warnings); err != nil {
		return env, err
	}
	switch {
	case entry != nil:
		if entryShape != nil {
			return env, entryShape
		}
		env.changes = entryChanges
	case len(value) > 0 && value[0] == '{':
		env.warnings = append(env.warnings, "payload is a bare change without the entry envelope; waba_id and time are unknown")
		env.changes = bareChanges
	default:
		return env, fmt.Errorf("%w: no \"entry\" list", ErrNotWebhook)
	}
	if max := p.maxChanges(); env.changes > max {
		return env, fmt.Errorf("%w: %d changes, more than the limit of %d", ErrTooManyChanges, env.changes, max)
	}
	return env, nil
}

// notJSON says why body is not one JSON value, in the decoder's words.
func notJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	return fmt.Errorf("%w: data after the top-level value", ErrNotJSON)
}

// checkObject accepts the object Meta documents, the spelling with a space
// that some of its examples use, and a missing object (several of Meta's own
// examples omit it); anything else is another product's webhook. raw is the
// object's JSON value, nil when the key is absent.
func checkObject(raw []byte, warnings *[]string) (string, error) {
	if raw == nil {
		*warnings = append(*warnings, `payload has no "object"; assumed whatsapp_business_account`)
		return ObjectWABA, nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%w: object is %s, not a string", ErrWrongObject, kindOfByte(raw[0]))
	}
	switch s {
	case ObjectWABA:
		return s, nil
	case "whatsapp_business account", "whatsapp business account", "WHATSAPP_BUSINESS_ACCOUNT":
		*warnings = append(*warnings, fmt.Sprintf("object spelled %q; read as whatsapp_business_account", s))
		return ObjectWABA, nil
	}
	return "", fmt.Errorf("%w: object is %q, want %q", ErrWrongObject, truncate(s, 64), ObjectWABA)
}

// scanner walks a body that json.Valid accepted, so it checks no syntax:
// it only finds where values start and end.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the first byte of the next value.
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str skips the string at s.i and returns it with its quotes.
func (s *scanner) str() []byte {
	start := s.i
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			s.i = j + 1
			return s.b[start:s.i]
		}
	}
	s.i = len(s.b)
	return s.b[start:]
}

// value skips the next value and returns its bytes.
func (s *scanner) value() []byte {
	s.space()
	start := s.i
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // a number, true, false or null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return s.b[start:s.i]
			}
			s.i++
		}
	}
	return s.b[start:s.i]
}

// members calls fn with each key of the object at s.i, the scanner then
// standing at the key's value, which fn must consume.
func (s *scanner) members(fn func(key []byte)) {
	s.space()
	s.i++ // {
	for {
		switch s.peek() {
		case '}':
			s.i++
			return
		case ',':
			s.i++
			s.space()
		}
		key := s.str()
		s.space()
		s.i++ // :
		s.space()
		fn(key)
	}
}

// elements calls fn for each element of the list at s.i, the scanner then
// standing at the element, which fn must consume.
func (s *scanner) elements(fn func()) {
	s.space()
	s.i++ // [
	for {
		switch s.peek() {
		case ']':
			s.i++
			return
		case ',':
			s.i++
			s.space()
		}
		fn()
	}
}

// keyIs compares a quoted key with name as the decoder would, escapes
// included.
func (s *scanner) keyIs(quoted []byte, name string) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return len(quoted) == len(name)+2 && string(quoted[1:len(quoted)-1]) == name
	}
	var k string
	return json.Unmarshal(quoted, &k) == nil && k == name
}

// entries counts the changes of the entry value at s.i: a list of entries
// or, as some senders write it, one entry object.
func (s *scanner) entries() (int, error) {
	switch c := s.peek(); c {
	case '[':
		n := 0
		s.elements(func() {
			if s.peek() == '{' {
				n += s.entry()
				return
			}
			s.value() // an entry that is not an object has no changes
		})
		return n, nil
	case '{':
		return s.entry(), nil
	default:
		s.value()
		return 0, fmt.Errorf("%w: entry is %s, not a list", ErrNotWebhook, kindOfByte(c))
	}
}

// entry counts the changes of the entry object at s.i.
func (s *scanner) entry() int {
	n := 0
	s.members(func(key []byte) {
		if !s.keyIs(key, "changes") {
			s.value()
			return
		}
		n = 0 // a repeated key counts as its last value
		switch s.peek() {
		case '[':
			s.elements(func() { n += s.change() })
		case '{':
			n = s.change()
		default:
			s.value()
		}
	})
	return n
}

// change counts the change at s.i: once, or once per status, inbound
// message and message echo when its value lists them.
func (s *scanner) change() int {
	if s.peek() != '{' {
		s.value()
		return 1
	}
	n := 1
	s.members(func(key []byte) {
		if s.keyIs(key, "value") {
			n = s.changeValue()
			return
		}
		s.value()
	})
	return n
}

// changeValue counts the change whose value is at s.i.
func (s *scanner) changeValue() int {
	if s.peek() != '{' {
		s.value()
		return 1
	}
	var statuses, messages, echoes int
	s.members(func(key []byte) {
		switch {
		case s.keyIs(key, "statuses"):
			statuses = s.count()
		case s.keyIs(key, "messages"):
			messages = s.count()
		case s.keyIs(key, "message_echoes"):
			echoes = s.count()
		default:
			s.value()
		}
	})
	return max(1, statuses+messages+echoes)
}

// count is the length of the list at s.i, 0 for another value.
func (s *scanner) count() int {
	if s.peek() != '[' {
		s.value()
		return 0
	}
	n := 0
	s.elements(func() {
		s.value()
		n++
	})
	return n
}

// kindOfByte names a JSON value's kind by its first byte.
func kindOfByte(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
