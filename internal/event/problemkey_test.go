package event_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

const waba = "102290129340398"

// wrap puts changes in one entry of WABA waba.
func wrap(changes ...string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","time":1764597600,"changes":[` + strings.Join(changes, ",") + `]}]}`
}

func ban(state string) string {
	return `{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"` + state + `","waba_ban_date":"2025-12-08"}}}`
}

func phone(number, ev string) string {
	return `{"field":"phone_number_quality_update","value":{"display_phone_number":"` + number + `","event":"` + ev + `","current_limit":"TIER_1K"}}`
}

func templateStatus(id, lang, ev string) string {
	return `{"field":"message_template_status_update","value":{"event":"` + ev + `","message_template_id":` + id + `,"message_template_name":"order_update","message_template_language":"` + lang + `","reason":"NONE"}}`
}

func templateQuality(id, lang, score string) string {
	return `{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"` + score + `","message_template_id":` + id + `,"message_template_name":"order_update","message_template_language":"` + lang + `"}}`
}

func violation(kind string) string {
	return `{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"` + kind + `"}}}`
}

func restriction(types ...string) string {
	var items []string
	for _, t := range types {
		items = append(items, `{"restriction_type":"`+t+`","expiration":1796133600}`)
	}
	return `{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[` + strings.Join(items, ",") + `]}}`
}

func alert(entity, kind, status string) string {
	return `{"field":"account_alerts","value":{"entity_type":"BUSINESS","entity_id":"` + entity + `","alert_info":{"alert_severity":"WARNING","alert_status":"` + status + `","alert_type":"` + kind + `","alert_description":"x"}}}`
}

func flow(id, ev, state string) string {
	return `{"field":"flows","value":{"event":"` + ev + `","flow_id":"` + id + `","alert_state":"` + state + `","threshold":10,"error_rate":12.5}}`
}

func status(pnid, recipient, state string, codes ...int) string {
	var errs []string
	for _, c := range codes {
		errs = append(errs, fmt.Sprintf(`{"code":%d,"title":"t"}`, c))
	}
	e := ""
	if len(errs) > 0 {
		e = `,"errors":[` + strings.Join(errs, ",") + `]`
	}
	return `{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"16505551111","phone_number_id":"` + pnid + `"},"statuses":[{"id":"wamid.` + recipient + state + `","status":"` + state + `","timestamp":"1764597660","recipient_id":"` + recipient + `"` + e + `}]}}`
}

func decision(field, number, d string) string {
	return `{"field":"` + field + `","value":{"display_phone_number":"` + number + `","decision":"` + d + `","requested_verified_name":"Acme"}}`
}

func accountEvent(ev string) string {
	return `{"field":"account_update","value":{"event":"` + ev + `"}}`
}

// TestProblemKeyOnePerProblem: the events of each group open, change or
// close one problem and share its key; no two groups share a key.
func TestProblemKeyOnePerProblem(t *testing.T) {
	groups := []struct {
		name   string
		bodies []string
	}{
		{"ban of the account", []string{wrap(ban("SCHEDULE_FOR_DISABLE")), wrap(ban("DISABLE")), wrap(ban("REINSTATE"))}},
		{"ban of another account", []string{strings.Replace(wrap(ban("DISABLE")), waba, "200000000000002", 1), strings.Replace(wrap(ban("REINSTATE")), waba, "200000000000002", 1)}},
		{"quality of +1 650-555-1111", []string{wrap(phone("16505551111", "FLAGGED")), wrap(phone("+1 650-555-1111", "DOWNGRADE")), wrap(phone("16505551111", "UNFLAGGED")), wrap(phone("16505551111", "UPGRADE"))}},
		{"quality of +1 650-555-2222", []string{wrap(phone("16505552222", "FLAGGED")), wrap(phone("16505552222", "UNFLAGGED"))}},
		{"status of template 111 en_US", []string{wrap(templateStatus("111", "en_US", "PAUSED")), wrap(templateStatus("111", "en_US", "REINSTATED")), wrap(templateStatus("111", "en_US", "FLAGGED")), wrap(templateStatus("111", "en_US", "DISABLED")), wrap(templateStatus("111", "en_US", "APPROVED"))}},
		{"status of template 111 es", []string{wrap(templateStatus("111", "es", "REJECTED")), wrap(templateStatus("111", "es", "APPROVED"))}},
		{"status of template 222 en_US", []string{wrap(templateStatus("222", "en_US", "REJECTED"))}},
		{"quality of template 111 en_US", []string{wrap(templateQuality("111", "en_US", "YELLOW")), wrap(templateQuality("111", "en_US", "RED")), wrap(templateQuality("111", "en_US", "GREEN"))}},
		{"ADULT violations", []string{wrap(violation("ADULT")), wrap(violation("ADULT"))}},
		{"SCAM violations", []string{wrap(violation("SCAM"))}},
		{"ALCOHOL violations", []string{wrap(violation("ALCOHOL"))}},
		{"restricted business messaging", []string{wrap(restriction("RESTRICTED_BIZ_INITIATED_MESSAGING"))}},
		{"restricted customer messaging", []string{wrap(restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING"))}},
		{"both messaging restrictions, in either order", []string{
			wrap(restriction("RESTRICTED_BIZ_INITIATED_MESSAGING", "RESTRICTED_CUSTOMER_INITIATED_MESSAGING")),
			wrap(restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING", "RESTRICTED_BIZ_INITIATED_MESSAGING")),
		}},
		{"alert OBA_REJECTED on a business", []string{wrap(alert("506914307656634", "OBA_REJECTED", "ACTIVE")), wrap(alert("506914307656634", "OBA_REJECTED", "NONE"))}},
		{"alert PROFILE_PICTURE_LOST on a business", []string{wrap(alert("506914307656634", "PROFILE_PICTURE_LOST", "ACTIVE"))}},
		{"alert OBA_REJECTED on another business", []string{wrap(alert("506914307650000", "OBA_REJECTED", "ACTIVE"))}},
		{"error rate of flow 1234", []string{wrap(flow("1234", "ENDPOINT_ERROR_RATE", "ACTIVATED")), wrap(flow("1234", "ENDPOINT_ERROR_RATE", "DEACTIVATED"))}},
		{"latency of flow 1234", []string{wrap(flow("1234", "ENDPOINT_LATENCY", "ACTIVATED"))}},
		{"error rate of flow 5678", []string{wrap(flow("5678", "ENDPOINT_ERROR_RATE", "ACTIVATED"))}},
		{"account review", []string{wrap(decision("account_review_update", "", "REJECTED")), wrap(decision("account_review_update", "", "APPROVED"))}},
		{"display name of +1 650-555-1111", []string{wrap(decision("phone_number_name_update", "16505551111", "REJECTED")), wrap(decision("phone_number_name_update", "16505551111", "APPROVED"))}},
		{"offboarding", []string{wrap(accountEvent("ACCOUNT_OFFBOARDED")), wrap(accountEvent("ACCOUNT_RECONNECTED"))}},
		{"account deleted", []string{wrap(accountEvent("ACCOUNT_DELETED"))}},
		{"failed messages, code 131049, from number 1", []string{wrap(status("106540352242922", "16315551234", "failed", 131049)), wrap(status("106540352242922", "16315559999", "failed", 131049))}},
		{"failed messages, code 131026, from number 1", []string{wrap(status("106540352242922", "16315551234", "failed", 131026))}},
		{"failed messages, code 131049, from number 2", []string{wrap(status("106540352240000", "16315551234", "failed", 131049))}},
		{"statuses to recipient 1234", []string{wrap(status("106540352242922", "16315551234", "sent")), wrap(status("106540352242922", "16315551234", "delivered"))}},
		{"statuses to recipient 5678", []string{wrap(status("106540352242922", "16315555678", "read"))}},
	}
	owner := map[string]string{}
	for _, g := range groups {
		var keys []string
		for _, body := range g.bodies {
			evs, err := event.Parse([]byte(body))
			if err != nil || len(evs) != 1 {
				t.Fatalf("%s: Parse = %d events, %v", g.name, len(evs), err)
			}
			key, err := event.ProblemKey(evs[0])
			if err != nil {
				t.Fatalf("%s: ProblemKey: %v", g.name, err)
			}
			keys = append(keys, key)
		}
		distinct := slices.Compact(slices.Sorted(slices.Values(keys)))
		if len(distinct) != 1 {
			t.Errorf("%s: one problem got %d keys: %q", g.name, len(distinct), keys)
		}
		if !strings.HasPrefix(keys[0], waba+"/") && !strings.HasPrefix(keys[0], "200000000000002/") {
			t.Errorf("%s: key %q does not start with the WABA id", g.name, keys[0])
		}
		if other, ok := owner[keys[0]]; ok {
			t.Errorf("%s and %s share the key %q", g.name, other, keys[0])
		}
		owner[keys[0]] = g.name
	}
}

// TestProblemKeyInOnePayload: the problems of one payload get a key each,
// as the issue saw them folded into one PagerDuty alert.
func TestProblemKeyInOnePayload(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"two numbers flagged", wrap(phone("16505551111", "FLAGGED"), phone("16505552222", "FLAGGED")),
			[]string{waba + "/phone/+16505551111/quality", waba + "/phone/+16505552222/quality"}},
		{"two templates rejected", wrap(templateStatus("111", "en_US", "REJECTED"), templateStatus("222", "en_US", "REJECTED")),
			[]string{waba + "/template/111/en_US/status", waba + "/template/222/en_US/status"}},
		{"three violations", wrap(violation("ADULT"), violation("SCAM"), violation("ALCOHOL")),
			[]string{waba + "/violation/ADULT", waba + "/violation/SCAM", waba + "/violation/ALCOHOL"}},
		{"two restriction types", wrap(restriction("RESTRICTED_BIZ_INITIATED_MESSAGING"), restriction("RESTRICTED_ADD_PHONE_NUMBER_ACTION")),
			[]string{waba + "/restriction/RESTRICTED_BIZ_INITIATED_MESSAGING", waba + "/restriction/RESTRICTED_ADD_PHONE_NUMBER_ACTION"}},
		{"two alert types", wrap(alert("506914307656634", "OBA_REJECTED", "ACTIVE"), alert("506914307656634", "PROFILE_PICTURE_LOST", "ACTIVE")),
			[]string{waba + "/alert/BUSINESS/506914307656634/OBA_REJECTED", waba + "/alert/BUSINESS/506914307656634/PROFILE_PICTURE_LOST"}},
		{"a failed and a delivered status", wrap(status("106540352242922", "16315551234", "failed", 131049, 131026), status("106540352242922", "16315551234", "delivered")),
			[]string{waba + "/messages/106540352242922/failed/131026+131049", waba + "/messages/106540352242922/recipient/customer-b00e757cddff8fe6"}},
		{"the ban and its reinstatement", wrap(ban("DISABLE"), ban("REINSTATE")),
			[]string{waba + "/ban", waba + "/ban"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := event.Parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range evs {
				key, err := event.ProblemKey(ev)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProblemKeyNeverFromEmptyID: an id the key needs and the event lacks
// is replaced by the change's fingerprint, so two such payloads never
// share a key (today's main gave every payload without an account id the
// same key).
func TestProblemKeyNeverFromEmptyID(t *testing.T) {
	bare := func(change string) string { return change } // no entry, so no waba_id
	pairs := []struct {
		name string
		a, b string
	}{
		{"restrictions without waba id", bare(restriction("RESTRICTED_BIZ_INITIATED_MESSAGING")), bare(restriction("RESTRICTED_CUSTOMER_INITIATED_MESSAGING"))},
		{"same restriction, two accounts without id", `{"object":"whatsapp_business_account","entry":[{"time":1764597600,"changes":[` + restriction("RESTRICTED_BIZ_INITIATED_MESSAGING") + `]}]}`,
			`{"object":"whatsapp_business_account","entry":[{"time":1764597700,"changes":[` + restriction("RESTRICTED_BIZ_INITIATED_MESSAGING") + `]}]}`},
		{"bans without waba id", bare(ban("DISABLE")), `{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":"2026-01-08"}}}`},
		{"phone events without a number", wrap(phone("", "FLAGGED")), wrap(phone("", "DOWNGRADE"))},
		{"templates without an id", wrap(`{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_name":"a"}}`),
			wrap(`{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_name":"b"}}`)},
		{"restrictions without types", wrap(`{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","note":1}}`),
			wrap(`{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","note":2}}`)},
		{"unknown fields", wrap(`{"field":"business_status_update","value":{"status":"ACTIVE"}}`), wrap(`{"field":"business_status_update","value":{"status":"BLOCKED"}}`)},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			var keys []string
			for _, body := range []string{p.a, p.b} {
				evs, err := event.Parse([]byte(body))
				if err != nil || len(evs) != 1 {
					t.Fatalf("Parse = %d events, %v", len(evs), err)
				}
				key, err := event.ProblemKey(evs[0])
				if err != nil {
					t.Fatal(err)
				}
				checkKeyParts(t, key)
				keys = append(keys, key)
			}
			if keys[0] == keys[1] {
				t.Errorf("two payloads share the key %q", keys[0])
			}
			if !strings.Contains(keys[0], "change-") && !strings.HasPrefix(p.name, "unknown") {
				t.Errorf("key %q does not stand the fingerprint in for the missing id", keys[0])
			}
		})
	}
}

// TestProblemKeyOfEveryFixture: every event of every fixture has a key
// with no empty part, the same for the same event, that names no rule.
func TestProblemKeyOfEveryFixture(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(webhooksDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := event.Parse(body)
		for _, ev := range evs {
			key, err := event.ProblemKey(ev)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			checkKeyParts(t, key)
			if again, _ := event.ProblemKey(ev); again != key {
				t.Errorf("%s: key %q then %q for one event", file, key, again)
			}
		}
	}
}

func checkKeyParts(t *testing.T, key string) {
	t.Helper()
	for i, part := range strings.Split(key, "/") {
		if strings.TrimSpace(part) == "" || part == "change-" {
			t.Errorf("key %q has an empty part %d", key, i)
		}
	}
}

// TestProblemKeyHidesCustomers: a key goes to every sink (PagerDuty's
// dedup_key); the customer's number must not be in it.
func TestProblemKeyHidesCustomers(t *testing.T) {
	for _, body := range []string{wrap(status("106540352242922", "16315551234", "delivered")),
		`{"object":"whatsapp_business_account","entry":[{"id":"1","time":1764597660,"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"contacts":[{"wa_id":"16315551234","profile":{"name":"A"}}],"messages":[{"from":"16315551234","id":"wamid.1","timestamp":"1764597660","type":"text","text":{"body":"hi"}}]}}]}]}`} {
		evs, err := event.Parse([]byte(body))
		if err != nil || len(evs) != 1 {
			t.Fatalf("Parse: %v, %d events", err, len(evs))
		}
		key, err := event.ProblemKey(evs[0])
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(key, "5551234") || !strings.Contains(key, "/customer-") {
			t.Errorf("key %q carries the customer's number, or no customer reference", key)
		}
	}
}
