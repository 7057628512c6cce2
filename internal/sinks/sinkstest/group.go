package sinkstest

import (
	"fmt"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// Grouped is the opening of a group of paused templates as the router
// makes it: total items, of which the group lists listed (group.max),
// each title made of title(i); the second item is resolved.
func Grouped(total, listed int, title func(i int) string) notification.Notification {
	g := &notification.Group{Key: "104996122399160/message_template_status_update/group/paused",
		By: []string{"waba_id", "field"}, Values: []string{"104996122399160", "message_template_status_update"},
		Total: total, Open: total}
	for i := 1; i <= min(total, listed); i++ {
		it := notification.GroupItem{Key: fmt.Sprintf("104996122399160/template/%d/en_US/status", i), Title: title(i),
			Severity: notification.Warning, At: Time.Add(time.Duration(i) * time.Second), State: notification.Open, Events: 1}
		if i == 2 {
			it.State, it.Events = notification.ResolvedState, 2
			g.Open--
		}
		g.Items = append(g.Items, it)
	}
	return notification.Notification{
		ID: "n-group-1", Sink: "test", Rule: "paused", Severity: notification.Warning, Action: notification.Trigger,
		Title:    fmt.Sprintf("%s, and %d more", title(1), total-1),
		Body:     fmt.Sprintf("%d items of rule \"paused\", grouped by waba_id 104996122399160, field message_template_status_update; %d open.", total, g.Open),
		DedupKey: g.Key,
		Incident: &notification.Incident{ID: "inc-group", Key: g.Key, Episode: 1, Transition: notification.Opened, State: notification.Open,
			Seq: 1, Count: total, OpenedAt: Time, LastSeen: Time.Add(30 * time.Second)},
		Group:     g,
		CreatedAt: Time.Add(30 * time.Second),
		Event: event.Event{Object: event.ObjectWABA, WabaID: "104996122399160", Time: Time,
			Field: "message_template_status_update"},
	}
}

// TemplateTitle is the title of the i-th paused template of a group.
func TemplateTitle(i int) string {
	return fmt.Sprintf("Template order_update_%02d (en_US) was paused because of low quality", i)
}
