package router

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// lastRecord is the decision log's newest record of the fixture's WABA.
func lastRecord(t *testing.T, f *fixture) Record {
	t.Helper()
	ds, err := f.st.Decisions(context.Background(), store.DecisionFilter{WabaID: waba})
	if err != nil || len(ds) == 0 {
		t.Fatalf("decisions = %d, %v", len(ds), err)
	}
	var rec Record
	if err := json.Unmarshal(ds[len(ds)-1].Record, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// noTime is banState in an entry without a time, as some payloads are.
func noTime(state string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[` + banState(state) + `]}]}`)
}

// TestEventsToldLate: Meta may deliver an account's events out of order
// (a retried delivery arrives hours late). An event that happened before
// what an incident already knows does not undo it: a DISABLE that
// happened before the REINSTATE that ended the ban pages no one, and a
// REINSTATE that happened before the ban it would end leaves it open.
// Events that do not say when they happened are taken in the order they
// come, as before.
func TestEventsToldLate(t *testing.T) {
	key := waba + "/ban"
	type step struct {
		name  string
		body  []byte
		pager []string // what the pager is queued, step by step
	}
	tests := []struct {
		name  string
		steps []step
		// open is how many incidents of the key are open at the end, of
		// episodes in all.
		open, episodes int
		// note is what the last decision says of the late event: in a
		// suppressed notification's reason, or an incident kept open.
		note string
	}{
		{"a ban told after its reinstatement", []step{
			{"banned at 10", envelope(10, banState("DISABLE")), []string{"opened@" + key}},
			{"reinstated at 20", envelope(20, banState("REINSTATE")), []string{"resolved@" + key}},
			{"the ban at 15, told late", envelope(15, banState("DISABLE")), nil},
		}, 0, 1, "before the event that resolved incident"},
		{"a reinstatement told after a later ban", []step{
			{"banned at 30", envelope(30, banState("DISABLE")), []string{"opened@" + key}},
			{"a reinstatement at 25, told late", envelope(25, banState("REINSTATE")), nil},
		}, 1, 1, "before the incident's latest report of the problem"},
		{"a new ban after the reinstatement", []step{
			{"banned at 10", envelope(10, banState("DISABLE")), []string{"opened@" + key}},
			{"reinstated at 20", envelope(20, banState("REINSTATE")), []string{"resolved@" + key}},
			{"banned again at 30", envelope(30, banState("DISABLE")), []string{"opened@" + key + "#2"}},
		}, 1, 2, ""},
		{"events that do not say when", []step{
			{"banned", noTime("DISABLE"), []string{"opened@" + key}},
			{"reinstated", noTime("REINSTATE"), []string{"resolved@" + key}},
			{"banned again", noTime("SCHEDULE_FOR_DISABLE"), []string{"opened@" + key + "#2"}},
		}, 1, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clock := incidentFixture(t)
			for _, st := range tt.steps {
				*clock = clock.Add(time.Minute)
				if _, err := f.route(t, st.body); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				wantTransitions(t, st.name, "pager", f.queued(t, "pager"), st.pager...)
			}
			incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{Key: key})
			if err != nil {
				t.Fatal(err)
			}
			open := 0
			for _, inc := range incs {
				if inc.State == "open" {
					open++
				}
			}
			if open != tt.open || len(incs) != tt.episodes {
				t.Fatalf("%d of %d episodes open, want %d of %d: %+v", open, len(incs), tt.open, tt.episodes, incs)
			}
			rec := lastRecord(t, f)
			var said []string
			for _, n := range rec.Notifications {
				if n.Outcome == Suppressed {
					said = append(said, n.Reason)
				}
			}
			for _, k := range rec.KeptOpen {
				said = append(said, k.Reason)
			}
			switch {
			case tt.note == "" && len(said) > 0:
				t.Errorf("the last event was not late, yet the decision says %q", said)
			case tt.note != "" && (len(said) == 0 || !strings.Contains(strings.Join(said, "\n"), tt.note)):
				t.Errorf("the decision on the late event says %q; want it to say it was told late, %q", said, tt.note)
			}
		})
	}
}
