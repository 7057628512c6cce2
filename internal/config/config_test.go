package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const secretValue = "s3cr3t-from-env-0123456789"

func TestParseGood(t *testing.T) {
	t.Setenv("WABA_APP_SECRET", secretValue)
	t.Setenv("WABA_VERIFY", "verify-me")
	tests := []struct {
		name string
		yaml string
		want Server
	}{
		{
			name: "defaults",
			yaml: "server:\n  verify_token: tok\n  app_secrets: [a]\n",
			want: Server{Listen: DefaultListen, VerifyToken: "tok", AppSecrets: []Secret{"a"}, MaxBodyBytes: DefaultMaxBodyBytes},
		},
		{
			name: "everything set with env",
			yaml: "server:\n  listen: \":9000\"\n  verify_token: ${WABA_VERIFY}\n  app_secrets:\n    - ${WABA_APP_SECRET}\n    - old-${WABA_VERIFY}\n  max_body_bytes: 1024\n",
			want: Server{Listen: ":9000", VerifyToken: "verify-me", AppSecrets: []Secret{secretValue, "old-verify-me"}, MaxBodyBytes: 1024},
		},
		{
			name: "anchors",
			yaml: "x: &tok tok\nserver:\n  verify_token: *tok\n  app_secrets: [b]\n",
			want: Server{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yaml))
			if tt.name == "anchors" {
				// Top-level keys other than server are unknown even
				// when used only as anchors.
				if err == nil || !strings.Contains(err.Error(), `c.yaml:1:1: top level: unknown key "x"`) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.Path != "c.yaml" {
				t.Errorf("Path = %q", cfg.Path)
			}
			got := cfg.Server
			if got.Listen != tt.want.Listen || got.VerifyToken != tt.want.VerifyToken || got.MaxBodyBytes != tt.want.MaxBodyBytes || fmt.Sprint(reveal(got.AppSecrets)) != fmt.Sprint(reveal(tt.want.AppSecrets)) {
				t.Errorf("got %+v (secrets %v), want %+v", got, reveal(got.AppSecrets), tt.want)
			}
		})
	}
}

func TestParseLog(t *testing.T) {
	base := "server:\n  verify_token: t\n  app_secrets: [a]\n"
	tests := []struct {
		yaml   string
		level  slog.Level
		format string
	}{
		{"", slog.LevelInfo, LogText},
		{"log: {level: debug, format: json}\n", slog.LevelDebug, LogJSON},
		{"log: {level: error}\n", slog.LevelError, LogText},
	}
	for _, tt := range tests {
		cfg, err := Parse("c.yaml", []byte(base+tt.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if cfg.Log.Level != tt.level || cfg.Log.Format != tt.format {
			t.Errorf("%q: log = %+v, want %v %s", tt.yaml, cfg.Log, tt.level, tt.format)
		}
	}
}

func reveal(ss []Secret) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Reveal()
	}
	return out
}

func TestParseErrors(t *testing.T) {
	t.Setenv("WABA_EMPTY", "")
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key", "server:\n  verify_token: t\n  app_secrets: [a]\n  lisen: x\n", []string{`bad.yaml:4:3: server: unknown key "lisen"`}},
		{"unknown top key", "server:\n  verify_token: t\n  app_secrets: [a]\nextra: 1\n", []string{`bad.yaml:4:1: top level: unknown key "extra"`}},
		{"unset env var", "server:\n  verify_token: t\n  app_secrets: [\"${WABA_NOT_SET_XYZ}\"]\n", []string{"bad.yaml:3:17: environment variable WABA_NOT_SET_XYZ is not set"}},
		{"bad env ref", "server:\n  verify_token: ${1BAD}\n  app_secrets: [a]\n", []string{`bad.yaml:2:17: invalid environment variable reference "${1BAD}"`}},
		{"missing secret", "server:\n  verify_token: t\n", []string{"bad.yaml:2:3: server.app_secrets is required"}},
		{"empty secrets list", "server:\n  verify_token: t\n  app_secrets: []\n", []string{"bad.yaml:3:16: app_secrets must list at least one secret"}},
		{"empty secret from env", "server:\n  verify_token: t\n  app_secrets:\n    - ${WABA_EMPTY}\n", []string{"bad.yaml:4:7: app_secrets[0] must not be empty"}},
		{"secrets not a list", "server:\n  verify_token: t\n  app_secrets: a\n", []string{"bad.yaml:3:16: app_secrets must be a list"}},
		{"empty verify token", "server:\n  verify_token: \"\"\n  app_secrets: [a]\n", []string{"bad.yaml:2:17: verify_token must not be empty"}},
		{"bad listen", "server:\n  listen: localhost\n  verify_token: t\n  app_secrets: [a]\n", []string{`bad.yaml:2:11: listen "localhost" must be host:port`}},
		{"bad listen port", "server:\n  listen: \"h:http\"\n  verify_token: t\n  app_secrets: [a]\n", []string{`bad.yaml:2:11: listen "h:http" must be host:port`}},
		{"bad max body", "server:\n  verify_token: t\n  app_secrets: [a]\n  max_body_bytes: lots\n", []string{`bad.yaml:4:19: max_body_bytes "lots" must be an integer`}},
		{"zero max body", "server:\n  verify_token: t\n  app_secrets: [a]\n  max_body_bytes: 0\n", []string{"bad.yaml:4:19: max_body_bytes must be greater than 0"}},
		{"duplicate key", "server:\n  verify_token: t\n  verify_token: u\n  app_secrets: [a]\n", []string{`bad.yaml:3:3: server: duplicate key "verify_token" (first set at line 2)`}},
		{"syntax error", "server:\n  verify_token: t\n  app_secrets: @a\n", []string{"bad.yaml:3: syntax error: found character that cannot start any token"}},
		{"empty file", "", []string{"bad.yaml:1:1: server.verify_token is required", "bad.yaml:1:1: server.app_secrets is required"}},
		{"bad log", "server:\n  verify_token: t\n  app_secrets: [a]\nlog:\n  level: verbose\n  format: xml\n", []string{
			`bad.yaml:5:10: log.level "verbose" is not one of debug, info, warn, error`,
			`bad.yaml:6:11: log.format "xml" is not text or json`,
		}},
		{"top level list", "- a\n", []string{"bad.yaml:1:1: top level must be a mapping"}},
		{"server not mapping", "server: yes\n", []string{"bad.yaml:1:9: server must be a mapping"}},
		{
			"several at once",
			"server:\n  listen: nope\n  verify_token: ${WABA_NOT_SET_XYZ}\n  app_secrets: []\n  bogus: 1\n",
			[]string{
				`bad.yaml:2:11: listen "nope"`,
				"bad.yaml:3:17: environment variable WABA_NOT_SET_XYZ is not set",
				"bad.yaml:4:16: app_secrets must list at least one secret",
				`bad.yaml:5:3: server: unknown key "bogus"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", cfg)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
			if n := strings.Count(msg, "\n") + 1; n != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%s", n, len(tt.want), msg)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "bad.yaml" || ce.Line == 0 {
				t.Errorf("errors.As *Error = %+v", ce)
			}
		})
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	t.Setenv("WABA_APP_SECRET", secretValue)
	t.Setenv("WABA_VERIFY", secretValue+"-verify")
	good := "server:\n  verify_token: ${WABA_VERIFY}\n  app_secrets: [\"${WABA_APP_SECRET}\"]\n"
	cfg, err := Parse("c.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.AppSecrets[0].Reveal() != secretValue {
		t.Fatalf("Reveal = wrong value")
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("cfg", "token", cfg.Server.VerifyToken, "secrets", cfg.Server.AppSecrets, "server", cfg.Server)

	// Env values must not leak into errors either, e.g. via a bad value
	// echoed back in a validation message.
	t.Setenv("WABA_BAD_LISTEN", secretValue)
	t.Setenv("WABA_BAD_SIZE", secretValue)
	_, perr := Parse("c.yaml", []byte("server:\n  listen: ${WABA_BAD_LISTEN}\n  verify_token: t\n  app_secrets: [a]\n  max_body_bytes: ${WABA_BAD_SIZE}\n"))
	if perr == nil {
		t.Fatal("expected errors")
	}

	outputs := map[string]string{
		"Sprint": fmt.Sprint(cfg),
		"%+v":    fmt.Sprintf("%+v", *cfg),
		"%#v":    fmt.Sprintf("%#v", *cfg),
		"%s":     fmt.Sprintf("%s", cfg.Server.VerifyToken), //nolint:staticcheck // the %s verb is what is tested
		"json":   string(j),
		"yaml":   string(y),
		"slog":   logBuf.String(),
		"error":  perr.Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks secret: %s", name, out)
		}
	}
	if !strings.Contains(outputs["json"], `\u003csecret\u003e`) || !strings.Contains(outputs["slog"], "<secret>") {
		t.Errorf("expected redaction markers: %s / %s", outputs["json"], outputs["slog"])
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wabarouter.yaml")
	if err := os.WriteFile(path, []byte("server:\n  verify_token: t\n  app_secrets: [a]\n  bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":4:3:") {
		t.Errorf("Load bad file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load missing file: %v", err)
	}
}

func TestDefaultStorePathIsBesideTheConfig(t *testing.T) {
	cfg, err := Parse("/etc/wabarouter/config.yaml", []byte("server:\n  verify_token: t\n  app_secrets: [a]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "/etc/wabarouter/data/wabarouter.db"; cfg.Store.Path != want {
		t.Errorf("default store path %q, want %q (relative to the config file)", cfg.Store.Path, want)
	}
}
