package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/wabarouter/wabarouter/internal/event"
)

// placeholder marks where an entry id goes in a template; the number is
// the entry's index in the payload.
const placeholder = "\"wabaload-entry-%d\""

// template is one fixture made ready to be sent many times: its JSON split
// at the entry ids, so a unique id can be written into every entry without
// decoding the payload again.
type template struct {
	name string
	// parts has entries+1 pieces; entry i's id goes between parts[i] and
	// parts[i+1].
	parts   [][]byte
	entries int
	// notifications is how many events the router makes of one copy, so
	// how many notifications the catch-all rule queues for the fake sink.
	notifications int
}

// render writes the payload with entry i carrying id first+i (a quoted
// numeric string, as Meta sends ids).
func (t *template) render(dst []byte, first int64) []byte {
	dst = append(dst, t.parts[0]...)
	for i := range t.entries {
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, first+int64(i), 10)
		dst = append(dst, '"')
		dst = append(dst, t.parts[i+1]...)
	}
	return dst
}

// loadTemplates reads path (a .json file or a folder of them). A payload
// that is a bare change (no entry envelope, as some of Meta's guides print
// them) is wrapped in one entry so it can carry an id too. Payloads the
// router would refuse, or whose events do not all carry an id the tool
// wrote, are skipped with the reason.
func loadTemplates(path string) ([]*template, []string, error) {
	files := []string{path}
	if st, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if st.IsDir() {
		files, err = filepath.Glob(filepath.Join(path, "*.json"))
		if err != nil {
			return nil, nil, err
		}
		slices.Sort(files)
	}
	var out []*template
	var skipped []string
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		t, err := newTemplate(filepath.Base(f), body)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", filepath.Base(f), err))
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, skipped, fmt.Errorf("no usable payloads under %s", path)
	}
	return out, skipped, nil
}

func newTemplate(name string, body []byte) (*template, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var entries []map[string]any
	switch e := root["entry"].(type) {
	case []any:
		for _, raw := range e {
			if m, ok := raw.(map[string]any); ok {
				entries = append(entries, m)
			}
		}
	case map[string]any:
		entries = []map[string]any{e}
	case nil:
		if _, ok := root["value"].(map[string]any); !ok {
			return nil, errors.New("neither an entry list nor a bare change")
		}
		entry := map[string]any{"time": json.Number("1764597600"), "changes": []any{root}}
		root = map[string]any{"object": event.ObjectWABA, "entry": []any{entry}}
		entries = []map[string]any{entry}
	}
	if len(entries) == 0 {
		return nil, errors.New("no entry objects")
	}
	for i, e := range entries {
		e["id"] = fmt.Sprintf("wabaload-entry-%d", i)
	}
	raw, err := json.Marshal(root)
	if err != nil {
		return nil, err
	}
	t := &template{name: name, entries: len(entries)}
	rest := raw
	for i := range entries {
		mark := []byte(fmt.Sprintf(placeholder, i))
		before, after, ok := bytes.Cut(rest, mark)
		if !ok || bytes.Contains(after, mark) {
			return nil, fmt.Errorf("entry %d id not found exactly once after rewriting", i)
		}
		t.parts = append(t.parts, before)
		rest = after
	}
	t.parts = append(t.parts, rest)

	// Check what the router will make of it: every event must name one of
	// the ids written, or its notification could not be matched.
	const probe = 900000000000000
	evs, err := event.Parse(t.render(nil, probe))
	if len(evs) == 0 {
		if err == nil {
			err = errors.New("no events")
		}
		return nil, fmt.Errorf("router would make no events: %w", err)
	}
	for _, ev := range evs {
		id, err := strconv.ParseInt(ev.WabaID, 10, 64)
		if err != nil || id < probe || id >= probe+int64(t.entries) {
			return nil, fmt.Errorf("an event's waba_id %q is not an id the tool wrote", ev.WabaID)
		}
	}
	t.notifications = len(evs)
	return t, nil
}
