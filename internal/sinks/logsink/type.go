package logsink

import "github.com/wabarouter/wabarouter/internal/sinks"

// Type is the "log" sink type: every transition of every incident, as a
// JSON line on standard output or in a file.
var Type = sinks.Type{
	Name:     "log",
	Settings: []sinks.Setting{{Key: "path", Kind: sinks.Path}},
	New: func(s sinks.Settings) (sinks.SinkCloser, error) {
		sink, err := Open(s.String("path"))
		if err != nil {
			return nil, err
		}
		return sink, nil
	},
	Capabilities: func(func(string) bool) sinks.Capabilities { return sinks.Capabilities{} },
	Concurrency:  4,
}
