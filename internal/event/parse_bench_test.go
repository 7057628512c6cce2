package event_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

// BenchmarkParse measures Parse on one small seed payload, on every
// fixture in turn, and on a 1,000-change batch (the most Meta sends in one
// webhook); MB/s is of the raw body:
//
//	go test -run '^$' -bench Parse -benchmem ./internal/event/
func BenchmarkParse(b *testing.B) {
	small, err := os.ReadFile(filepath.Join(webhooksDir, "seed_account_restriction.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("seed_account_restriction", func(b *testing.B) {
		b.SetBytes(int64(len(small)))
		b.ReportAllocs()
		for b.Loop() {
			if evs, err := event.Parse(small); err != nil || len(evs) != 1 {
				b.Fatalf("%d events, %v", len(evs), err)
			}
		}
	})

	files, err := filepath.Glob(filepath.Join(webhooksDir, "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures under %s: %v", webhooksDir, err)
	}
	var bodies [][]byte
	total := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
		total += len(body)
	}
	b.Run("all_fixtures", func(b *testing.B) {
		// One op parses one fixture, round robin; bytes are the mean size.
		b.SetBytes(int64(total / len(bodies)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if evs, _ := event.Parse(bodies[i%len(bodies)]); len(evs) == 0 {
				b.Fatalf("%s: no events", files[i%len(files)])
			}
			i++
		}
	})

	batch := batchOf(1000)
	b.Run("batch_1000_changes", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for b.Loop() {
			if evs, err := event.Parse(batch); err != nil || len(evs) != 1000 {
				b.Fatalf("%d events, %v", len(evs), err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
	})
}

// batchOf is one entry with n changes, varied so they are not identical.
func batchOf(n int) []byte {
	kinds := []string{
		`{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"ADULT"}}}`,
		`{"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1796133600}]}}`,
		`{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":1234567890,"message_template_name":"order_update","message_template_language":"en_US","reason":"INCORRECT_CATEGORY"}}`,
		`{"field":"phone_number_quality_update","value":{"display_phone_number":"16505551111","event":"DOWNGRADE","current_limit":"TIER_1K"}}`,
	}
	var sb strings.Builder
	sb.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(kinds[i%len(kinds)])
	}
	sb.WriteString(`]}]}`)
	return []byte(sb.String())
}
