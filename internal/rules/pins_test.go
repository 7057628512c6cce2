package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/expr-lang/expr/vm"

	"github.com/wabarouter/wabarouter/internal/event"
)

var sinkName = regexp.MustCompile(`(?m)^  - (?:\{ ?)?name: ([\w-]+)`)

func TestPinsOf(t *testing.T) {
	for _, tc := range []struct {
		when           string
		fields, events []string
	}{
		{`field == "account_update"`, []string{"account_update"}, nil},
		{`"flows" == field and event == "ENDPOINT_ERROR_RATE"`, []string{"flows"}, []string{"ENDPOINT_ERROR_RATE"}},
		{`field in ["a", "b"] && field == "b" && event in ["X"]`, []string{"b"}, []string{"X"}},
		{`field == "a" && field == "b"`, []string{}, nil},
		{`field == "a" || event == "X"`, nil, nil},
		{`not (field == "a")`, nil, nil},
		{`field != "a"`, nil, nil},
		{`field in list`, nil, nil},
		{`field in ["a", waba_id]`, nil, nil},
		{`let field = "x"; field == "x"`, nil, nil},
		{`value.field == "a" && "X" in types`, nil, nil},
	} {
		p := pinsOf(tc.when)
		if fmt.Sprint(p.fields) != fmt.Sprint(tc.fields) || (p.fields == nil) != (tc.fields == nil) ||
			fmt.Sprint(p.events) != fmt.Sprint(tc.events) || (p.events == nil) != (tc.events == nil) {
			t.Errorf("pinsOf(%q) = %q/%q, want %q/%q", tc.when, p.fields, p.events, tc.fields, tc.events)
		}
	}
}

// TestPinsNeverSkipAMatch: for every rule of the example and the gallery
// and every fixture event, a rule its pins turn away does not match: the
// pins only ever skip what could not match.
func TestPinsNeverSkipAMatch(t *testing.T) {
	var rules []*Rule
	for _, f := range [][2]string{{"../../rules.example.yaml", "../../config.example.yaml"}, {"../../docs/gallery/rules.yaml", "../../docs/gallery/config.yaml"}} {
		data, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := os.ReadFile(f[1])
		if err != nil {
			t.Fatal(err)
		}
		var sinks []string
		for _, m := range sinkName.FindAllStringSubmatch(string(cfg), -1) {
			sinks = append(sinks, m[1])
		}
		s, diags := CheckFile(f[0], data, sinks)
		if s == nil {
			t.Fatalf("%s: %v", f[0], diags)
		}
		rules = append(rules, s.Rules...)
	}
	files, err := filepath.Glob(filepath.Join(webhooks, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := event.Parse(data)
		for _, ev := range evs {
			for _, r := range rules {
				if r.program == nil || r.pins.admits(ev.Field, ev.Event) {
					continue
				}
				skipped++
				var machine vm.VM
				if out, err := machine.Run(r.program, ev); err == nil && out == true {
					t.Errorf("%s: rule %q matches %s/%s, which its pins %v/%v turn away", filepath.Base(f), r.Name, ev.Field, ev.Event, r.pins.fields, r.pins.events)
				}
			}
		}
	}
	if skipped == 0 {
		t.Error("no rule was ever turned away by its pins; the test checks nothing")
	}
}
