package event_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// FuzzParse feeds the parser mutations of every fixture. It must never panic,
// must return either events or an error, and every event it returns must
// encode as JSON (the form parse prints and the store keeps).
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
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := event.Parse(body)
		if len(evs) == 0 && err == nil {
			t.Fatalf("no events and no error for %q", body)
		}
		for _, ev := range evs {
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("event does not encode: %v", err)
			}
		}
	})
}
