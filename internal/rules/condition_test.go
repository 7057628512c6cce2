package rules

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

func TestCompileCondition(t *testing.T) {
	c, diags := CompileCondition("--when", `waba_id == "1" && event == "DISABLED_UPDATE"`)
	if c == nil || len(diags) != 0 {
		t.Fatalf("diags %v", diags)
	}
	for _, tc := range []struct {
		ev   event.Event
		want bool
	}{
		{event.Event{WabaID: "1", Event: "DISABLED_UPDATE"}, true},
		{event.Event{WabaID: "2", Event: "DISABLED_UPDATE"}, false},
	} {
		if got, err := c.Matches(tc.ev); err != nil || got != tc.want {
			t.Errorf("Matches(%+v) = %v, %v", tc.ev, got, err)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`waba_id ==`, `--when:1:`},
		{`wabaid == "1"`, `did you mean`},
		{`event == "account_restriction"`, `warning`},
		{``, `the condition is empty`},
	} {
		_, diags := CompileCondition("--when", tc.src)
		var all []string
		for _, d := range diags {
			all = append(all, d.Error())
		}
		if !strings.Contains(strings.Join(all, "\n"), tc.want) {
			t.Errorf("CompileCondition(%q) diagnostics %q, want %q", tc.src, all, tc.want)
		}
	}
}

// TestChecksum: the same rules give the same checksum wherever their file
// is; a change of one character gives another.
func TestChecksum(t *testing.T) {
	src := "rules:\n  - name: a\n    when: 'true'\n    to: [s]\n"
	a, _ := CheckFile("/etc/wabarouter/rules.yaml", []byte(src), []string{"s"})
	b, _ := CheckFile("rules/rules.yaml", []byte(src), []string{"s"})
	c, _ := CheckFile("/etc/wabarouter/rules.yaml", []byte(strings.Replace(src, "name: a", "name: b", 1)), []string{"s"})
	if a.Checksum == "" || a.Checksum != b.Checksum || a.Checksum == c.Checksum {
		t.Errorf("checksums %q %q %q; want the first two equal, the third other", a.Checksum, b.Checksum, c.Checksum)
	}
}
