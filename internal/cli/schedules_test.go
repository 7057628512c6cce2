package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const scheduleConfig = "../../testdata/config/schedules/config.yaml"

// TestRouteAt: route --at pins the clock the schedules read, and says of
// a held notification until when and why, in text and in JSON.
func TestRouteAt(t *testing.T) {
	ban := "../../testdata/webhooks/seed_disabled_update_disable.json"
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), append([]string{"route", "--config", scheduleConfig}, args...), IO{Out: &out, Err: &errOut})
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("--at", "2026-11-28T10:00:00+01:00", ban)
	want := `rule "banned" → compliance-chat [critical, incident opened] key "102290129340398/ban" — held until 2026-11-30 09:00 Europe/Berlin: sink "compliance-chat": outside active_during business-hours`
	if code != ExitOK || !strings.Contains(out, want) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant: %s", code, out, errOut, want)
	}
	if strings.Count(out, "held until") != 1 {
		t.Errorf("the pager is held too:\n%s", out)
	}
	code, out, _ = run("--at", "2026-11-28T10:00:00+01:00", "--format", "json", ban)
	var held []routeLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l routeLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if l.HeldUntil != "" {
			held = append(held, l)
		}
	}
	if code != ExitOK || len(held) != 1 || held[0].Sink != "compliance-chat" || held[0].HeldUntil != "2026-11-30T09:00:00+01:00" ||
		held[0].Outcome != "queued" || !strings.Contains(held[0].Held, "business-hours") {
		t.Errorf("json: %+v\n%s", held, out)
	}
	if code, out, _ = run("--at", "2026-11-30T09:00:00+01:00", ban); code != ExitOK || strings.Contains(out, "held") {
		t.Errorf("Monday 09:00 holds: %s", out)
	}
	if code, _, errOut = run("--at", "saturday", ban); code != ExitUsage || !strings.Contains(errOut, `--at "saturday": want an RFC 3339 time`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestRuleTestHeldUntil: a step's held_until is compared with when the
// schedule lets the notification go, and a mismatch shows both.
func TestRuleTestHeldUntil(t *testing.T) {
	seeds, err := filepath.Abs("../../testdata/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, expect string
		wantCode     int
		want         []string
	}{
		{"on the schedule's clock", `held_until: "2026-11-30 09:00"`, ExitOK, []string{"1 passed, 0 failed"}},
		{"as an instant", `held_until: "2026-11-30T08:00:00Z"`, ExitOK, []string{"1 passed, 0 failed"}},
		{"a wrong hour", `held_until: "2026-11-30 10:00"`, ExitFailure, []string{
			"- banned → compliance-chat [critical] (held until 2026-11-30 10:00)",
			"+ banned → compliance-chat [critical] (held until 2026-11-30 09:00 Europe/Berlin) WABA",
		}},
		{"not a time", `held_until: monday`, ExitFailure, []string{`held_until "monday" is not a time`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := `tests:
  - name: saturday
    now: 2026-11-28T10:00:00+01:00
    payload_file: ` + seeds + `/seed_disabled_update_disable.json
    expect:
      - {rule: banned, sink: pager, severity: critical}
      - {rule: banned, sink: compliance-chat, severity: critical, ` + c.expect + `}
`
			path := filepath.Join(t.TempDir(), "t_test.yaml")
			if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"test", "--config", scheduleConfig, path}, IO{Out: &out, Err: &errOut})
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.wantCode, out.String(), errOut.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String()+errOut.String(), w) {
					t.Errorf("want %q in\n%s%s", w, out.String(), errOut.String())
				}
			}
		})
	}
}
