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
	"time"

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
		{"meta2026_capability_business_limit", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "max_daily_conversations_per_business", ev.MaxDailyConversationsPerBusiness, "TIER_2K")
			if len(ev.Warnings) != 1 {
				t.Errorf("warnings = %q; want one saying the number was read as a tier", ev.Warnings)
			}
		}},
		{"meta2026_phone_quality_onboarding", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "ONBOARDING")
			eq(t, "max_daily_conversations_per_business", ev.MaxDailyConversationsPerBusiness, "TIER_250")
		}},
		{"meta2026_restriction_remediation", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			if len(ev.Restrictions) != 1 || !strings.HasPrefix(ev.Restrictions[0].Remediation, "Send only utility content") {
				t.Errorf("restrictions = %+v; want one with its remediation", ev.Restrictions)
			}
		}},
		{"meta2026_partner_removed_disconnection", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "disconnection_info.reason", ev.DisconnectionInfo.Reason, "COMPANION_INACTIVITY")
			eq(t, "disconnection_info.initiated_by", ev.DisconnectionInfo.InitiatedBy, "SYSTEM")
			eq(t, "waba_info.owner_business_id", ev.WabaInfo.OwnerBusinessID, "506914307656634")
		}},
		{"meta2026_partner_added", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "waba_id", ev.WabaID, "506914307656634") // the partner's portfolio, as Meta sends it
			eq(t, "waba_info.waba_id", ev.WabaInfo.WabaID, "495709166956424")
			eq(t, "waba_info.solution_partner_business_ids", strings.Join(ev.WabaInfo.SolutionPartnerBusinessIDs, ","), "1972385232742146,1972385232742147")
		}},
		{"meta2026_volume_tier_update", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "volume_tier_info.tier", ev.VolumeTierInfo.Tier, "25000001:50000000")
			eq(t, "volume_tier_info.effective_month", ev.VolumeTierInfo.EffectiveMonth, "2026-07")
			eq(t, "volume_tier_info.tier_update_time", ev.VolumeTierInfo.TierUpdateTime.Format(time.RFC3339), "2026-06-16T14:00:00Z")
		}},
		{"meta2026_template_correct_category_detection", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "template_id", ev.TemplateID, "1689556908129832")
			eq(t, "new_category", ev.NewCategory, "UTILITY")
			eq(t, "correct_category", ev.CorrectCategory, "MARKETING")
		}},
		{"meta2026_payment_configuration_update", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "NEEDS_CONNECTING")
			eq(t, "payment_configuration.status", ev.PaymentConfiguration.Status, "Needs Connecting")
		}},
		{"meta2026_user_preferences_stop", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "STOP")
			eq(t, "preference.customer", ev.Preference.Customer, "16315551181")
			eq(t, "time", ev.Time.Format(time.RFC3339), "2026-06-16T13:58:20Z")
		}},
		{"meta2026_calls_terminate_failed", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "CALL_TERMINATE")
			eq(t, "call.status", ev.Call.Status, "FAILED")
			if ev.Call.Duration != 60 || len(ev.Errors) != 1 || ev.Errors[0].Code != 138006 {
				t.Errorf("duration %d, errors %+v; want 60 and code 138006", ev.Call.Duration, ev.Errors)
			}
		}},
		{"meta2026_calls_status_rejected", func(t *testing.T, evs []event.Event) {
			ev := only(t, evs)
			eq(t, "event", ev.Event, "CALL_STATUS")
			eq(t, "call.status", ev.Call.Status, "REJECTED")
			eq(t, "recipient_id", ev.RecipientID, "16315551181")
		}},
		{"meta2026_message_echoes", func(t *testing.T, evs []event.Event) {
			if len(evs) != 2 {
				t.Fatalf("got %d events, want one per echo (2)", len(evs))
			}
			eq(t, "recipient_id", evs[1].RecipientID, "16315551182")
			eq(t, "message_type", evs[1].MessageType, "image")
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

// TestOddShapesOfKnownFieldsAreNotDropped: what Meta sends for a field
// the parser types, in a shape it does not expect, is still one event
// per change with its field and raw value, and a warning says what was
// ignored.
func TestOddShapesOfKnownFieldsAreNotDropped(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(webhooksDir, "meta2026_odd_shapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Entry []struct {
			Changes []struct {
				Field string `json:"field"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	events, err := event.Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	changes := env.Entry[0].Changes
	if len(events) != len(changes) {
		t.Fatalf("got %d events for %d changes", len(events), len(changes))
	}
	for i, ev := range events {
		if ev.Field != changes[i].Field || len(ev.Value) == 0 {
			t.Errorf("event %d: field %q, value %v; want field %q and its raw value", i, ev.Field, ev.Value, changes[i].Field)
		}
		if ev.Field != "partner_solutions" && ev.Field != "template_correct_category_detection" && len(ev.Warnings) == 0 {
			t.Errorf("event %d (%s): no warning says what was ignored", i, ev.Field)
		}
	}
}
