package event_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// wholeRefusals are the errors that refuse a body whole.
var wholeRefusals = []error{event.ErrNotJSON, event.ErrNotWebhook, event.ErrWrongObject, event.ErrTooManyChanges}

func refusal(err error) error {
	for _, r := range wholeRefusals {
		if errors.Is(err, r) {
			return r
		}
	}
	return nil
}

// FuzzParse feeds the parser mutations of every fixture and of bodies with
// odd times and shapes. It must never panic; a body is refused whole by
// Parse exactly when Check refuses it, for the same reason; a body with
// neither events nor errors says in a warning that it held nothing; the
// changes are counted as the decoded tree holds them; and every event it
// returns encodes as JSON (the form parse prints and the store keeps) and
// has a fingerprint.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(webhooksDir, "*.json"))
	bad, _ := filepath.Glob("../../testdata/bad/*")
	for _, file := range append(files, bad...) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, key := range timeKeys {
		for _, raw := range []string{`1764597600000`, `"1764597600000"`, `3153600000000000`, `-1`, `1e300`} {
			f.Add(fmt.Appendf(nil, key.payload, raw))
		}
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[]}`))
	f.Add([]byte(`{"entry":[{"changes":[]},{"changes":{"value":{"statuses":[1,2]}}}],"entry":[{"changes":[7,{"value":{"messages":[{}]}}]}]}`))
	f.Add([]byte(`{"field":"messages","value":{"statuses":[{},{}],"statuses":[{}],"\u006d\u0065ssages":[{}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pl, err := event.Parser{}.Parse(body)
		checkErr := event.Parser{}.Check(body)
		if got, want := refusal(err), refusal(checkErr); !errors.Is(got, want) || !errors.Is(want, got) {
			t.Fatalf("Parse refused with %v (%v), Check with %v (%v)", got, err, want, checkErr)
		}
		if refusal(err) != nil && pl.Events != nil {
			t.Fatalf("refused whole (%v) yet %d events", err, len(pl.Events))
		}
		if len(pl.Events) == 0 && err == nil && !strings.Contains(strings.Join(pl.Warnings, "\n"), "nothing to route") {
			t.Fatalf("no events, no error and no warning for %q", body)
		}
		if refusal(checkErr) == nil {
			n := treeCount(t, body)
			if len(pl.Events) > n {
				t.Fatalf("%d events from %d counted changes", len(pl.Events), n)
			}
			if err := (event.Parser{MaxChanges: n}).Check(body); err != nil {
				t.Fatalf("%d changes in the tree, yet a bound of %d refuses: %v", n, n, err)
			}
			if n > 1 {
				if err := (event.Parser{MaxChanges: n - 1}).Check(body); !errors.Is(err, event.ErrTooManyChanges) {
					t.Fatalf("%d changes in the tree, yet a bound of %d gives %v", n, n-1, err)
				}
			}
		}
		for _, ev := range pl.Events {
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("event does not encode: %v", err)
			}
			if _, err := event.Fingerprint(ev); err != nil {
				t.Fatalf("event has no fingerprint: %v", err)
			}
		}
	})
}

// treeCount counts the changes of an accepted body from its decoded tree,
// independently of the parser's scanner: a change once, or once per status
// and inbound message its value lists; a change that is not an object once.
func treeCount(t *testing.T, body []byte) int {
	var root map[string]any
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("Check accepted a body that does not decode to an object: %v", err)
	}
	changeValue := func(v any) int {
		m, ok := v.(map[string]any)
		if !ok {
			return 1
		}
		st, _ := m["statuses"].([]any)
		ms, _ := m["messages"].([]any)
		es, _ := m["message_echoes"].([]any)
		return max(1, len(st)+len(ms)+len(es))
	}
	change := func(c any) int {
		m, ok := c.(map[string]any)
		if !ok {
			return 1
		}
		if v, ok := m["value"]; ok {
			return changeValue(v)
		}
		return 1
	}
	entry := func(e any) int {
		m, _ := e.(map[string]any)
		switch cs := m["changes"].(type) {
		case []any:
			n := 0
			for _, c := range cs {
				n += change(c)
			}
			return n
		case map[string]any:
			return change(cs)
		}
		return 0
	}
	switch e := root["entry"].(type) {
	case []any:
		n := 0
		for _, x := range e {
			n += entry(x)
		}
		return n
	case map[string]any:
		return entry(e)
	}
	return changeValue(root["value"])
}
