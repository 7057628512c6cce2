package slack

import (
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Type is the "slack" sink type: an incoming webhook (webhook_url), or a
// bot (token and channel) that keeps one message per incident up to date
// and threads its history under it.
var Type = sinks.Type{
	Name: "slack",
	Settings: []sinks.Setting{
		{Key: "webhook_url", Kind: sinks.SecretText},
		{Key: "token", Kind: sinks.SecretText},
		{Key: "channel", Kind: sinks.Text},
		{Key: "api_url", Kind: sinks.Text},
	},
	Check: func(given func(string) bool) []string {
		hook, token, channel := given("webhook_url"), given("token"), given("channel")
		switch {
		case hook && (token || channel):
			return []string{"set either webhook_url, or token and channel, not both"}
		case !hook && !(token && channel):
			return []string{"a slack sink needs webhook_url, or token and channel"}
		}
		return nil
	},
	New: func(s sinks.Settings) (sinks.SinkCloser, error) {
		sink, err := New(Config{WebhookURL: s.String("webhook_url"), Token: s.String("token"),
			Channel: s.String("channel"), APIURL: s.String("api_url")}, nil)
		if err != nil {
			return nil, err
		}
		return sink, nil
	},
	Capabilities: func(given func(string) bool) sinks.Capabilities {
		if given("token") {
			return sinks.Capabilities{UpdatesInPlace: true, Threads: true}
		}
		// An incoming webhook can only add messages: one for every
		// repeat would flood the channel.
		return sinks.Capabilities{Skips: []notification.Transition{notification.Updated}}
	},
}
