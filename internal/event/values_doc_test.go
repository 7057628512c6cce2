package event

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The values rules are checked against (FieldValues, NamesOf) are the
// parser's vocabulary; the rules guide shows them in the Values column of
// its field table and in its table of the events of each field. These
// tests keep the three in step: the tables and the guide both ways, and
// the tables and what the parser makes of every fixture.

var backticked = regexp.MustCompile("`([^`]*)`")

// tableRows reads the rows of the table between start and end markers of
// the guide, as cells without their outer pipes.
func tableRows(t *testing.T, start, end string) [][]string {
	t.Helper()
	data, err := os.ReadFile(rulesGuide)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), start)
	table, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("%s has no table between %s and %s", rulesGuide, start, end)
	}
	var rows [][]string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

func quotedIn(cell string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestRulesGuideShowsFieldValues(t *testing.T) {
	rows := tableRows(t, fieldsStartMarker, fieldsEndMarker)
	cells := map[string]string{}
	for _, r := range rows {
		if len(r) < 3 {
			t.Fatalf("row %v has no Values column", r)
		}
		cells[strings.Trim(r[0], "`")] = r[2]
	}
	listed := map[string]bool{"event": true}
	for _, v := range FieldValues() {
		listed[v.Field] = true
		cell, ok := cells[v.Field]
		if !ok {
			t.Errorf("FieldValues has %s, the guide's field table has no row for it", v.Field)
			continue
		}
		got := quotedIn(cell)
		switch {
		case len(v.Known) == 0:
			want := "upper case"
			if v.Case == Lower {
				want = "lower case"
			}
			if len(got) != 0 || !strings.Contains(cell, want) {
				t.Errorf("%s: Values cell %q; want no listed values and %q", v.Field, cell, want)
			}
		case !slices.Equal(got, v.Known):
			t.Errorf("%s: the guide lists %v; FieldValues has %v (same values, same order)", v.Field, got, v.Known)
		}
		if v.Case == Lower && len(v.Known) > 0 && !strings.Contains(cell, "lower case") && v.Field != "status" && v.Field != "message_type" {
			t.Errorf("%s: the guide does not say its values are in lower case", v.Field)
		}
	}
	for field, cell := range cells {
		if !listed[field] && cell != "" {
			t.Errorf("%s: the guide shows values %q that FieldValues does not have", field, cell)
		}
	}
	if cell := cells["event"]; !strings.Contains(cell, "#events-of-each-field") {
		t.Errorf("event: Values cell %q does not point to the events of each field", cell)
	}
}

func TestRulesGuideShowsEventsOfEachField(t *testing.T) {
	rows := tableRows(t, "<!-- events:start -->", "<!-- events:end -->")
	var fields []string
	for _, r := range rows {
		field := strings.Trim(r[0], "`")
		fields = append(fields, field)
		if got, want := quotedIn(r[1]), NamesOf(field); !slices.Equal(got, want) {
			t.Errorf("%s: the guide lists events %v; NamesOf has %v", field, got, want)
		}
	}
	if want := FieldsWithEvents(); !slices.Equal(fields, want) {
		t.Errorf("the guide's events table has fields %v; FieldsWithEvents has %v", fields, want)
	}
}

// TestParserStaysInsideFieldValues parses every fixture and checks each
// value against the tables: known values are known, every value has its
// field's case, and each event is one of its field's.
func TestParserStaysInsideFieldValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	known := map[string]Values{}
	for _, v := range FieldValues() {
		known[v.Field] = v
	}
	check := func(file, field, value string) {
		v, ok := known[field]
		if !ok || value == "" {
			return
		}
		if !HasCase(value, v.Case) {
			t.Errorf("%s: %s %q is not in the case FieldValues gives it", filepath.Base(file), field, value)
		}
		if len(v.Known) > 0 && !slices.Contains(v.Known, value) && field != "field" {
			t.Errorf("%s: %s %q is not among FieldValues' %v", filepath.Base(file), field, value, v.Known)
		}
	}
	seen := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		events, _ := Parse(body)
		for _, ev := range events {
			seen++
			for name, value := range map[string]string{
				"field": ev.Field, "violation_type": ev.ViolationType, "ban_state": ev.BanState, "decision": ev.Decision,
				"reason": ev.Reason, "previous_category": ev.PreviousCategory, "new_category": ev.NewCategory,
				"other_info.title": ev.OtherInfo.Title, "previous_quality_score": ev.PreviousQualityScore,
				"new_quality_score": ev.NewQualityScore, "current_limit": ev.CurrentLimit, "rejection_reason": ev.RejectionReason,
				"alert_type": ev.AlertType, "alert_severity": ev.AlertSeverity, "alert_status": ev.AlertStatus,
				"entity_type": ev.EntityType, "old_status": ev.OldStatus, "new_status": ev.NewStatus,
				"alert_state": ev.AlertState, "status": ev.Status, "message_type": ev.MessageType,
				"max_daily_conversations_per_business": ev.MaxDailyConversationsPerBusiness,
				"disconnection_info.reason":            ev.DisconnectionInfo.Reason,
				"disconnection_info.initiated_by":      ev.DisconnectionInfo.InitiatedBy,
				"volume_tier_info.pricing_category":    ev.VolumeTierInfo.PricingCategory,
				"correct_category":                     ev.CorrectCategory, "solution_status": ev.SolutionStatus,
				"preference.category": ev.Preference.Category, "preference.value": ev.Preference.Value,
				"call.direction": ev.Call.Direction, "call.status": ev.Call.Status,
			} {
				check(file, name, value)
			}
			for _, r := range ev.Restrictions {
				check(file, "restrictions[].type", r.Type)
			}
			for _, typ := range ev.Types {
				check(file, "types", typ)
			}
			if names := NamesOf(ev.Field); names != nil && ev.Event != "" && !slices.Contains(names, ev.Event) {
				t.Errorf("%s: event %q of %s is not among NamesOf(%q)", filepath.Base(file), ev.Event, ev.Field, ev.Field)
			}
			if ev.Event != "" && !HasCase(ev.Event, Upper) {
				t.Errorf("%s: event %q is not in upper case", filepath.Base(file), ev.Event)
			}
		}
	}
	if seen < 30 {
		t.Errorf("only %d events in the fixtures", seen)
	}
}
