package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestWebhookHeadersAreSecrets: header values usually carry tokens, so the
// parsed config holds them as Secrets that no dump or error shows.
func TestWebhookHeadersAreSecrets(t *testing.T) {
	const token = "hdr-tok-3f9a7c"
	t.Setenv("WR_TEST_HEADER_TOKEN", token)
	cases := []struct {
		name    string
		headers string
		wantErr string // "" means the config parses
	}{
		{"plain value", `{Authorization: "Bearer ` + token + `"}`, ""},
		{"from the environment", `{Authorization: "Bearer ${WR_TEST_HEADER_TOKEN}", X-Api-Key: "${WR_TEST_HEADER_TOKEN}"}`, ""},
		{"unset variable", `{Authorization: "Bearer ${WR_TEST_HEADER_UNSET}"}`, "environment variable WR_TEST_HEADER_UNSET is not set"},
		{"not a single value", `{Authorization: [Bearer, ` + token + `]}`, `sink "hook".headers must be a single value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(serverYAML+"sinks:\n  - name: hook\n    type: webhook\n    url: https://example.com/h\n    headers: "+c.headers+"\n"))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v; want an error containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error leaks the header value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Sinks[0]
			h := s.Headers()
			if got := h["Authorization"].Reveal(); got != "Bearer "+token {
				t.Errorf("Authorization = %q", got)
			}
			js, _ := json.Marshal(s)
			for _, text := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(s.Settings), string(js)} {
				if strings.Contains(text, token) {
					t.Errorf("dump leaks the header value: %s", text)
				}
			}
		})
	}
}
