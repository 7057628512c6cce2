package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSinkRateAndFallback(t *testing.T) {
	const sinksYAML = `sinks:
  - {name: bot, type: slack, token: xoxb-1, channel: C1, fallback: {to: mail, after: 10m}}
  - {name: hook, type: slack, webhook_url: "https://hooks.slack.com/x", rate: none, fallback: {to: [pd, mail]}}
  - {name: fast-slack, type: slack, webhook_url: "https://hooks.slack.com/y", rate: 2/s}
  - {name: pd, type: pagerduty, routing_key: k}
  - {name: mail, type: email, host: smtp.example.com, from: a@example.com, to: b@example.com, rate: 30/m}
  - {name: tickets, type: webhook, url: "https://t.example.com", rate: 100/h, fallback: {to: [pd], after: 90s}}
`
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(serverYAML+sinksYAML))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sink     string
		rate     Rate
		fallback Fallback
	}{
		{"bot", Rate{1, time.Second}, Fallback{To: []string{"mail"}, After: 10 * time.Minute}},
		{"hook", Rate{}, Fallback{To: []string{"pd", "mail"}}},
		{"fast-slack", Rate{2, time.Second}, Fallback{}},
		{"pd", Rate{}, Fallback{}},
		{"mail", Rate{30, time.Minute}, Fallback{}},
		{"tickets", Rate{100, time.Hour}, Fallback{To: []string{"pd"}, After: 90 * time.Second}},
	}
	for i, tt := range tests {
		s := cfg.Sinks[i]
		if s.Name != tt.sink {
			t.Fatalf("sink %d is %q, want %q", i, s.Name, tt.sink)
		}
		if s.Rate != tt.rate {
			t.Errorf("%s: rate = %v, want %v", s.Name, s.Rate, tt.rate)
		}
		if !reflect.DeepEqual(s.Fallback, tt.fallback) {
			t.Errorf("%s: fallback = %+v, want %+v", s.Name, s.Fallback, tt.fallback)
		}
	}
}

func TestRateString(t *testing.T) {
	for r, want := range map[Rate]string{{}: "none", {1, time.Second}: "1/s", {30, time.Minute}: "30/m", {100, time.Hour}: "100/h"} {
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
	}
}

func TestSinkRateAndFallbackErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"rate without unit", "sinks:\n  - {name: a, type: log, rate: 5}\n", []string{
			`c.yaml:5:32: sink "a": rate "5" must be none or a count per second, minute or hour, such as 1/s, 30/m or 100/h`}},
		{"rate per day", "sinks:\n  - {name: a, type: log, rate: 5/d}\n", []string{`c.yaml:5:32: sink "a": rate "5/d" must be none`}},
		{"rate of zero", "sinks:\n  - {name: a, type: log, rate: 0/s}\n", []string{`c.yaml:5:32: sink "a": rate "0/s": the count must be from 1 to 1000000`}},
		{"rate as a list", "sinks:\n  - {name: a, type: log, rate: [1/s]}\n", []string{`c.yaml:5:32: sink "a".rate must be a single value, got a list`}},
		{"fallback not a mapping", "sinks:\n  - {name: a, type: log, fallback: b}\n", []string{
			`c.yaml:5:36: sink "a".fallback must be a mapping such as {to: [other-sink], after: 10m}, got a single value`}},
		{"fallback without to", "sinks:\n  - {name: a, type: log, fallback: {after: 1m}}\n", []string{`c.yaml:5:36: sink "a".fallback.to is required`}},
		{"fallback unknown key", "sinks:\n  - {name: a, type: log, fallback: {to: b, afetr: 1m}}\n  - {name: b, type: log}\n", []string{
			`c.yaml:5:44: sink "a".fallback: unknown key "afetr"`}},
		{"fallback bad after", "sinks:\n  - {name: a, type: log, fallback: {to: b, after: soon}}\n  - {name: b, type: log}\n", []string{
			`c.yaml:5:51: sink "a".fallback.after "soon" must be a positive duration, such as 10m`}},
		{"fallback negative after", "sinks:\n  - {name: a, type: log, fallback: {to: b, after: -1m}}\n  - {name: b, type: log}\n", []string{
			`c.yaml:5:51: sink "a".fallback.after "-1m" must be a positive duration`}},
		{"fallback to itself", "sinks:\n  - {name: a, type: log, fallback: {to: a}}\n", []string{
			`c.yaml:5:41: sink "a": fallback.to: a sink cannot be its own fallback`}},
		{"fallback to an unknown sink", "sinks:\n  - {name: a, type: log, fallback: {to: [b, c]}}\n  - {name: b, type: log}\n", []string{
			`c.yaml:5:45: sink "a": fallback.to: no sink is named "c"; sinks: a, b`}},
		{"fallback named twice", "sinks:\n  - {name: a, type: log, fallback: {to: [b, b]}}\n  - {name: b, type: log}\n", []string{
			`c.yaml:5:45: sink "a".fallback.to: "b" is named twice`}},
		{"fallback cycle of two", "sinks:\n  - {name: a, type: log, fallback: {to: b}}\n  - {name: b, type: log, fallback: {to: a}}\n", []string{
			`c.yaml:5:41: sink "a": fallbacks make a cycle: a → b → a`}},
		{"fallback cycle of three", "sinks:\n  - {name: a, type: log, fallback: {to: [b]}}\n  - {name: b, type: log, fallback: {to: c}}\n  - {name: c, type: log, fallback: {to: a}}\n", []string{
			`c.yaml:5:42: sink "a": fallbacks make a cycle: a → b → c → a`}},
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
			if n := strings.Count(err.Error(), "make a cycle"); n > 1 {
				t.Errorf("a cycle is reported %d times, want once:\n%v", n, err)
			}
		})
	}
}

// A chain of fallbacks that does not come back (a → b → c) is fine.
func TestFallbackChainIsNoCycle(t *testing.T) {
	y := "sinks:\n  - {name: a, type: log, fallback: {to: [b, c]}}\n  - {name: b, type: log, fallback: {to: c}}\n  - {name: c, type: log}\n"
	if _, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(serverYAML+y)); err != nil {
		t.Fatal(err)
	}
}
