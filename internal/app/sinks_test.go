package app

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/config"
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
