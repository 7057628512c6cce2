package sinks

import (
	"reflect"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

func TestFacts(t *testing.T) {
	got := Facts(sinkstest.Restriction())
	want := []Fact{
		{"WABA", "104996122399160"},
		{"Phone number", "16505551234"},
		{"Event", "account_update/ACCOUNT_RESTRICTION"},
		{"Restrictions", "RESTRICTED_BIZ_INITIATED_MESSAGING until 2026-11-30 14:02 UTC"},
		{"Rule", "restrictions"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	got = Facts(sinkstest.Ban())
	if got[2] != (Fact{"Ban", "DISABLE on 2026-11-24 UTC"}) {
		t.Errorf("ban facts %v", got)
	}
}

// A handed-over notification says, last, which sink it was meant for and
// why it came here instead.
func TestFactsFallback(t *testing.T) {
	n := sinkstest.Restriction()
	n.FallbackFor = &notification.Fallback{Sink: "compliance-slack", Reason: "slack: HTTP 503", Notification: "abc"}
	got := Facts(n)
	if last := got[len(got)-1]; last != (Fact{"Fallback for", "compliance-slack: slack: HTTP 503"}) {
		t.Errorf("last fact = %v, want the fallback", last)
	}
	if len(got) != len(Facts(sinkstest.Restriction()))+1 {
		t.Errorf("facts = %v, want the plain ones and the fallback", got)
	}
}
