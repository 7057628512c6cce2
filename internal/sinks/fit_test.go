package sinks

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

func jsonSize(t *testing.T, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func TestFit(t *testing.T) {
	small := map[string]any{"a": "b", "n": 1.0}
	if got, cut := Fit(small, 100, "test"); cut || !reflect.DeepEqual(got, small) {
		t.Errorf("a fitting document changed: %v %v", got, cut)
	}
	big := func() map[string]any {
		return map[string]any{
			"title": strings.Repeat("t", 600_000),
			"event": map[string]any{
				"waba_id": "104996122399160",
				"value":   map[string]any{"description": strings.Repeat("d", 1_200_000)},
				"list":    []any{"x", "y", "z"},
			},
		}
	}
	cases := []struct {
		name      string
		budget    int
		wantValue bool // whether event.value is still a map
	}{
		{"dropping value is not enough", 100_000, false},
		{"only the top level fits", 300, false},
		{"generous", 2_000_000, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := big()
			got, cut := Fit(doc, c.budget, "the test limit", []string{"event", "value"})
			if !reflect.DeepEqual(doc, big()) {
				t.Fatal("Fit changed its input")
			}
			if size := jsonSize(t, got); size > c.budget {
				t.Fatalf("%d bytes, budget %d", size, c.budget)
			}
			if c.wantValue {
				if cut {
					t.Error("cut a document that fits")
				}
				return
			}
			if !cut || !strings.Contains(got[TruncatedKey].(string), "the test limit") {
				t.Errorf("the cut is not marked: %v", got[TruncatedKey])
			}
			if !strings.HasPrefix(got["title"].(string), "ttt") {
				t.Errorf("title lost entirely: %.20q", got["title"])
			}
		})
	}
}

func TestFitDropsValueFirst(t *testing.T) {
	doc := map[string]any{"title": "short", "event": map[string]any{"waba_id": "1", "value": strings.Repeat("v", 10_000)}}
	got, cut := Fit(doc, 1000, "x", []string{"event", "value"})
	ev := got["event"].(map[string]any)
	if !cut || ev["waba_id"] != "1" || got["title"] != "short" || !strings.Contains(ev["value"].(string), "cut to fit x") {
		t.Errorf("got %v", got)
	}
}

// TestNotificationJSONBounded: the JSON the webhook and log sinks write
// stays within MaxNotificationJSON however long the title and body, and
// keeps what fits.
func TestNotificationJSONBounded(t *testing.T) {
	n := sinkstest.AccountAlert()
	n.Title = "\u202e" + strings.Repeat("T", 600_000)
	n.Body = strings.Repeat("description ", 100_000)
	n.Event.AlertDescription = n.Body
	n.Event.Value = map[string]any{"alert_info": map[string]any{"alert_description": n.Body}}
	b, err := NotificationJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxNotificationJSON {
		t.Fatalf("%d bytes, limit %d", len(b), MaxNotificationJSON)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	title := got["title"].(string)
	if got["id"] != n.ID || got[TruncatedKey] == nil || !strings.HasPrefix(title, "TTTT") || !utf8.ValidString(title) {
		t.Errorf("id %v, truncated %v, title %.10q", got["id"], got[TruncatedKey], title)
	}
	small, _ := NotificationJSON(sinkstest.Restriction())
	want, _ := json.Marshal(struct {
		notification.Notification
		Message Message `json:"message"`
	}{sinkstest.Restriction(), MessageOf(sinkstest.Restriction())})
	if string(small) != string(want) {
		t.Errorf("a small notification changed:\n%s\nwant\n%s", small, want)
	}
}

// TestNotificationJSONKeepsIncident: a notification cut to fit still says
// which incident it belongs to, its state and its seq.
func TestNotificationJSONKeepsIncident(t *testing.T) {
	n := sinkstest.Lifecycle()[2]
	n.Title = strings.Repeat("T", 600_000)
	n.Body = strings.Repeat("description ", 100_000)
	n.Incident.Changes = []string{strings.Repeat("c", 400_000), "b", "c", "d", "e"}
	b, err := NotificationJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Truncated string `json:"truncated"`
		Incident  struct {
			ID, State, Transition string
			Seq                   int
		} `json:"incident"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(b) > MaxNotificationJSON {
		t.Fatalf("%d bytes: %v", len(b), err)
	}
	if got.Truncated == "" || got.Incident.ID != sinkstest.IncidentID || got.Incident.State != "open" ||
		got.Incident.Transition != "escalated" || got.Incident.Seq != 3 {
		t.Errorf("cut notification's incident: %+v (truncated %q)", got.Incident, got.Truncated)
	}
}
