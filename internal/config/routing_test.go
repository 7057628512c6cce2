package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
)

const serverYAML = "server:\n  verify_token: t\n  app_secrets: [s]\n"

func TestParseRouting(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"rules/a.yaml", "rules/b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("rules: []\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("WR_TEST_PD_KEY", "pd-routing-key-value")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg, err := Parse(cfgPath, []byte(serverYAML+`rules: [rules/*.yaml]
severity:
  account_update/ACCOUNT_VIOLATION: critical
  flows: warning
sinks:
  - name: oncall
    type: pagerduty
    routing_key: ${WR_TEST_PD_KEY}
    min_severity: error
  - name: legal
    type: email
    host: smtp.example.com
    from: router@example.com
    to: [a@example.com, b@example.com]
    ca_file: certs/ca.pem
  - name: hook
    type: webhook
    url: https://example.com/hook
    concurrency: 16
    include_customer_data: true
    headers: {X-Team: compliance}
  - name: local
    type: log
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := strings.Join(cfg.RuleFiles, ","); got != filepath.Join(dir, "rules/a.yaml")+","+filepath.Join(dir, "rules/b.yaml") {
		t.Errorf("RuleFiles = %s", got)
	}
	if cfg.Severity["account_update/ACCOUNT_VIOLATION"] != notification.Critical || cfg.Severity["flows"] != notification.Warning {
		t.Errorf("Severity = %v", cfg.Severity)
	}
	if got := strings.Join(cfg.SinkNames(), ","); got != "oncall,legal,hook,local" {
		t.Errorf("SinkNames = %s", got)
	}
	pd := cfg.Sinks[0]
	if pd.Secret("routing_key").Reveal() != "pd-routing-key-value" || pd.MinSeverity != notification.Error {
		t.Errorf("pagerduty sink = %+v", pd)
	}
	email := cfg.Sinks[1]
	if to := email.Settings["to"].([]string); len(to) != 2 || email.String("ca_file") != filepath.Join(dir, "certs/ca.pem") {
		t.Errorf("email sink = %+v", email)
	}
	if cfg.Sinks[2].Concurrency != 16 || cfg.Sinks[0].Concurrency != 0 {
		t.Errorf("concurrency = %d, %d; want 16 as set and 0 (the default) where unset", cfg.Sinks[2].Concurrency, cfg.Sinks[0].Concurrency)
	}
	if !cfg.Sinks[2].IncludeCustomerData || cfg.Sinks[0].IncludeCustomerData {
		t.Errorf("include_customer_data = %v, %v; want true as set and false (the default) where unset",
			cfg.Sinks[2].IncludeCustomerData, cfg.Sinks[0].IncludeCustomerData)
	}
	if h := cfg.Sinks[2].Headers(); h["X-Team"].Reveal() != "compliance" {
		t.Errorf("webhook headers = %v", h)
	}
}

func TestParseRoutingErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown sink type", "sinks:\n  - name: x\n    type: teams\n", []string{`c.yaml:6:11: sink "x": unknown type "teams"; known types: email, log, pagerduty, slack, webhook`}},
		{"unknown setting", "sinks:\n  - name: x\n    type: log\n    colour: red\n", []string{`c.yaml:7:5: sink "x": unknown key "colour"`}},
		{"missing name and required setting", "sinks:\n  - type: pagerduty\n", []string{`c.yaml:5:5: sinks[0]: name is required`}},
		{"pagerduty without key", "sinks:\n  - name: p\n    type: pagerduty\n", []string{`c.yaml:5:5: sink "p": routing_key is required for a pagerduty sink`}},
		{"slack both ways", "sinks:\n  - name: s\n    type: slack\n    webhook_url: https://hooks.slack.com/x\n    token: xoxb\n    channel: c\n", []string{`sink "s": set either webhook_url, or token and channel, not both`}},
		{"slack neither", "sinks:\n  - name: s\n    type: slack\n    channel: c\n", []string{`sink "s": a slack sink needs webhook_url, or token and channel`}},
		{"duplicate sink", "sinks:\n  - {name: a, type: log}\n  - {name: a, type: log}\n", []string{`c.yaml:6:5: sink "a" is defined twice (first at line 5)`}},
		{"bad min severity", "sinks:\n  - {name: a, type: log, min_severity: loud}\n", []string{`sink "a": min_severity: unknown severity "loud"`}},
		{"bad concurrency", "sinks:\n  - {name: a, type: log, concurrency: 0}\n  - {name: b, type: log, concurrency: lots}\n", []string{
			`c.yaml:5:39: sink "a": concurrency "0" must be a whole number from 1 to 256`,
			`c.yaml:6:39: sink "b": concurrency "lots" must be a whole number from 1 to 256`}},
		{"bad include_customer_data", "sinks:\n  - {name: a, type: log, include_customer_data: yes}\n", []string{
			`c.yaml:5:49: sink "a": include_customer_data "yes" must be true or false`}},
		{"bad severity map", "severity:\n  account_update: urgent\n  /x: info\n", []string{`c.yaml:5:19: severity "account_update": unknown severity "urgent"`, `c.yaml:6:3: severity: key "/x"`}},
		{"rules glob matches nothing", "rules: [nothing/*.yaml]\n", []string{`c.yaml:4:9: rules: "nothing/*.yaml" matches no file`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(serverYAML+tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want errors")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("errors:\n%v\nwant one containing %q", err, want)
				}
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error", err)
			}
		})
	}
}

func TestSinkSecretsDoNotLeak(t *testing.T) {
	t.Setenv("WR_TEST_SLACK_URL", "https://hooks.slack.com/services/T000/B000/very-secret-path")
	_, err := Parse("c.yaml", []byte(serverYAML+"sinks:\n  - name: s\n    type: slack\n    webhook_url: ${WR_TEST_SLACK_URL}\n    channel: x\n    bogus: 1\n"))
	if err == nil {
		t.Fatal("want errors")
	}
	if strings.Contains(err.Error(), "very-secret-path") {
		t.Fatalf("secret in error: %v", err)
	}
}

// TestUnsetVariableReportedOnce: a sink setting whose ${VAR} is unset is
// reported as that, not also as a missing required setting.
func TestUnsetVariableReportedOnce(t *testing.T) {
	yaml := serverYAML + "sinks:\n  - name: s\n    type: slack\n    webhook_url: ${WR_TEST_UNSET_HOOK}\n" +
		"  - name: p\n    type: pagerduty\n    routing_key: ${WR_TEST_UNSET_KEY}\n"
	_, err := Parse("c.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	want := []string{"environment variable WR_TEST_UNSET_HOOK is not set", "environment variable WR_TEST_UNSET_KEY is not set"}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want exactly %d (no knock-on \"required\" errors):\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("error %d = %q, want it to contain %q", i, lines[i], w)
		}
	}
}

// TestSinkSettingsReadAsTheirTypeDeclares: each setting of a sink is
// read as its type's registered kind (secrets as Secrets, paths against
// the config's folder, lists as lists), and Reveal hands the sink's
// constructor plain values.
func TestSinkSettingsReadAsTheirTypeDeclares(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(serverYAML+`sinks:
  - {name: bot, type: slack, token: xoxb-t0ken, channel: C1, api_url: http://127.0.0.1/api}
  - {name: hook, type: slack, webhook_url: https://hooks.slack.com/services/T/B/s3cr3t}
  - {name: pd, type: pagerduty, routing_key: r0ut1ng, events_url: https://events.eu.pagerduty.com}
  - {name: mail, type: email, host: h, port: "2525", password: pw, from: a@example.com, to: b@example.com, ca_file: ca.pem}
  - {name: tickets, type: webhook, url: https://t.example.com, secret: s1gn, headers: {Authorization: Bearer x}}
  - {name: audit, type: log, path: logs/n.jsonl}
`))
	if err != nil {
		t.Fatal(err)
	}
	checked := map[sinks.Kind]int{}
	for _, sc := range cfg.Sinks {
		typ, ok := registry.Lookup(sc.Type)
		if !ok {
			t.Fatalf("sink %s: type %q not registered", sc.Name, sc.Type)
		}
		revealed := sc.Reveal()
		for key, v := range sc.Settings {
			setting, ok := typ.Setting(key)
			if !ok {
				t.Errorf("sink %s: %s is no setting of %s", sc.Name, key, sc.Type)
				continue
			}
			checked[setting.Kind]++
			var good bool
			switch setting.Kind {
			case sinks.SecretText:
				secret, isSecret := v.(Secret)
				good = isSecret && revealed.String(key) == secret.Reveal() && fmt.Sprint(v) == "<secret>"
			case sinks.SecretMap:
				m, isMap := v.(map[string]Secret)
				good = isMap && revealed.Map(key)["Authorization"] == m["Authorization"].Reveal() && m["Authorization"].Reveal() == "Bearer x"
			case sinks.Path:
				good = filepath.IsAbs(revealed.String(key)) && strings.HasPrefix(revealed.String(key), dir)
			case sinks.List:
				good = slices.Equal(revealed.List(key), []string{"b@example.com"})
			case sinks.Text:
				s, isString := v.(string)
				good = isString && revealed.String(key) == s
			}
			if !good {
				t.Errorf("sink %s: %s (kind %d) read as %T %v, revealed as %v", sc.Name, key, setting.Kind, v, v, revealed[key])
			}
		}
	}
	for _, k := range []sinks.Kind{sinks.Text, sinks.SecretText, sinks.Path, sinks.List, sinks.SecretMap} {
		if checked[k] == 0 {
			t.Errorf("no setting of kind %d was checked", k)
		}
	}
}

// TestSinkKeyNearMiss: a sink's unknown key a letter or two from one of
// its type's is answered with that key.
func TestSinkKeyNearMiss(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"  - {name: p, type: pagerduty, routng_key: k}\n", `c.yaml:5:32: sink "p": unknown key "routng_key"; did you mean "routing_key"?`},
		{"  - {name: w, type: webhook, url: https://x.example, header: {a: b}}\n", `sink "w": unknown key "header"; did you mean "headers"?`},
		{"  - {name: l, type: log, colour: red}\n", `c.yaml:5:26: sink "l": unknown key "colour"`},
		{"  - {name: l, type: log, min_severty: error}\n", `sink "l": unknown key "min_severty"; did you mean "min_severity"?`},
	}
	for _, c := range cases {
		_, err := Parse("c.yaml", []byte(serverYAML+"sinks:\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
		if strings.HasSuffix(c.want, `"colour"`) && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%q: a guess for a key far from all: %v", c.yaml, err)
		}
	}
}
