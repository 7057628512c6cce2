package config

import (
	"strings"
	"testing"
	"time"
)

const scheduleSinks = `sinks:
  - name: pager
    type: log
    path: stderr
`

func TestSchedules(t *testing.T) {
	src := serverYAML + scheduleSinks + `    active_during: [business-hours]
    muted_during: lunch
schedules:
  business-hours:
    time_zone: Europe/Berlin
    weekdays: ["monday:friday"]
    times: [{start: "09:00", end: "18:00"}]
  lunch:
    - {time_zone: Europe/Berlin, times: [{start: "12:00", end: "13:00"}]}
    - {time_zone: America/New_York, weekdays: [saturday, sunday], days_of_month: ["-1"], months: ["december"], years: ["2026:2027"]}
`
	cfg, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	bh := cfg.Schedules["business-hours"]
	if bh == nil || len(bh.Intervals) != 1 || bh.Intervals[0].Location.String() != "Europe/Berlin" {
		t.Fatalf("business-hours: %+v", bh)
	}
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	if !bh.Covers(monday) || bh.Covers(monday.Add(-time.Minute)) {
		t.Errorf("business-hours does not open at Monday 09:00 in Berlin")
	}
	if lunch := cfg.Schedules["lunch"]; lunch == nil || len(lunch.Intervals) != 2 {
		t.Fatalf("lunch: %+v", lunch)
	}
	g := cfg.Sinks[0].Schedules
	if strings.Join(g.ActiveDuring, ",") != "business-hours" || strings.Join(g.MutedDuring, ",") != "lunch" {
		t.Errorf("sink schedules: %+v", g)
	}
}

// TestScheduleErrors: every mistake is reported at its place, all at once.
func TestScheduleErrors(t *testing.T) {
	cases := []struct {
		name, schedules string
		want            []string
	}{
		{"unknown zone", `  bh:
    time_zone: Europe/Berln
`, []string{`c.yaml:10:16: schedule "bh": unknown time_zone "Europe/Berln"; write an IANA name`}},
		{"zone case", `  bh: {time_zone: europe/berlin}
`, []string{`c.yaml:9:19: schedule "bh": unknown time_zone "europe/berlin"; did you mean "Europe/Berlin"?`}},
		{"25:00", `  bh:
    times: [{start: "09:00", end: "25:00"}]
`, []string{`c.yaml:10:35: schedule "bh".times[0]: time "25:00" is not a time of day; hours run from 00 to 23`}},
		{"end before start", `  night:
    times: [{start: "22:00", end: "06:00"}]
`, []string{`c.yaml:10:35: schedule "night".times[0]: end 06:00 is not after start 22:00; a span across midnight is two spans`}},
		{"bad start", `  bh:
    times: [{start: "9am", end: "18:00"}]
`, []string{`c.yaml:10:21: schedule "bh".times[0].start: time "9am" is not a time of day`}},
		{"unknown weekday", `  bh:
    weekdays: ["monday:fridya"]
`, []string{`c.yaml:10:16: schedule "bh".weekdays: unknown weekday "fridya"; did you mean "friday"?`}},
		{"Alertmanager's spellings", `  bh:
    location: Europe/Berlin
    times: [{start_time: "09:00", end_time: "18:00"}]
`, []string{`c.yaml:10:5: schedule "bh": unknown key "location"; here it is called "time_zone"`,
			`c.yaml:11:14: schedule "bh".times[0]: unknown key "start_time"; here it is called "start"`,
			`c.yaml:11:35: schedule "bh".times[0]: unknown key "end_time"; here it is called "end"`}},
		{"unknown key", `  bh:
    weekday: [monday]
`, []string{`c.yaml:10:5: schedule "bh": unknown key "weekday"; did you mean "weekdays"?`}},
		{"several intervals, the second wrong", `  bh:
    - {weekdays: [monday]}
    - {days_of_month: ["0"]}
`, []string{`c.yaml:11:24: schedule "bh"[1].days_of_month: day of month "0" is not a day`}},
		{"neither start nor end", `  bh:
    times: [{}]
`, []string{`c.yaml:10:13: schedule "bh".times[0] needs both start and end`}},
		{"no interval", `  bh:
`, []string{`schedule "bh" has no interval`}},
		{"sink names an unknown schedule", `  business-hours: {weekdays: [monday]}
`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := ""
			if c.want == nil {
				sink = "    active_during: [business-hour]\n"
				c.want = []string{`c.yaml:8:21: sink "pager": active_during: schedule "business-hour" is not defined; did you mean "business-hours"?`}
			}
			_, err := Parse("c.yaml", []byte(serverYAML+scheduleSinks+sink+"schedules:\n"+c.schedules))
			if err == nil {
				t.Fatalf("want errors %q; got none", c.want)
			}
			got := err.Error()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("want %q in:\n%s", w, got)
				}
			}
			if n := strings.Count(got, "\n") + 1; n != len(c.want) {
				t.Errorf("want %d errors, got %d:\n%s", len(c.want), n, got)
			}
		})
	}
}

func TestSinkScheduleWithoutSchedules(t *testing.T) {
	_, err := Parse("c.yaml", []byte(serverYAML+scheduleSinks+"    muted_during: night\n"))
	want := `c.yaml:8:19: sink "pager": muted_during: schedule "night" is not defined; define it under the top-level schedules`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
