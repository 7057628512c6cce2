package sinks

import (
	"encoding/json"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// TruncatedKey is the key a JSON document cut down by Fit gets, saying
// what was cut.
const TruncatedKey = "truncated"

// MaxNotificationJSON bounds the JSON document the webhook and log sinks
// write for one notification: 1 MiB, what common HTTP servers accept
// by default (nginx's client_max_body_size).
const MaxNotificationJSON = 1 << 20

// fitSteps are the ever smaller caps Fit tries, on the length of each
// string (in runes) and of each list.
var fitSteps = []struct{ runes, items int }{
	{16384, 1000}, {4096, 200}, {1024, 50}, {256, 10}, {64, 3},
}

// Fit returns doc if its JSON takes at most budget bytes, or else a cut
// copy of it that does, and whether it cut anything. It cuts in this
// order, stopping as soon as the JSON fits: the keys at the drop paths
// (each a path of keys from doc, such as ["event", "value"]) are
// replaced by a note; every string and list is cut to a shrinking
// length; and last only the top-level strings, numbers and booleans are
// kept, cut to 64 runes. The cut copy carries TruncatedKey set to why
// (the destination and its limit); doc itself is never changed.
func Fit(doc map[string]any, budget int, why string, drop ...[]string) (map[string]any, bool) {
	if size(doc) <= budget {
		return doc, false
	}
	note := fmt.Sprintf("cut to fit %s", why)
	cut := deepCopy(doc).(map[string]any)
	cut[TruncatedKey] = note
	for _, path := range drop {
		dropPath(cut, path, "["+note+"]")
	}
	if size(cut) <= budget {
		return cut, true
	}
	for _, step := range fitSteps {
		c := capped(cut, step.runes, step.items).(map[string]any)
		c[TruncatedKey] = note
		if size(c) <= budget {
			return c, true
		}
	}
	flat := map[string]any{}
	for k, v := range cut {
		switch t := v.(type) {
		case string:
			flat[k] = Truncate(t, 64)
		case bool, float64, int, json.Number, nil:
			flat[k] = t
		}
	}
	flat[TruncatedKey] = note
	return flat, true
}

func size(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return int(^uint(0) >> 1)
	}
	return len(b)
}

// dropPath replaces the value at path in m, if there is one, by note.
func dropPath(m map[string]any, path []string, note string) {
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return
		}
		if i == len(path)-1 {
			m[k] = note
			return
		}
		if m, ok = v.(map[string]any); !ok {
			return
		}
	}
}

// capped copies v with every string cut to runes and every list to
// items, the last kept item saying how many were cut.
func capped(v any, runes, items int) any {
	switch t := v.(type) {
	case string:
		return Truncate(t, runes)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = capped(x, runes, items)
		}
		return m
	case []any:
		n := len(t)
		if n > items {
			n = items
		}
		l := make([]any, 0, n+1)
		for _, x := range t[:n] {
			l = append(l, capped(x, runes, items))
		}
		if len(t) > n {
			l = append(l, fmt.Sprintf("[%d more cut]", len(t)-n))
		}
		return l
	}
	return v
}

// NotificationJSON is the JSON the webhook and log sinks write for n:
// the notification with its title free of bidi controls (see StripBidi)
// and what a person reads of it under "message" (see Message),
// at most MaxNotificationJSON bytes. A larger one loses its event's raw
// value first, then the ends of its longest strings and lists (see Fit),
// and says so under "truncated".
func NotificationJSON(n notification.Notification) ([]byte, error) {
	n.Title = StripBidi(n.Title)
	b, err := json.Marshal(struct {
		notification.Notification
		Message Message `json:"message"`
	}{n, MessageOf(n)})
	if err != nil {
		return nil, fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	if len(b) <= MaxNotificationJSON {
		return b, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decode notification %s to cut it: %w", n.ID, err)
	}
	doc, _ = Fit(doc, MaxNotificationJSON, "the 1 MiB limit of a notification", []string{"event", "value"})
	b, err = json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode cut notification %s: %w", n.ID, err)
	}
	return b, nil
}
