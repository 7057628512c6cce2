package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// TestDryRunRunsServesStages: a dry run refuses what intake refuses, sees a
// redelivery as one, and follows an incident from its trigger to its
// resolve past min_severity, as serve does.
func TestDryRunRunsServesStages(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "c.yaml"), []byte(`server:
  verify_token: v
  app_secrets: [s]
sinks:
  - {name: pager, type: log, min_severity: error}
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.ParseFile("r.yaml", []byte(`rules:
  - name: ban
    when: event == "DISABLED_UPDATE" && ban_state == "DISABLE"
    severity: critical
    to: [pager]
    dedup: {key: '{{.waba_id}}/ban'}
  - name: lifted
    when: event == "DISABLED_UPDATE" && ban_state == "REINSTATE"
    action: resolve
    to: [pager]
    dedup: {key: '{{.waba_id}}/ban'}
`), cfg.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	dry, err := NewDryRun(context.Background(), cfg, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dry.Close()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	outcome := func(res DryResult) router.Outcome {
		t.Helper()
		if res.Refused != nil || res.Result.Err != nil || len(res.Result.Decisions) != 1 {
			t.Fatalf("result %+v, want one decision", res)
		}
		d := res.Result.Decisions[0]
		if d.Redelivery {
			return "redelivery"
		}
		if len(d.Notifications) != 1 {
			t.Fatalf("decision %+v, want one notification", d)
		}
		return d.Notifications[0].Outcome
	}
	steps := []struct {
		name, file string
		want       router.Outcome
	}{
		{"the ban", "seed_disabled_update_disable.json", router.Queued},
		{"the same ban again", "seed_disabled_update_disable.json", "redelivery"},
		{"its lift, though info, reaches the pager that heard of the ban", "seed_disabled_update_reinstate.json", router.Queued},
	}
	for _, s := range steps {
		res, err := dry.Route(context.Background(), read(s.file))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := outcome(res); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
	res, err := dry.Route(context.Background(), []byte(`{"object":"page","entry":[]}`))
	if err != nil || !errors.Is(res.Refused, event.ErrWrongObject) {
		t.Errorf("another product's webhook: %+v, %v; want it refused as intake would", res, err)
	}
}
