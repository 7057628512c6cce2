package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestAPISection: the API is off without an api section, on with a token
// that is long enough, and every mistake is told at its place; an unset
// ${VAR} only stops serve.
func TestAPISection(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv("WR_API_TOKEN", token)
	t.Setenv("WR_API_EMPTY", "")
	const server = "server: {verify_token: v, app_secrets: [s]}\n"
	tests := []struct {
		name      string
		yaml      string
		purpose   Purpose
		wantToken string
		wantErrs  []string
		wantWarns []string
	}{
		{name: "no api section", yaml: server},
		{name: "a null api section", yaml: server + "api:\n"},
		{name: "a token written out", yaml: server + "api: {token: " + token + "}\n", wantToken: token},
		{name: "a token from the environment", yaml: server + "api: {token: \"${WR_API_TOKEN}\"}\n", wantToken: token},
		{name: "an unset token, for serve", yaml: server + "api: {token: \"${WR_API_UNSET}\"}\n",
			wantErrs: []string{"c.yaml:2:14: environment variable WR_API_UNSET is not set"}},
		{name: "an unset token, for rules", yaml: server + "api: {token: \"${WR_API_UNSET}\"}\n", purpose: ForRules,
			wantWarns: []string{"c.yaml:2:14: warning: environment variable WR_API_UNSET is not set; the API is off here, and serve refuses to start without it"}},
		{name: "a token set to nothing", yaml: server + "api: {token: \"${WR_API_EMPTY}\"}\n",
			wantErrs: []string{"c.yaml:2:14: api.token must not be empty; leave the api section out to keep the API off"}},
		{name: "a short token", yaml: server + "api: {token: secret}\n",
			wantErrs: []string{fmt.Sprintf("c.yaml:2:14: api.token must be at least %d characters (it is 6); make one with: openssl rand -hex 32", MinAPITokenLength)}},
		{name: "no token", yaml: server + "api: {}\n",
			wantErrs: []string{"c.yaml:2:6: api.token is required: the API is served only to requests that carry it; leave the api section out to keep the API off"}},
		{name: "a misspelt token", yaml: server + "api: {tokn: " + token + "}\n",
			wantErrs: []string{`c.yaml:2:7: api: unknown key "tokn"; did you mean "token"?`, "c.yaml:2:6: api.token is required: the API is served only to requests that carry it; leave the api section out to keep the API off"}},
		{name: "not a mapping", yaml: server + "api: on\n", wantErrs: []string{"c.yaml:2:6: api must be a mapping with a token, got a single value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns, err := ParseFor("c.yaml", []byte(tt.yaml), Options{Purpose: tt.purpose})
			var errs []string
			if err != nil {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %v is not a config *Error", err)
				}
				errs = strings.Split(err.Error(), "\n")
			}
			slices.Sort(errs)
			want := slices.Sorted(slices.Values(tt.wantErrs))
			if !slices.Equal(errs, want) {
				t.Fatalf("errors\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
			}
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.String())
			}
			if !slices.Equal(ws, tt.wantWarns) {
				t.Errorf("warnings %q, want %q", ws, tt.wantWarns)
			}
			if err != nil {
				return
			}
			if got := cfg.API.Token.Reveal(); got != tt.wantToken || cfg.API.Enabled() != (tt.wantToken != "") {
				t.Errorf("token %q (enabled %v), want %q", got, cfg.API.Enabled(), tt.wantToken)
			}
			if dump := fmt.Sprintf("%v %+v %#v", cfg.API, cfg.API, cfg.API); tt.wantToken != "" && strings.Contains(dump, tt.wantToken) {
				t.Errorf("printing the api section shows its token: %s", dump)
			}
		})
	}
}
