package messagetest

import (
	"path/filepath"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// TestEveryFixtureMakesANamedNotification: each fixture file yields at
// least one notification, every account in it is named by the directory,
// and the samples hold each kind a sink must render.
func TestEveryFixtureMakesANamedNotification(t *testing.T) {
	fs := Fixtures(t)
	files, err := filepath.Glob("../../testdata/webhooks/*.json")
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]bool{}
	kinds := map[string]bool{}
	for _, f := range fs {
		made[filepath.Base(f.File)] = true
		n := f.Notification
		if n.Event.WabaID != "" && n.Event.Account.Name == "" {
			t.Errorf("%s: account %s is not named by testdata/accounts.yaml", f.Name, n.Event.WabaID)
		}
		switch {
		case n.Action == notification.Change:
			kinds["change"] = true
		case n.Incident != nil:
			kinds[string(n.Incident.Transition)] = true
		}
	}
	for _, f := range files {
		if !made[filepath.Base(f)] {
			t.Errorf("%s made no notification", f)
		}
	}
	for _, k := range []string{"change", "opened", "updated", "resolved"} {
		if !kinds[k] {
			t.Errorf("no sample of kind %s; kinds %v", k, kinds)
		}
	}
}
