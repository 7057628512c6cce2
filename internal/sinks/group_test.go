package sinks

import (
	"fmt"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
)

func TestGroupLines(t *testing.T) {
	n := notification.Notification{Incident: &notification.Incident{State: notification.Open}, Group: &notification.Group{Total: 5, Open: 4,
		Items: []notification.GroupItem{
			{Title: "Template a (en_US) was paused", State: notification.Open, Events: 1},
			{Title: "Template b\u202e (en_US)\nwas paused", State: notification.ResolvedState, Events: 3},
		}}}
	want := "[Template a (en_US) was paused Template b (en_US) was paused (resolved, 3 events)]"
	if got := fmt.Sprint(GroupLines(n)); got != want {
		t.Errorf("lines %s, want %s", got, want)
	}
	if got := GroupHeading(n); got != "5 items, 4 open" {
		t.Errorf("heading %q", got)
	}
	if got := GroupMore(n, 2); got != "and 5 more" {
		t.Errorf("more %q, want and 5 more (3 beyond max, 2 cut)", got)
	}
	if GroupLines(notification.Notification{}) != nil || GroupHeading(notification.Notification{}) != "" {
		t.Error("a notification outside any group has group lines")
	}
}
