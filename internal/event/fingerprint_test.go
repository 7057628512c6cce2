package event_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

// TestFingerprintKeepsStoredHashes compares with the hashes the router's
// own Fingerprint gave for the same events before it moved here, so
// fingerprints already in a store still recognise redeliveries.
func TestFingerprintKeepsStoredHashes(t *testing.T) {
	tests := []struct {
		name string
		ev   event.Event
		want string
	}{
		{"empty", event.Event{}, "921eba8d76fed50f2ba2013712bcc2de105c7e7ae4c28031bd9f2d12a95ec6ce"},
		{"ban", event.Event{WabaID: "102290129340398", Field: "account_update", Event: "DISABLED_UPDATE", Time: time.Unix(1764597600, 0).UTC(),
			Value: map[string]any{"event": "DISABLED_UPDATE", "ban_info": map[string]any{"waba_ban_state": "DISABLE", "waba_ban_date": "December 8, 2025"}}},
			"962390711efcaf1c54749fedf26203e993ef2e5ee2adef99ac47727401fc96de"},
		{"status", event.Event{WabaID: "106540352242922", Field: "messages", Event: "MESSAGE_STATUS", MessageID: "wamid.HBgL", Status: "failed", Time: time.Unix(1750000000, 0).UTC(),
			Value: map[string]any{"messaging_product": "whatsapp", "statuses": []any{map[string]any{"id": "wamid.HBgL", "status": "failed", "timestamp": "1750000000"}}, "n": 7, "f": 1.5}},
			"67c328da689b7a54286d6bad045c48b5b34cfa9e0ea769a5e33863eb5a72001b"},
		// PhoneNumber is not part of the fingerprint.
		{"security", event.Event{Field: "security", Event: "PIN_CHANGED", PhoneNumber: "16505551111", Value: map[string]any{"event": "PIN_CHANGED"}},
			"f1a2fb44eeab5705a05e988a57acea91b68c07c63acd31de08f9eeefbbe8f054"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.Fingerprint(tt.ev)
			if err != nil || got != tt.want {
				t.Errorf("Fingerprint = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestFingerprintReportsUnencodableEvents: two events whose times json
// cannot write used to share the fingerprint of an empty key; now each
// gets an error naming what failed.
func TestFingerprintReportsUnencodableEvents(t *testing.T) {
	for _, year := range []int{10000, 57000} {
		ev := event.Event{WabaID: "1", Field: "account_update", Event: "ACCOUNT_VIOLATION", Time: time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)}
		fp, err := event.Fingerprint(ev)
		if err == nil || fp != "" || !strings.Contains(err.Error(), "account_update/ACCOUNT_VIOLATION") {
			t.Errorf("year %d: Fingerprint = %q, %v; want an error naming the event", year, fp, err)
		}
	}
}
