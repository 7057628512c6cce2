package pagerduty

import (
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Type is the "pagerduty" sink type: Events API v2 triggers and resolves
// under the incident episode's dedup_key, and change events for good news
// outside any incident.
var Type = sinks.Type{
	Name: "pagerduty",
	Settings: []sinks.Setting{
		{Key: "routing_key", Kind: sinks.SecretText, Required: true},
		{Key: "events_url", Kind: sinks.Text},
	},
	New: func(s sinks.Settings) (sinks.SinkCloser, error) {
		sink, err := New(Config{RoutingKey: s.String("routing_key"), EventsURL: s.String("events_url")}, nil)
		if err != nil {
			return nil, err
		}
		return sink, nil
	},
	Capabilities: func(func(string) bool) sinks.Capabilities {
		// A repeat or a reminder would page again for what is already
		// open; an escalation triggers again with the new severity.
		return sinks.Capabilities{StaysOpen: true,
			Skips: []notification.Transition{notification.Updated, notification.Reminded}}
	},
}
