package app

import (
	"fmt"
	"strings"
	"testing"
)

// bigWebhook is one entry with n changes of 34 bytes each: 100,000 make the
// 3.4 MB body of issue 10's point 12.
func bigWebhook(n int) []byte {
	var sb strings.Builder
	sb.Grow(n*34 + 128)
	sb.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1764597600,"changes":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"field":"flows","value":{"x":1}}`)
	}
	sb.WriteString(`]}]}`)
	return []byte(sb.String())
}

// BenchmarkValidatePayload measures intake validation of a 1,000-change
// body (the most Meta sends) and of the 100,000-change body it refuses:
//
//	go test -run '^$' -bench ValidatePayload -benchmem ./internal/app/
func BenchmarkValidatePayload(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		body := bigWebhook(n)
		b.Run(fmt.Sprintf("%d_changes", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = ValidatePayload(body)
			}
		})
	}
}
