package sinks

import (
	"reflect"
	"testing"

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
