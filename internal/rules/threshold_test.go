package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

func TestRuleThreshold(t *testing.T) {
	cases := []struct {
		name, rule string
		want       string // "" loads
		count      int
		within     time.Duration
		by         []string
	}{
		{"flow", "threshold: {count: 20, within: 10m, by: [phone_number_id]}", "", 20, 10 * time.Minute, []string{"phone_number_id"}},
		{"block, by one field", "threshold:\n      count: 3\n      within: 1h\n      by: waba_id", "", 3, time.Hour, []string{"waba_id"}},
		{"by nothing", "threshold: {count: 2, within: 1m}", "", 2, time.Minute, nil},
		{"two fields", "threshold: {count: 5, within: 5m, by: [waba_id, template_name]}", "", 5, 5 * time.Minute, []string{"waba_id", "template_name"}},
		{"count of one", "threshold: {count: 1, within: 10m}",
			`r.yaml:6:24: rule "r": threshold.count "1" is not a whole number of at least 2`, 0, 0, nil},
		{"count not a number", "threshold: {count: many, within: 10m}",
			`r.yaml:6:24: rule "r": threshold.count "many" is not a whole number of at least 2`, 0, 0, nil},
		{"count a fraction", "threshold: {count: 2.5, within: 10m}", `threshold.count "2.5" is not a whole number`, 0, 0, nil},
		{"within too short", "threshold: {count: 20, within: 30s}",
			`r.yaml:6:36: rule "r": threshold.within 30s is shorter than 1m; write a window of a minute or more`, 0, 0, nil},
		{"within in days", "threshold: {count: 20, within: 1d}",
			`r.yaml:6:36: rule "r": threshold.within "1d" is not a duration like 90m or 6h; write 24h`, 0, 0, nil},
		{"no within", "threshold: {count: 20}", `r.yaml:6:16: rule "r": threshold needs within`, 0, 0, nil},
		{"no count", "threshold: {within: 10m}", `r.yaml:6:16: rule "r": threshold needs count`, 0, 0, nil},
		{"key typo", "threshold: {count: 20, within: 10m, bye: [waba_id]}",
			`r.yaml:6:41: rule "r": unknown key "bye" in threshold; did you mean "by"?`, 0, 0, nil},
		{"field typo", "threshold: {count: 20, within: 10m, by: [phone_numberid]}",
			`r.yaml:6:46: rule "r": threshold.by: "phone_numberid" is not an event field; did you mean "phone_number_id"?`, 0, 0, nil},
		{"a list field", "threshold: {count: 20, within: 10m, by: [errors]}",
			`r.yaml:6:46: rule "r": threshold.by: errors holds a list or a group, not one value to count by`, 0, 0, nil},
		{"twice", "threshold: {count: 20, within: 10m, by: [waba_id, waba_id]}",
			`r.yaml:6:55: rule "r": threshold.by names waba_id twice`, 0, 0, nil},
		{"not a mapping", "threshold: 20", `r.yaml:6:16: rule "r": threshold must be a mapping`, 0, 0, nil},
		{"with incident.key", "threshold: {count: 20, within: 10m}\n    incident: {key: 'x'}",
			`r.yaml:2:5: rule "r": a rule with a threshold keeps one incident per value of threshold.by; take out incident.key`, 0, 0, nil},
		{"with action: resolve", "threshold: {count: 20, within: 10m}\n    action: resolve",
			`r.yaml:2:5: rule "r": a rule with action: resolve cannot have a threshold`, 0, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "rules:\n  - name: r\n    when: 'true'\n    to: [pager]\n\n    " + c.rule + "\n"
			set, err := ParseFile("r.yaml", []byte(src), []string{"pager"})
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v\nwant %s", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			th := set.Rules[0].Threshold
			if th == nil || th.Count != c.count || th.Within != c.within || strings.Join(th.By, ",") != strings.Join(c.by, ",") {
				t.Errorf("threshold %+v, want %d within %s by %v", th, c.count, c.within, c.by)
			}
		})
	}
}

// TestThresholdKeyAndTexts: a threshold rule's matches carry the key of
// their count as their incident key, and, with no title of its own, a
// title that says what was counted.
func TestThresholdKeyAndTexts(t *testing.T) {
	src := `rules:
  - name: failed
    when: field == "messages" && status == "failed"
    to: [pager]
    threshold: {count: 20, within: 10m, by: [waba_id, phone_number_id]}
  - name: everything
    when: field == "messages"
    to: [pager]
    title: 'Failures on {{.waba_id}}'
    threshold: {count: 3, within: 1h}
`
	set, err := ParseFile("r.yaml", []byte(src), []string{"pager"})
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Field: "messages", Event: "MESSAGE_STATUS", WabaID: "102", PhoneNumberID: "1065", Status: "failed",
		RecipientID: "16315551234"}
	matches, errs := set.Evaluate(ev)
	if len(errs) > 0 || len(matches) != 2 {
		t.Fatalf("matches %+v, errs %v", matches, errs)
	}
	for _, tc := range []struct {
		m                Match
		key, title, body string
	}{
		{matches[0], "threshold:failed/waba_id=102/phone_number_id=1065",
			`Rule "failed" matched 20 times within 10m for waba_id=102, phone_number_id=1065`, "The latest: Message to +1 631-555-1234 from WABA 102 failed. "},
		{matches[1], "threshold:everything", "Failures on 102", ""},
	} {
		if tc.m.DedupKey != tc.key || tc.m.Title != tc.title || !strings.HasPrefix(tc.m.Body, tc.body) {
			t.Errorf("rule %s: key %q, title %q, body %q; want %q, %q, %q…", tc.m.Rule.Name, tc.m.DedupKey, tc.m.Title, tc.m.Body,
				tc.key, tc.title, tc.body)
		}
		if key, err := set.IncidentKey(tc.m.Rule, ev); err != nil || key != tc.key {
			t.Errorf("IncidentKey(%s) = %q, %v", tc.m.Rule.Name, key, err)
		}
	}
	th := matches[0].Rule.Threshold
	if got := th.Counted("failed", matches[0].DedupKey); got != "waba_id=102, phone_number_id=1065" {
		t.Errorf("Counted: %q", got)
	}
	if got := matches[1].Rule.Threshold.Counted("everything", "threshold:everything"); got != `rule "everything"` {
		t.Errorf("Counted by nothing: %q", got)
	}
	for _, tc := range []struct {
		within, bucket time.Duration
	}{{10 * time.Minute, time.Minute}, {time.Minute, 6 * time.Second}, {25 * time.Hour, 150 * time.Minute}, {95 * time.Second, 9 * time.Second}} {
		if got := (&Threshold{Within: tc.within}).Bucket(); got != tc.bucket {
			t.Errorf("Bucket of %s: %s, want %s", tc.within, got, tc.bucket)
		}
	}
}
