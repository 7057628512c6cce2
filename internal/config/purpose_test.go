package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParseForPurpose reads each config for serve and for judging rules
// (and for one sink), comparing every error and warning line: a rule
// author's read lets go exactly what needs production secrets, and judges
// the rest as serve does.
func TestParseForPurpose(t *testing.T) {
	t.Setenv("WR_SET", "https://hooks.example.com/x")
	const sinks = `sinks:
  - name: chat
    type: slack
    webhook_url: ${WR_UNSET_SLACK}
  - name: tickets
    type: webhook
    url: https://tickets.example.com/
    headers: {Authorization: "Bearer ${WR_UNSET_TOKEN}"}
  - name: pager
    type: pagerduty
    routing_key: ${WR_UNSET_PD}
  - name: mail
    type: email
    host: smtp.example.com
    from: a@example.com
    to: ["${WR_UNSET_TO}"]
`
	tests := []struct {
		name       string
		yaml       string
		opts       Options
		wantErrs   []string
		wantWarns  []string
		wantUnset  map[string][]string // sink → its unset variables
		wantServer bool                // the read yields a config with a verify token
	}{
		{
			name:     "no server section, for serve",
			yaml:     "sinks: []\n",
			opts:     Options{Purpose: ForServe},
			wantErrs: []string{"c.yaml:1:1: server.verify_token is required", "c.yaml:1:1: server.app_secrets is required (at least one secret)"},
		},
		{
			name:      "no server section, for rules",
			yaml:      "sinks: []\n",
			opts:      Options{Purpose: ForRules},
			wantWarns: []string{"c.yaml: warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets"},
		},
		{
			name: "server without its secrets, for rules",
			yaml: "server:\n  listen: 127.0.0.1:9000\n",
			opts: Options{Purpose: ForRules},
			wantWarns: []string{
				"c.yaml:2:3: warning: server.verify_token is missing; it is not needed here, but serve refuses to start without it",
				"c.yaml:2:3: warning: server.app_secrets is missing; it is not needed here, but serve refuses to start without it",
			},
		},
		{
			name: "server secrets from unset variables, for serve",
			yaml: "server:\n  verify_token: ${WR_UNSET_TOKEN}\n  app_secrets: [\"${WR_UNSET_SECRET}\"]\n",
			opts: Options{Purpose: ForServe},
			wantErrs: []string{
				"c.yaml:2:17: environment variable WR_UNSET_TOKEN is not set",
				"c.yaml:3:17: environment variable WR_UNSET_SECRET is not set",
			},
		},
		{
			name: "server secrets from unset variables, for rules",
			yaml: "server:\n  verify_token: ${WR_UNSET_TOKEN}\n  app_secrets: [\"${WR_UNSET_SECRET}\"]\n",
			opts: Options{Purpose: ForRules},
			wantWarns: []string{
				"c.yaml:2:17: warning: environment variable WR_UNSET_TOKEN is not set; it is not needed here, but serve refuses to start without it",
				"c.yaml:3:17: warning: environment variable WR_UNSET_SECRET is not set; it is not needed here, but serve refuses to start without it",
			},
		},
		{
			name:       "a set variable is used, for rules",
			yaml:       "server:\n  verify_token: ${WR_SET}\n  app_secrets: [a]\n",
			opts:       Options{Purpose: ForRules},
			wantServer: true,
		},
		{
			name: "sinks with unset variables, for serve",
			yaml: serverYAML + sinks,
			opts: Options{Purpose: ForServe},
			wantErrs: []string{
				"c.yaml:7:18: environment variable WR_UNSET_SLACK is not set",
				"c.yaml:11:30: environment variable WR_UNSET_TOKEN is not set",
				"c.yaml:14:18: environment variable WR_UNSET_PD is not set",
				"c.yaml:19:10: environment variable WR_UNSET_TO is not set",
			},
		},
		{
			name: "sinks with unset variables, for rules",
			yaml: serverYAML + sinks,
			opts: Options{Purpose: ForRules},
			wantWarns: []string{
				`c.yaml:7:18: warning: environment variable WR_UNSET_SLACK is not set; sink "chat" was not built, so its settings were not checked`,
				`c.yaml:11:30: warning: environment variable WR_UNSET_TOKEN is not set; sink "tickets" was not built, so its settings were not checked`,
				`c.yaml:14:18: warning: environment variable WR_UNSET_PD is not set; sink "pager" was not built, so its settings were not checked`,
				`c.yaml:19:10: warning: environment variable WR_UNSET_TO is not set; sink "mail" was not built, so its settings were not checked`,
			},
			wantUnset:  map[string][]string{"chat": {"WR_UNSET_SLACK"}, "tickets": {"WR_UNSET_TOKEN"}, "pager": {"WR_UNSET_PD"}, "mail": {"WR_UNSET_TO"}},
			wantServer: true,
		},
		{
			name: "only the tested sink must be complete",
			yaml: sinks,
			opts: Options{Purpose: ForSink, Sink: "pager"},
			wantErrs: []string{
				"c.yaml:11:18: environment variable WR_UNSET_PD is not set",
			},
			wantWarns: []string{
				"c.yaml: warning: no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets",
				`c.yaml:4:18: warning: environment variable WR_UNSET_SLACK is not set; sink "chat" was not built, so its settings were not checked`,
				`c.yaml:8:30: warning: environment variable WR_UNSET_TOKEN is not set; sink "tickets" was not built, so its settings were not checked`,
				`c.yaml:16:10: warning: environment variable WR_UNSET_TO is not set; sink "mail" was not built, so its settings were not checked`,
			},
		},
		{
			name: "everything else is still judged, for rules",
			yaml: `server:
  listen: nowhere
  verify_token: ${WR_UNSET_TOKEN}
rules: ["${WR_UNSET_RULES}/*.yaml"]
sinks:
  - name: chat
    type: slack
    webhook_url: ${WR_UNSET_SLACK}
    min_severity: loud
    chanel: "#x"
store:
  path: ${WR_UNSET_STORE}
`,
			opts: Options{Purpose: ForRules},
			wantErrs: []string{
				`c.yaml:2:11: listen "nowhere" must be host:port with a numeric port, for example 127.0.0.1:8080`,
				"c.yaml:4:9: environment variable WR_UNSET_RULES is not set",
				`c.yaml:9:19: sink "chat": min_severity: unknown severity "loud"; want one of critical, error, warning, info`,
				`c.yaml:10:5: sink "chat": unknown key "chanel"; did you mean "channel"?`,
				"c.yaml:12:9: environment variable WR_UNSET_STORE is not set",
			},
			wantWarns: []string{
				"c.yaml:2:3: warning: server.app_secrets is missing; it is not needed here, but serve refuses to start without it",
				"c.yaml:3:17: warning: environment variable WR_UNSET_TOKEN is not set; it is not needed here, but serve refuses to start without it",
				`c.yaml:8:18: warning: environment variable WR_UNSET_SLACK is not set; sink "chat" was not built, so its settings were not checked`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns, err := ParseFor("c.yaml", []byte(tt.yaml), tt.opts)
			var gotErrs []string
			if err != nil {
				gotErrs = strings.Split(err.Error(), "\n")
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("err is not an *Error: %v", err)
				}
			}
			slices.Sort(gotErrs)
			wantErrs := slices.Sorted(slices.Values(tt.wantErrs))
			if !slices.Equal(gotErrs, wantErrs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(gotErrs, "\n"), strings.Join(wantErrs, "\n"))
			}
			var gotWarns []string
			for _, w := range warns {
				gotWarns = append(gotWarns, w.String())
			}
			if !slices.Equal(gotWarns, tt.wantWarns) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(gotWarns, "\n"), strings.Join(tt.wantWarns, "\n"))
			}
			if err != nil {
				return
			}
			if got := cfg.Server.VerifyToken != ""; got != tt.wantServer {
				t.Errorf("verify token set = %v, want %v", got, tt.wantServer)
			}
			for _, s := range cfg.Sinks {
				if want := tt.wantUnset[s.Name]; !slices.Equal(s.Unset, want) || s.Complete() != (len(want) == 0) {
					t.Errorf("sink %s: Unset = %v, Complete = %v; want %v", s.Name, s.Unset, s.Complete(), want)
				}
			}
		})
	}
}

// TestParseForFS matches the rules globs in the given file system, as the
// config built into the binary needs, while the store stays on disk
// relative to the config's folder.
func TestParseForFS(t *testing.T) {
	fsys := fstest.MapFS{"rules.yaml": {Data: []byte("rules: []\n")}, "more/a.yaml": {Data: []byte("rules: []\n")}}
	cfg, _, err := ParseFor("embedded.yaml", []byte(serverYAML+"rules: [rules.yaml, more/*.yaml]\n"), Options{Purpose: ForServe, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.RuleFiles, ","); got != "rules.yaml,more/a.yaml" || cfg.FS == nil {
		t.Errorf("RuleFiles = %s (FS %v), want rules.yaml,more/a.yaml from the FS", got, cfg.FS)
	}
	if want := filepath.Join("data", "wabarouter.db"); cfg.Store.Path != want {
		t.Errorf("store path %q, want %q", cfg.Store.Path, want)
	}
	// A glob that would match on disk does not match in the FS.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk.yaml"), []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = ParseFor(filepath.Join(dir, "c.yaml"), []byte(serverYAML+"rules: [disk.yaml]\n"), Options{FS: fsys})
	if err == nil || !strings.Contains(err.Error(), `"disk.yaml" matches no file`) {
		t.Errorf("err = %v, want disk.yaml to match no file in the FS", err)
	}
}
