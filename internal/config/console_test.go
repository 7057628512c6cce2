package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestConsoleSection: the console is off without a console section, on
// with a long enough key and users whose hashes are bcrypt's (htpasswd's
// $2y$ included), and every mistake is told at its place; an unset
// ${VAR} key only stops serve.
func TestConsoleSection(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := string(hash)
	htpasswd := "$2y$" + h[4:]
	t.Setenv("WR_CONSOLE_KEY", key)
	const server = "server: {verify_token: v, app_secrets: [s]}\n"
	user := func(name, role, hash string) string {
		return fmt.Sprintf("{name: %s, role: %s, password_hash: %q}", name, role, hash)
	}
	tests := []struct {
		name      string
		yaml      string
		purpose   Purpose
		wantUsers []string // name/role
		wantTTL   time.Duration
		wantErrs  []string
		wantWarns []string
	}{
		{name: "no console section", yaml: server},
		{name: "two users", yaml: server + "console:\n  session_key: " + key + "\n  users: [" + user("ana", "editor", h) + ", " + user("bo", "viewer", htpasswd) + "]\n",
			wantUsers: []string{"ana/editor", "bo/viewer"}, wantTTL: DefaultConsoleSessionTTL},
		{name: "a key from the environment and a ttl", yaml: server + "console: {session_key: \"${WR_CONSOLE_KEY}\", session_ttl: 1h, users: [" + user("ana", "viewer", h) + "]}\n",
			wantUsers: []string{"ana/viewer"}, wantTTL: time.Hour},
		{name: "an unset key, for rules", yaml: server + "console: {session_key: \"${WR_CONSOLE_UNSET}\", users: [" + user("ana", "viewer", h) + "]}\n", purpose: ForRules,
			wantUsers: []string{"ana/viewer"}, wantWarns: []string{"c.yaml:2:24: warning: environment variable WR_CONSOLE_UNSET is not set; the console is off here, and serve refuses to start without it"}},
		{name: "an unset key, for serve", yaml: server + "console: {session_key: \"${WR_CONSOLE_UNSET}\", users: [" + user("ana", "viewer", h) + "]}\n",
			wantErrs: []string{"c.yaml:2:24: environment variable WR_CONSOLE_UNSET is not set"}},
		{name: "a short key", yaml: server + "console: {session_key: short, users: [" + user("ana", "viewer", h) + "]}\n",
			wantErrs: []string{"c.yaml:2:24: console.session_key must be at least 32 characters (it is 5); make one with: openssl rand -hex 32"}},
		{name: "no key, no users", yaml: server + "console: {}\n",
			wantErrs: []string{"c.yaml:2:10: console.session_key is required: it signs the session cookies; make one with: openssl rand -hex 32",
				"c.yaml:2:10: console.users is required: the console lets in only the users listed; leave the console section out to keep it off"}},
		{name: "a bad role, a bad hash, a twice-listed user, a missing name", yaml: server + "console:\n  session_key: " + key + "\n  users:\n" +
			"    - " + user("ana", "admin", h) + "\n" +
			"    - " + user("bo", "viewer", "secret") + "\n" +
			"    - " + user("cy", "viewer", h) + "\n" +
			"    - " + user("cy", "editor", h) + "\n" +
			"    - {role: viewer, password_hash: \"" + h + "\"}\n",
			wantErrs: []string{
				`c.yaml:5:25: console.users[0].role "admin" must be viewer (reads) or editor (also adds and expires silences, sends tests, replays dead letters)`,
				"c.yaml:6:47: console.users[1].password_hash is not a bcrypt hash; make one with: wabarouter console hash-password",
				`c.yaml:8:7: console.users[3]: user "cy" is listed twice (first at line 7)`,
				"c.yaml:9:7: console.users[4].name is required",
			}},
		{name: "a misspelt key", yaml: server + "console: {session_key: " + key + ", user: []}\n",
			wantErrs: []string{`c.yaml:2:58: console: unknown key "user"; did you mean "users"?`,
				"c.yaml:2:10: console.users is required: the console lets in only the users listed; leave the console section out to keep it off"}},
		{name: "a short ttl", yaml: server + "console: {session_key: " + key + ", session_ttl: 5s, users: [" + user("ana", "viewer", h) + "]}\n",
			wantErrs: []string{`c.yaml:2:71: console.session_ttl "5s" must be a duration of at least a minute, such as 12h`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns, err := ParseFor("c.yaml", []byte(tt.yaml), Options{Purpose: tt.purpose})
			var errs []string
			if err != nil {
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
			var users []string
			for _, u := range cfg.Console.Users {
				users = append(users, u.Name+"/"+u.Role)
			}
			if !slices.Equal(users, tt.wantUsers) || cfg.Console.Enabled() != (len(tt.wantUsers) > 0 && tt.wantWarns == nil) {
				t.Errorf("users %v (enabled %v), want %v", users, cfg.Console.Enabled(), tt.wantUsers)
			}
			if len(tt.wantUsers) > 0 && tt.wantWarns == nil && cfg.Console.SessionTTL != tt.wantTTL {
				t.Errorf("ttl %v, want %v", cfg.Console.SessionTTL, tt.wantTTL)
			}
			if dump := fmt.Sprintf("%v %+v %#v", cfg.Console, cfg.Console, cfg.Console); strings.Contains(dump, key) || strings.Contains(dump, h[7:]) {
				t.Errorf("printing the console section shows its key or a hash: %s", dump)
			}
		})
	}
}
