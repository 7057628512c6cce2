package rules

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/schedule"
)

func TestRuleSchedules(t *testing.T) {
	schedules := schedule.Set{"business-hours": {Name: "business-hours"}, "night": {Name: "night"}}
	cases := []struct {
		name, rule string
		want       string // "" loads
	}{
		{"both, and drop", "active_during: [business-hours]\n    muted_during: night\n    when_muted: drop", ""},
		{"hold", "muted_during: [night]\n    when_muted: hold", ""},
		{"unknown schedule", "active_during: [business-hour]",
			`r.yaml:6:21: rule "r": active_during: schedule "business-hour" is not defined; defined schedules: business-hours, night; did you mean "business-hours"?`},
		{"empty list", "muted_during: []", `r.yaml:6:19: rule "r": muted_during must name at least one schedule`},
		{"when_muted typo", "when_muted: dorp", `r.yaml:6:17: rule "r": when_muted "dorp" is not hold or drop`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "rules:\n  - name: r\n    when: 'true'\n    to: [pager]\n\n    " + c.rule + "\n"
			set, err := ParseFileWith("r.yaml", []byte(src), []string{"pager"}, schedules)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r := set.Rules[0]; r.Schedules.IsZero() {
					t.Errorf("no schedules read: %+v", r)
				}
				if set.Schedules["night"] == nil {
					t.Error("the set does not keep the schedules")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
	_, err := ParseFile("r.yaml", []byte("rules:\n  - {name: r, when: 'true', to: [pager], muted_during: night}\n"), []string{"pager"})
	if want := `schedule "night" is not defined; define it under the config's schedules`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("without schedules: got %v", err)
	}
	set, err := ParseFileWith("r.yaml", []byte("rules:\n  - {name: r, when: 'true', to: [pager], when_muted: drop}\n"), []string{"pager"}, schedules)
	if err != nil || set.Rules[0].WhenMuted != Drop {
		t.Errorf("when_muted drop: %v %+v", err, set)
	}
}
