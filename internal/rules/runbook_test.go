package rules

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

func TestRunbook(t *testing.T) {
	src := `rules:
  - name: own
    when: field == "account_update"
    to: [s]
    runbook: 'https://wiki.example.com/whatsapp/{{.event}}'
  - name: default
    when: field == "account_update"
    to: [s]
  - name: broken
    when: field == "account_update"
    to: [s]
    runbook: '{{.event}}'
`
	set, err := ParseFile("r.yaml", []byte(src), []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Field: "account_update", Event: "ACCOUNT_RESTRICTION", WabaID: "1"}
	matches, errs := set.Evaluate(ev)
	if len(matches) != 2 || matches[0].Runbook != "https://wiki.example.com/whatsapp/ACCOUNT_RESTRICTION" || matches[1].Runbook != DefaultRunbook(ev) {
		t.Fatalf("matches %+v", matches)
	}
	if DefaultRunbook(ev) == "" {
		t.Error("a restriction has no default runbook")
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `"ACCOUNT_RESTRICTION" must be an absolute http or https URL`) {
		t.Errorf("errs %v, want the broken rule's runbook refused", errs)
	}
	if n := matches[0].Notifications(ev.Time); n[0].Runbook != matches[0].Runbook {
		t.Errorf("notification runbook %q", n[0].Runbook)
	}
	if DefaultRunbook(event.Event{Field: "messages", Event: "MESSAGE_STATUS"}) != "" {
		t.Error("a message status has a default runbook")
	}
}

func TestRunbookMistakes(t *testing.T) {
	for _, tc := range []struct{ runbook, want string }{
		{`wiki/whatsapp`, `r.yaml:5:14: rule "x": runbook: "wiki/whatsapp" must be an absolute http or https URL`},
		{`javascript:alert(1)`, `r.yaml:5:14: rule "x": runbook: "javascript:alert(1)" must be an absolute http or https URL`},
		{`'https://x/{{.nope'`, `r.yaml:5`},
	} {
		src := "rules:\n  - name: x\n    when: 'true'\n    to: [s]\n    runbook: " + tc.runbook + "\n"
		_, err := ParseFile("r.yaml", []byte(src), []string{"s"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("runbook %s: error %v, want %q", tc.runbook, err, tc.want)
		}
	}
	src := "rules:\n  - name: x\n    when: 'true'\n    to: [s]\n    action: change\n    renotify: 1h\n"
	if _, err := ParseFile("r.yaml", []byte(src), []string{"s"}); err == nil || !strings.Contains(err.Error(), "action: change sends good news outside any incident") {
		t.Errorf("change with renotify: %v", err)
	}
}
