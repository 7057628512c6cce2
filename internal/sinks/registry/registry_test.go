package registry

import (
	"slices"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// common are the keys every sink has, which no type may declare again.
var common = []string{"name", "type", "min_severity", "concurrency", "include_customer_data"}

// TestTypesAreWellFormed: every registered type has a name, a
// constructor and capabilities, its keys are unique and none is a key
// every sink has, and it skips only transitions that exist.
func TestTypesAreWellFormed(t *testing.T) {
	if got := Known(); got != "email, log, pagerduty, slack, webhook" {
		t.Errorf("Known() = %q", got)
	}
	transitions := []notification.Transition{notification.Opened, notification.Updated, notification.Escalated,
		notification.Reminded, notification.Resolved}
	given := func(string) bool { return false }
	for _, name := range Names() {
		typ, ok := Lookup(name)
		if !ok || typ.Name != name || typ.New == nil || typ.Capabilities == nil {
			t.Errorf("type %q: %+v", name, typ)
			continue
		}
		seen := map[string]bool{}
		for _, s := range typ.Settings {
			if seen[s.Key] || slices.Contains(common, s.Key) || s.Key == "" || strings.ToLower(s.Key) != s.Key {
				t.Errorf("type %q: setting %q is repeated, empty, not lower case or a key every sink has", name, s.Key)
			}
			seen[s.Key] = true
		}
		for _, skip := range typ.Capabilities(given).Skips {
			if !slices.Contains(transitions, skip) || skip == notification.Opened || skip == notification.Resolved {
				t.Errorf("type %q skips %q: a sink must take the opening and the resolve", name, skip)
			}
		}
	}
	if _, ok := Lookup("teams"); ok {
		t.Error(`Lookup("teams") found a type`)
	}
}

// TestCapabilities: what each type says it can do, which routing turns
// into the transitions it takes.
func TestCapabilities(t *testing.T) {
	bot := func(k string) bool { return k == "token" || k == "channel" }
	hook := func(k string) bool { return k == "webhook_url" }
	none := func(string) bool { return false }
	upd, rem := notification.Updated, notification.Reminded
	cases := []struct {
		typ   string
		given func(string) bool
		want  sinks.Capabilities
	}{
		{"slack", bot, sinks.Capabilities{UpdatesInPlace: true, Threads: true}},
		{"slack", hook, sinks.Capabilities{Skips: []notification.Transition{upd}}},
		{"pagerduty", none, sinks.Capabilities{StaysOpen: true, Skips: []notification.Transition{upd, rem}}},
		{"email", none, sinks.Capabilities{Threads: true, Skips: []notification.Transition{upd}}},
		{"webhook", none, sinks.Capabilities{}},
		{"log", none, sinks.Capabilities{}},
	}
	for _, c := range cases {
		typ, _ := Lookup(c.typ)
		got := typ.Capabilities(c.given)
		if got.UpdatesInPlace != c.want.UpdatesInPlace || got.Threads != c.want.Threads || got.StaysOpen != c.want.StaysOpen ||
			!slices.Equal(got.Skips, c.want.Skips) {
			t.Errorf("%s: %+v, want %+v", c.typ, got, c.want)
		}
	}
}

// TestNewBuildsEachType: every type builds from its settings, and the
// built sink closes.
func TestNewBuildsEachType(t *testing.T) {
	settings := map[string]sinks.Settings{
		"slack":     {"token": "xoxb-1", "channel": "C1"},
		"pagerduty": {"routing_key": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"},
		"email":     {"host": "127.0.0.1", "port": "2525", "tls": "none", "from": "a@example.com", "to": []string{"b@example.com"}},
		"webhook":   {"url": "https://example.com/hook", "headers": map[string]string{"X-Team": "t"}},
		"log":       {"path": t.TempDir() + "/n.jsonl"},
	}
	for _, name := range Names() {
		typ, _ := Lookup(name)
		s, err := typ.New(settings[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := s.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	}
	email, _ := Lookup("email")
	if _, err := email.New(sinks.Settings{"host": "h", "port": "x", "from": "a@example.com", "to": []string{"b@example.com"}}); err == nil ||
		err.Error() != `port "x" is not a number` {
		t.Errorf("bad port: %v", err)
	}
}
