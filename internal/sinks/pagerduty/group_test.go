package pagerduty

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestGroupItemsInDetails: a group's trigger carries each item in
// custom_details.items, one line each, and a group too large for the
// Events API is cut to fit its 512 KB.
func TestGroupItemsInDetails(t *testing.T) {
	e := Event("key", sinkstest.Grouped(40, 40, sinkstest.TemplateTitle))
	items, ok := e.Payload.Details.(map[string]any)["items"].([]string)
	if !ok || len(items) != 40 {
		t.Fatalf("custom_details.items %v, want 40 lines", e.Payload.Details.(map[string]any)["items"])
	}
	for i, l := range items {
		if !strings.HasPrefix(l, sinkstest.TemplateTitle(i+1)) {
			t.Errorf("item %d is %q, want it to name %q", i+1, l, sinkstest.TemplateTitle(i+1))
		}
	}
	if e.DedupKey != "104996122399160/message_template_status_update/group/paused" {
		t.Errorf("dedup_key %q, want the group's key", e.DedupKey)
	}

	huge := Event("key", sinkstest.Grouped(1000, 1000, func(i int) string { return fmt.Sprint(i) + strings.Repeat("x", 1000) }))
	b, err := json.Marshal(huge)
	if err != nil || len(b) > MaxEventBytes {
		t.Errorf("a group of 1000 long items is %d bytes (%v), want at most %d", len(b), err, MaxEventBytes)
	}
}
