package event_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// TestParseEmptyWebhook: a well-formed envelope with nothing in it is no
// error (Meta retries what is refused for days); it yields no events and
// says so in a warning.
func TestParseEmptyWebhook(t *testing.T) {
	tests := []struct {
		name, body, warn string
	}{
		{"empty entry list", `{"object":"whatsapp_business_account","entry":[]}`, "the entry list is empty"},
		{"entry with empty changes", `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[]}]}`, "no entry has changes"},
		{"two entries with empty changes", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]},{"id":"2","changes":[]}]}`, "no entry has changes"},
		{"entry object with empty changes", `{"object":"whatsapp_business_account","entry":{"id":"1","changes":[]}}`, "no entry has changes"},
		{"no object, empty entry list", `{"entry":[]}`, "the entry list is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := event.Parser{}.Parse([]byte(tt.body))
			if err != nil || len(pl.Events) != 0 {
				t.Fatalf("Parse = %d events, %v; want none and no error", len(pl.Events), err)
			}
			if !strings.Contains(strings.Join(pl.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q, want one saying %q", pl.Warnings, tt.warn)
			}
			if err := (event.Parser{}).Check([]byte(tt.body)); err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
			if evs, err := event.Parse([]byte(tt.body)); err != nil || len(evs) != 0 {
				t.Errorf("event.Parse = %d events, %v; want none and no error", len(evs), err)
			}
		})
	}
	// An entry that is not an object, or has no changes list, is still a
	// change the parser could not read, reported beside its siblings.
	_, err := event.Parse([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1"}]}`))
	var ce *event.ChangeError
	if !errors.As(err, &ce) || ce.Entry != 0 {
		t.Errorf("entry without changes: err = %v, want a ChangeError for entry 0", err)
	}
}

// manyChanges is one entry holding n copies of change.
func manyChanges(n int, change string) []byte {
	var sb strings.Builder
	sb.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(change)
	}
	sb.WriteString(`]}]}`)
	return []byte(sb.String())
}

// statuses is one messages change with n statuses.
func statuses(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"statuses":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":"wamid.%d","status":"sent","timestamp":"1764597600","recipient_id":"1555"}`, i)
	}
	sb.WriteString(`]}}]}]}`)
	return []byte(sb.String())
}

const flowsChange = `{"field":"flows","value":{"x":1}}`

// TestParseBoundsChanges: a body with more changes than the bound is
// refused whole, by Parse and Check alike, with how many and the limit.
func TestParseBoundsChanges(t *testing.T) {
	tests := []struct {
		name   string
		parser event.Parser
		body   []byte
		events int    // when accepted
		refuse string // substring of the refusal; "" to accept
	}{
		{"100,001 changes", event.Parser{}, manyChanges(100_001, flowsChange), 0, "100001 changes, more than the limit of 10000"},
		{"10,001 changes", event.Parser{}, manyChanges(10_001, flowsChange), 0, "10001 changes, more than the limit of 10000"},
		{"10,000 changes", event.Parser{}, manyChanges(10_000, flowsChange), 10_000, ""},
		{"10,001 statuses in one change", event.Parser{}, statuses(10_001), 0, "10001 changes, more than the limit of 10000"},
		{"10,000 statuses in one change", event.Parser{}, statuses(10_000), 10_000, ""},
		{"a bound of 3, 3 changes", event.Parser{MaxChanges: 3}, manyChanges(3, flowsChange), 3, ""},
		{"a bound of 3, 4 changes", event.Parser{MaxChanges: 3}, manyChanges(4, flowsChange), 0, "4 changes, more than the limit of 3"},
		{"changes that are not objects count", event.Parser{MaxChanges: 3}, manyChanges(4, `7`), 0, "4 changes, more than the limit of 3"},
		{"over several entries", event.Parser{MaxChanges: 3},
			[]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[` + flowsChange + `,` + flowsChange + `]},{"id":"2","changes":[` + flowsChange + `,` + flowsChange + `]}]}`),
			0, "4 changes, more than the limit of 3"},
		// A repeated key counts as its last value, as the decoder reads it.
		{"repeated changes key", event.Parser{MaxChanges: 3},
			[]byte(`{"entry":[{"id":"1","changes":[` + flowsChange + `,` + flowsChange + `,` + flowsChange + `,` + flowsChange + `],"changes":[` + flowsChange + `]}]}`),
			1, ""},
		{"bare messages change", event.Parser{MaxChanges: 1},
			[]byte(`{"field":"messages","value":{"statuses":[{"id":"a","status":"sent"},{"id":"b","status":"sent"}]}}`),
			0, "2 changes, more than the limit of 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := tt.parser.Parse(tt.body)
			checkErr := tt.parser.Check(tt.body)
			if tt.refuse == "" {
				if err != nil || checkErr != nil || len(pl.Events) != tt.events {
					t.Fatalf("Parse = %d events, %v; Check = %v; want %d events and no errors", len(pl.Events), err, checkErr, tt.events)
				}
				return
			}
			for name, err := range map[string]error{"Parse": err, "Check": checkErr} {
				if !errors.Is(err, event.ErrTooManyChanges) || !strings.Contains(err.Error(), tt.refuse) {
					t.Errorf("%s = %v; want ErrTooManyChanges saying %q", name, err, tt.refuse)
				}
			}
			if pl.Events != nil {
				t.Errorf("Parse returned %d events beside the refusal", len(pl.Events))
			}
		})
	}
}

// TestRefusingHugeBodyBuildsNothing: the 3.4 MB body with 100,000 changes
// that once took 700 MB is refused after reading its bytes, allocating far
// less than the body itself and a handful of objects.
func TestRefusingHugeBodyBuildsNothing(t *testing.T) {
	body := manyChanges(100_001, flowsChange)
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := event.Parse(body); !errors.Is(err, event.ErrTooManyChanges) {
			t.Fatalf("Parse = %v, want ErrTooManyChanges", err)
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = event.Parse(body)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if allocs > 20 || allocated > uint64(len(body))/10 {
		t.Errorf("refusing a %d-byte body of 100,001 changes made %.0f allocations of %d bytes; want at most 20 and under a tenth of the body",
			len(body), allocs, allocated)
	}
}
