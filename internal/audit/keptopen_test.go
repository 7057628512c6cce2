package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/store"
)

// TestWhyTellsAnIncidentKeptOpen: a recovery told late matches no rule
// and changes no incident, and why says which incident it left open and
// why, rather than "no rule matched".
func TestWhyTellsAnIncidentKeptOpen(t *testing.T) {
	reason := "told late: account_update/DISABLED_UPDATE REINSTATE happened at 2025-12-01 14:00:00 UTC, " +
		"before the incident's latest report of the problem (2025-12-02 14:00:00 UTC)"
	rec := router.Record{WebhookID: 7, Field: "account_update", Event: "DISABLED_UPDATE", WabaID: "102290129340398",
		Course: "account_update REINSTATE", Rules: []router.RuleRecord{}, Incidents: []router.IncidentTransition{},
		KeptOpen:      []router.KeptOpen{{ID: "inc-1", Rule: "account-banned", Key: "102290129340398/ban", Episode: 1, Reason: reason}},
		Notifications: []router.NotificationRecord{}}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	e := decode(store.Decision{WebhookID: 7, At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), WabaID: rec.WabaID,
		Field: rec.Field, Event: rec.Event, Record: b}).entry
	if len(e.KeptOpen) != 1 || e.KeptOpen[0].ID != "inc-1" || e.KeptOpen[0].Reason != reason {
		t.Fatalf("entry kept open %+v, want inc-1 with its reason", e.KeptOpen)
	}
	e.Summary = summary(e)
	if !strings.Contains(e.Summary, "1 incident kept open: "+reason) || strings.Contains(e.Summary, "no rule matched") {
		t.Errorf("summary %q; want it to name the incident kept open and why", e.Summary)
	}
	var text strings.Builder
	writeEntry(&text, e)
	want := `incident inc-1 of rule "account-banned" kept open (key 102290129340398/ban): ` + reason
	if !strings.Contains(text.String(), want) || strings.Contains(text.String(), "no rule matched") {
		t.Errorf("why says:\n%s\nwant a line %q and no \"no rule matched\"", text.String(), want)
	}
}
