package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/events")

const webhooksDir = "../../testdata/webhooks"

// TestParseGolden parses every fixture and compares its events, one JSON
// line each, with testdata/events/NAME.jsonl.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(webhooksDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under %s: %v", webhooksDir, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			events, parseErr := event.Parse(body)
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			for _, ev := range events {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			if parseErr != nil {
				got.WriteString("error: " + parseErr.Error() + "\n")
			}
			golden := filepath.Join("../../testdata/events", name+".jsonl")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run go test ./internal/event -update to create it): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("events differ from %s\ngot:\n%s\nwant:\n%s", golden, got.String(), want)
			}
		})
	}
}

// TestParseSeedFields checks the fields that decide routing, independently of
// the goldens, so that a careless -update cannot hide a regression.
func TestParseSeedFields(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, evs []event.Event)
	}{
		{"seed_pv_restriction_biz_messaging", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "ACCOUNT_RESTRICTION")
			eq(t, "types", strings.Join(ev.Types, ","), "RESTRICTED_BIZ_INITIATED_MESSAGING")
			eq(t, "expiration", ev.Restrictions[0].Expiration.Format("2006-01-02 15:04"), "2026-12-01 14:00")
			eq(t, "phone_number", ev.PhoneNumber, "16505551111")
		}},
		{"seed_restriction_multiple", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "types", strings.Join(ev.Types, ","), "RESTRICTION_ADD_PHONE_NUMBER_ACTION,RESTRICTED_BIZ_INITIATED_MESSAGING,RESTRICTED_CUSTOMER_INITIATED_MESSAGING")
			eq(t, "waba_id", ev.WabaID, "")
		}},
		{"seed_disabled_update_disable", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "ban_state", ev.BanState, "DISABLE")
			eq(t, "ban_date", ev.BanDate.Format("2006-01-02"), "2025-12-08")
		}},
		{"seed_disabled_update_list", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "ban_state", ev.BanState, "SCHEDULE_FOR_DISABLE")
			eq(t, "ban_date", ev.BanDate.Format("2006-01-02"), "2021-01-31")
		}},
		{"seed_template_paused", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "object", ev.Object, event.ObjectWABA)
			eq(t, "template_id", ev.TemplateID, "6048123456789012")
			eq(t, "other_info.title", ev.OtherInfo.Title, "SECOND_PAUSE")
		}},
		{"seed_template_pending_deletion", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "field", ev.Field, "message_template_status_update")
			eq(t, "event", ev.Event, "PENDING_DELETION")
		}},
		{"seed_template_quality_update", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "RED")
			eq(t, "previous_quality_score", ev.PreviousQualityScore, "GREEN")
		}},
		{"seed_account_alerts_failed", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "alert_severity", ev.AlertSeverity, "CRITICAL")
			eq(t, "event", ev.Event, "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED")
		}},
		{"var_alerts_nested", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "alert_type", ev.AlertType, "PROFILE_PICTURE_LOST")
			eq(t, "entity_id", ev.EntityID, "106540352242922")
		}},
		{"var_quality_misfiled", func(t *testing.T, evs []event.Event) {
			eq(t, "field", only(t, evs).Field, "message_template_quality_update")
		}},
		{"var_numbers_as_strings", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "waba_id", ev.WabaID, "102290129340398")
			if ev.MaxDailyConversationPerPhone != 2000 || ev.Time.IsZero() {
				t.Errorf("per phone = %d, time = %v; want 2000 and a time", ev.MaxDailyConversationPerPhone, ev.Time)
			}
		}},
		{"var_unknown_field", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "field", ev.Field, "business_status_update")
			eq(t, "value.status", ev.Value["status"].(string), "ACTIVE")
		}},
		{"var_messages_failed_status", func(t *testing.T, evs []event.Event) {
			if len(evs) != 2 {
				t.Fatalf("got %d events, want one per status (2)", len(evs))
			}
			eq(t, "status", evs[0].Status, "failed")
			if len(evs[0].Errors) != 1 || evs[0].Errors[0].Code != 131049 {
				t.Errorf("errors = %+v, want code 131049", evs[0].Errors)
			}
		}},
		{"var_two_wabas", func(t *testing.T, evs []event.Event) {
			if len(evs) != 2 || evs[1].WabaID != "200000000000002" {
				t.Fatalf("got %+v, want two events, the second for WABA 200000000000002", evs)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(webhooksDir, tt.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := event.Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, evs)
		})
	}
}

func TestParseKeepsHealthySiblings(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(webhooksDir, "var_one_bad_change.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Parse(body)
	var ce *event.ChangeError
	if !errors.As(err, &ce) || ce.Entry != 0 || ce.Change != 1 {
		t.Fatalf("err = %v, want a ChangeError for entry 0 change 1", err)
	}
	if len(evs) != 2 || evs[0].ViolationType != "SCAM" || evs[1].Decision != "REJECTED" {
		t.Fatalf("got %+v, want the two healthy siblings", evs)
	}
}

func TestParseRefusesNonWebhooks(t *testing.T) {
	tests := []struct {
		body string
		want error
	}{
		{`not json`, event.ErrNotJSON},
		{`{"object": "whatsapp_business_account", "entry": [`, event.ErrNotJSON},
		{`{"a":1} {"b":2}`, event.ErrNotJSON},
		{`[1,2]`, event.ErrNotWebhook},
		{`"text"`, event.ErrNotWebhook},
		{`{"hello":"world"}`, event.ErrNotWebhook},
		{`{"object":"whatsapp_business_account","entry":[]} ]`, event.ErrNotJSON},
		{`{"object":"whatsapp_business_account","entry":"x"}`, event.ErrNotWebhook},
		{`{"object":"whatsapp_business_account","entry":[],"entry":7}`, event.ErrNotWebhook},
		{`{"object":"whatsapp_business_account","value":[]}`, event.ErrNotWebhook},
		{`{"object":"whatsapp_business_account","entry":[{"changes":[{},{}]}]}`, event.ErrTooManyChanges},
		{`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}`, event.ErrWrongObject},
		{`{"object":7,"entry":[]}`, event.ErrWrongObject},
	}
	parser := event.Parser{MaxChanges: 1}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			pl, err := parser.Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) || pl.Events != nil {
				t.Fatalf("Parse(%q) = %d events, %v; want none and %v", tt.body, len(pl.Events), err, tt.want)
			}
			if err := parser.Check([]byte(tt.body)); !errors.Is(err, tt.want) {
				t.Errorf("Check(%q) = %v; want %v", tt.body, err, tt.want)
			}
		})
	}
}

func TestParseBatchOfThousand(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"1","time":1,"changes":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"ADULT"}}}`)
	}
	b.WriteString(`]}]}`)
	evs, err := event.Parse([]byte(b.String()))
	if err != nil || len(evs) != 1000 {
		t.Fatalf("got %d events, %v; want 1000", len(evs), err)
	}
}

func only(t *testing.T, evs []event.Event) event.Event {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	return evs[0]
}

func eq(t *testing.T, name, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}
