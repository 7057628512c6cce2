package config

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

func TestMaxChangesPerWebhook(t *testing.T) {
	const base = "server:\n  verify_token: t\n  app_secrets: [a]\n"
	tests := []struct {
		name string
		yaml string
		want int    // when accepted
		err  string // substring of the error; "" to accept
	}{
		{"default", base, event.DefaultMaxChanges, ""},
		{"lowered to Meta's batch size", base + "  max_changes_per_webhook: 1000\n", 1000, ""},
		{"the parser's own bound", base + "  max_changes_per_webhook: 10000\n", 10000, ""},
		{"above the parser's bound", base + "  max_changes_per_webhook: 10001\n",
			0, `c.yaml:4:28: max_changes_per_webhook "10001" must be a whole number from 1 to 10000`},
		{"zero", base + "  max_changes_per_webhook: 0\n", 0, `max_changes_per_webhook "0" must be a whole number from 1 to 10000`},
		{"not a number", base + "  max_changes_per_webhook: many\n", 0, `max_changes_per_webhook "many" must be a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yaml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server.MaxChangesPerWebhook != tt.want {
				t.Errorf("MaxChangesPerWebhook = %d, want %d", cfg.Server.MaxChangesPerWebhook, tt.want)
			}
		})
	}
}
