package pagerduty

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// sentEvent is what the sweep reads of an event PagerDuty received.
type sentEvent struct {
	Action    string `json:"event_action"`
	DedupKey  string `json:"dedup_key"`
	ClientURL string `json:"client_url"`
	Links     []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Payload struct {
		Summary  string         `json:"summary"`
		Severity string         `json:"severity"`
		Details  map[string]any `json:"custom_details"`
	} `json:"payload"`
}

// TestEveryFixture sends the notification of every webhook fixture (see
// messagetest: routed by the real router with the fixtures' accounts
// directory and the default texts) as it was made, as a trigger and as a
// change event, through a peer holding each event to PagerDuty's
// documented schema and 512 KB, and checks what a person paged at 3 a.m.
// needs: the account named, WhatsApp Manager and the runbook linked,
// Meta's description whole, a severity PagerDuty knows.
func TestEveryFixture(t *testing.T) {
	fixtures := messagetest.Fixtures(t)
	actions := map[notification.Action]int{}
	named := 0
	for _, f := range fixtures {
		actions[f.Notification.Action]++
		if f.Notification.Event.Account.Name != "" {
			named++
		}
	}
	// The sweep proves little unless the fixtures reach every path.
	if actions[notification.Trigger] == 0 || actions[notification.Resolve] == 0 || actions[notification.Change] == 0 || named == 0 {
		t.Fatalf("fixtures by action %v, %d of %d for accounts the directory names", actions, named, len(fixtures))
	}
	t.Logf("%d fixtures by action %v, %d for accounts the directory names", len(fixtures), actions, named)
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			trigger, change := f.Notification, f.Notification
			trigger.Action = notification.Trigger
			change.Action, change.Incident, change.DedupKey = notification.Change, nil, ""
			sends := []struct {
				name string
				n    notification.Notification
			}{{"as sent", f.Notification}, {"as a trigger", trigger}, {"as a change", change}}
			for _, send := range sends {
				p := newPeer(t)
				s := changeSink(t, p)
				n := send.n
				if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
					t.Fatalf("%s: %v", send.name, err)
				}
				want := alertPath
				if n.Action == notification.Change {
					want = changePath
				}
				got := p.all()
				if len(got) != 1 || got[0].path != want {
					t.Fatalf("%s: want one request to %s, got %d: %v", send.name, want, len(got), got)
				}
				var ev sentEvent
				if err := json.Unmarshal(got[0].body, &ev); err != nil {
					t.Fatal(err)
				}
				if n.Action == notification.Resolve {
					if ev.Action != "resolve" || ev.DedupKey != DedupKey(n.DedupKey) {
						t.Errorf("%s: resolve %+v", send.name, ev)
					}
					continue
				}
				checkReadable(t, send.name, n, ev, len(got[0].body))
			}
		})
	}
}

// checkReadable checks what a trigger or change event ev, of size bytes,
// sent for n says to a person.
func checkReadable(t *testing.T, name string, n notification.Notification, ev sentEvent, size int) {
	t.Helper()
	d := ev.Payload.Details
	sum := ev.Payload.Summary
	if c := utf8.RuneCountInString(sum); c == 0 || c > maxSummary {
		t.Errorf("%s: summary of %d characters", name, c)
	}
	if size > MaxEventBytes {
		t.Errorf("%s: event of %d bytes", name, size)
	}
	if account := n.Event.Account.Name; account != "" && !strings.Contains(sum, account) {
		t.Errorf("%s: summary %q does not name %q", name, sum, account)
	}
	if d["account"] != sinks.Who(n) || d["waba_id"] != n.Event.WabaID || d["rule"] != n.Rule {
		t.Errorf("%s: custom_details account %v, waba_id %v, rule %v", name, d["account"], d["waba_id"], d["rule"])
	}
	if body := strings.TrimSpace(n.Body); body != "" && d["body"] != body {
		t.Errorf("%s: custom_details.body %.80q, want %.80q", name, d["body"], body)
	}
	if desc := sinks.Description(n); desc != "" && d["description"] != desc {
		t.Errorf("%s: custom_details.description %.80q, want %.80q", name, d["description"], desc)
	}
	if n.Incident != nil {
		inc, _ := d["incident"].(map[string]any)
		if inc["id"] != n.Incident.ID || inc["transition"] != string(n.Incident.Transition) || inc["state"] != string(n.Incident.State) {
			t.Errorf("%s: custom_details.incident %v", name, inc)
		}
	}
	var hrefs []string
	for _, l := range ev.Links {
		hrefs = append(hrefs, l.Href)
	}
	if m := sinks.ManagerURL(n); m != "" && !slices.Contains(hrefs, m) {
		t.Errorf("%s: links %v lack WhatsApp Manager %s", name, hrefs, m)
	}
	if n.Runbook != "" && !slices.Contains(hrefs, n.Runbook) {
		t.Errorf("%s: links %v lack the runbook %s", name, hrefs, n.Runbook)
	}
	if n.Action == notification.Trigger {
		if ev.ClientURL != sinks.ManagerURL(n) {
			t.Errorf("%s: client_url %q", name, ev.ClientURL)
		}
		if !slices.Contains([]string{"critical", "error", "warning", "info"}, ev.Payload.Severity) {
			t.Errorf("%s: severity %q", name, ev.Payload.Severity)
		}
	}
}
