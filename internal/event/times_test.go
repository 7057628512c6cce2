package event_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

// timeKeys are every key the parser reads as a time, each as a payload with
// a hole for the raw JSON value and the accessor of the time it becomes.
var timeKeys = []struct {
	name    string // as the warning names it
	payload string
	get     func(event.Event) time.Time
}{
	{"time",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","time":%s,"changes":[{"field":"account_review_update","value":{"decision":"APPROVED"}}]}]}`,
		func(ev event.Event) time.Time { return ev.Time }},
	{"expiration",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":%s}]}}]}]}`,
		func(ev event.Event) time.Time { return ev.Restrictions[0].Expiration }},
	{"waba_ban_date",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":%s}}}]}]}`,
		func(ev event.Event) time.Time { return ev.BanDate }},
	{"disable_date",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"DISABLED","message_template_id":1,"disable_info":{"disable_date":%s}}}]}]}`,
		func(ev event.Event) time.Time { return ev.DisableDate }},
	{"statuses[].timestamp",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","statuses":[{"id":"wamid.1","status":"sent","timestamp":%s}]}}]}]}`,
		func(ev event.Event) time.Time { return ev.Time }},
	{"messages[].timestamp",
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","messages":[{"id":"wamid.2","from":"1555","type":"text","timestamp":%s}]}}]}]}`,
		func(ev event.Event) time.Time { return ev.Time }},
}

// TestParseTimes reads each kind of time Meta (or a sender that means well)
// writes, in every key the parser reads as a time.
func TestParseTimes(t *testing.T) {
	tests := []struct {
		raw  string // JSON value
		want string // RFC 3339 in UTC; "" for no time
		warn string // substring of the key's warning; "" for none
	}{
		{`1764597600`, "2025-12-01T14:00:00Z", ""},
		{`"1764597600"`, "2025-12-01T14:00:00Z", ""},
		{`" 1764597600 "`, "2025-12-01T14:00:00Z", ""},
		{`1764597600.5`, "2025-12-01T14:00:00.5Z", ""},
		{`"1764597600.25"`, "2025-12-01T14:00:00.25Z", ""},
		{`1764597600123`, "2025-12-01T14:00:00.123Z", "read as Unix milliseconds"},
		{`"1764597600123"`, "2025-12-01T14:00:00.123Z", "read as Unix milliseconds"},
		{`1764597600123.0`, "2025-12-01T14:00:00.123Z", "read as Unix milliseconds"},
		{`1.764597600123e12`, "2025-12-01T14:00:00.123Z", "read as Unix milliseconds"},
		{`1764597600000000`, "2025-12-01T14:00:00Z", "read as Unix microseconds"},
		{`1764597600000000000`, "2025-12-01T14:00:00Z", "read as Unix nanoseconds"},
		{`3153600000`, "2069-12-07T00:00:00Z", ""},
		{`3153600000000000`, "2069-12-07T00:00:00Z", "read as Unix microseconds"},
		{`946684800`, "2000-01-01T00:00:00Z", ""},
		{`0`, "1970-01-01T00:00:00Z", ""},
		{`1`, "1970-01-01T00:00:01Z", ""},
		{`"1999-12-31"`, "1999-12-31T00:00:00Z", ""},
		{`7258118399`, "2199-12-31T23:59:59Z", ""},
		{`"2025-12-08"`, "2025-12-08T00:00:00Z", ""},
		{`"December 8, 2025"`, "2025-12-08T00:00:00Z", ""},
		{`"2026-10-30T13:38:04+0000"`, "2026-10-30T13:38:04Z", ""},
		{`null`, "", ""},
		{`""`, "", ""},
		// Out of range: never built, so an event always encodes.
		{`7258118400`, "", "outside the years 1970 to 2199"},
		{`99999999999`, "", "outside the years 1970 to 2199"},
		{`-1`, "", "outside the years 1970 to 2199"},
		{`-1764597600000`, "", "outside the years 1970 to 2199"},
		{`"-1764597600"`, "", "outside the years 1970 to 2199"},
		{`9223372036854775807`, "", "outside the years 1970 to 2199"},
		{`99999999999999999999`, "", "outside the years 1970 to 2199"},
		{`1e300`, "", "outside the years 1970 to 2199"},
		{`-1e300`, "", "outside the years 1970 to 2199"},
		{`"99999999999999999999999"`, "", "outside the years 1970 to 2199"},
		{`"9999-12-31"`, "", "outside the years 1970 to 2199"},
		{`"1969-12-31"`, "", "outside the years 1970 to 2199"},
		{`"soon"`, "", `"soon" is not a time`},
		{`"NaN"`, "", `"NaN" is not a time`},
		{`"Inf"`, "", `"Inf" is not a time`},
		{`"0x1p30"`, "", `"0x1p30" is not a time`},
		{`true`, "", "a boolean is not a time"},
		{`{"at":1}`, "", "an object is not a time"},
	}
	for _, key := range timeKeys {
		for _, tt := range tests {
			t.Run(key.name+"="+tt.raw, func(t *testing.T) {
				evs, err := event.Parse(fmt.Appendf(nil, key.payload, tt.raw))
				if err != nil || len(evs) != 1 {
					t.Fatalf("Parse: %d events, %v; want 1 event", len(evs), err)
				}
				ev := evs[0]
				got := ""
				if ts := key.get(ev); !ts.IsZero() {
					got = ts.Format(time.RFC3339Nano)
				}
				if got != tt.want {
					t.Errorf("%s = %q, want %q (warnings %q)", key.name, got, tt.want, ev.Warnings)
				}
				warned := ""
				for _, w := range ev.Warnings {
					if strings.HasPrefix(w, key.name+" ") {
						warned = w
					}
				}
				switch {
				case tt.warn == "" && warned != "":
					t.Errorf("unexpected warning %q", warned)
				case tt.warn != "" && !strings.Contains(warned, tt.warn):
					t.Errorf("warnings %q, want one on %s containing %q", ev.Warnings, key.name, tt.warn)
				}
				if _, err := json.Marshal(ev); err != nil {
					t.Errorf("event does not encode: %v", err)
				}
				if _, err := event.Fingerprint(ev); err != nil {
					t.Errorf("event has no fingerprint: %v", err)
				}
			})
		}
	}
}

// TestEveryParsedTimeEncodes puts numbers of every size and sign, as
// numbers and as numeric strings, in every time key: each event must encode
// and every time it holds must lie in [MinTime, MaxTime).
func TestEveryParsedTimeEncodes(t *testing.T) {
	var raws []string
	for exp := range 25 {
		for _, mantissa := range []float64{1, 1.7645976, 3.1536, 9.99} {
			f := mantissa * math.Pow(10, float64(exp))
			for _, v := range []float64{f, -f} {
				n := strconv.FormatFloat(v, 'f', -1, 64)
				raws = append(raws, n, strconv.Quote(n), strconv.FormatFloat(v, 'e', -1, 64))
			}
		}
	}
	raws = append(raws, strconv.FormatInt(math.MaxInt64, 10), strconv.FormatInt(math.MinInt64, 10),
		`"`+strconv.FormatInt(math.MaxInt64, 10)+`"`, "1e308", "-1e308", "5e-324")
	for _, key := range timeKeys {
		for _, raw := range raws {
			evs, err := event.Parse(fmt.Appendf(nil, key.payload, raw))
			if err != nil || len(evs) != 1 {
				t.Fatalf("%s=%s: %d events, %v", key.name, raw, len(evs), err)
			}
			ev := evs[0]
			if _, err := json.Marshal(ev); err != nil {
				t.Errorf("%s=%s: event does not encode: %v", key.name, raw, err)
			}
			for _, ts := range []time.Time{ev.Time, ev.BanDate, ev.DisableDate, key.get(ev)} {
				if !ts.IsZero() && (ts.Before(event.MinTime) || !ts.Before(event.MaxTime)) {
					t.Errorf("%s=%s: built %v, outside [%v, %v)", key.name, raw, ts, event.MinTime, event.MaxTime)
				}
			}
		}
	}
}
