package webhook

import "github.com/wabarouter/wabarouter/internal/sinks"

// Type is the "webhook" sink type: every transition of every incident,
// POSTed as the notification's JSON.
var Type = sinks.Type{
	Name: "webhook",
	Settings: []sinks.Setting{
		{Key: "url", Kind: sinks.Text, Required: true},
		{Key: "headers", Kind: sinks.SecretMap},
		{Key: "secret", Kind: sinks.SecretText},
	},
	New: func(s sinks.Settings) (sinks.SinkCloser, error) {
		sink, err := New(Config{URL: s.String("url"), Headers: s.Map("headers"), Secret: s.String("secret")}, nil)
		if err != nil {
			return nil, err
		}
		return sink, nil
	},
	Capabilities: func(func(string) bool) sinks.Capabilities { return sinks.Capabilities{} },
	// A receiver of one's own takes more at once than a rate-limited
	// service, and its acks then share commits: 32 sustains 5,000
	// deliveries a second to a local receiver on two cores (16: about
	// 4,400). It is also the most a crash can make it see twice.
	Concurrency: 32,
}
