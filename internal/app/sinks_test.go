package app

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestBuildSinksWebhookHeaders: the webhook sink gets its headers from the
// config's Secrets, and a sink that cannot be built is reported without
// their values.
func TestBuildSinksWebhookHeaders(t *testing.T) {
	const token = "hdr-tok-77e1b0d2"
	cases := []struct {
		name, url string
		headers   map[string]config.Secret
		wantErr   string // "" means the sink builds
	}{
		{"good", "https://example.com/h", map[string]config.Secret{"Authorization": "Bearer " + token}, ""},
		{"bad url", "ftp://example.com/h", map[string]config.Secret{"Authorization": "Bearer " + token}, `c.yaml:3:5: sink "hook": webhook sink: url ftp://example.com/<redacted> must be an absolute http(s) URL`},
		{"bad value", "https://example.com/h", map[string]config.Secret{"Authorization": "Bearer " + token + "\n"}, `sink "hook": webhook sink: header "Authorization" has a value with a line break`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &config.Config{Path: "c.yaml", Sinks: []config.Sink{{Name: "hook", Type: "webhook", Line: 3, Column: 5,
				Settings: map[string]any{"url": c.url, "headers": c.headers}}}}
			built, err := BuildSinks(cfg)
			if c.wantErr == "" {
				if err != nil || built["hook"] == nil {
					t.Fatalf("built %v, error %v", built, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got %v; want an error containing %q", err, c.wantErr)
			}
			sinkstest.AssertNoSecret(t, token, err.Error())
		})
	}
}

// TestSinkPoliciesFromCapabilities: the transitions routing skips for a
// sink are the ones its type says it does not take; a Slack bot takes
// every one, an incoming webhook no repeats.
func TestSinkPoliciesFromCapabilities(t *testing.T) {
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(`server: {verify_token: v, app_secrets: [s]}
sinks:
  - {name: bot, type: slack, token: xoxb-1, channel: C1, min_severity: warning}
  - {name: hook, type: slack, webhook_url: https://hooks.slack.com/services/T/B/x}
  - {name: pager, type: pagerduty, routing_key: k, min_severity: error}
  - {name: mail, type: email, host: h, from: a@example.com, to: b@example.com}
  - {name: tickets, type: webhook, url: https://t.example.com}
  - {name: audit, type: log}
`))
	if err != nil {
		t.Fatal(err)
	}
	upd, rem := notification.Updated, notification.Reminded
	want := map[string]router.SinkPolicy{
		"bot":     {MinSeverity: notification.Warning},
		"hook":    {Skips: []notification.Transition{upd}},
		"pager":   {MinSeverity: notification.Error, Skips: []notification.Transition{upd, rem}},
		"mail":    {Skips: []notification.Transition{upd}},
		"tickets": {},
		"audit":   {},
	}
	got := SinkPolicies(cfg)
	if len(got) != len(want) {
		t.Fatalf("policies for %d sinks, want %d: %+v", len(got), len(want), got)
	}
	for name, w := range want {
		if g := got[name]; g.MinSeverity != w.MinSeverity || !slices.Equal(g.Skips, w.Skips) {
			t.Errorf("%s: %+v, want %+v", name, g, w)
		}
	}
}
