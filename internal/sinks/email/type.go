package email

import (
	"fmt"
	"strconv"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Type is the "email" sink type: one mail per transition by SMTP, the
// follow-ups threaded under the incident's first mail.
var Type = sinks.Type{
	Name: "email",
	Settings: []sinks.Setting{
		{Key: "host", Kind: sinks.Text, Required: true},
		{Key: "port", Kind: sinks.Text},
		{Key: "username", Kind: sinks.Text},
		{Key: "password", Kind: sinks.SecretText},
		{Key: "tls", Kind: sinks.Text},
		{Key: "ca_file", Kind: sinks.Path},
		{Key: "from", Kind: sinks.Text, Required: true},
		{Key: "to", Kind: sinks.List, Required: true},
	},
	New: func(s sinks.Settings) (sinks.SinkCloser, error) {
		port := 0
		if p := s.String("port"); p != "" {
			var err error
			if port, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("port %q is not a number", p)
			}
		}
		sink, err := New(Config{Host: s.String("host"), Port: port, Username: s.String("username"),
			Password: s.String("password"), TLS: s.String("tls"), CAFile: s.String("ca_file"),
			From: s.String("from"), To: s.List("to")})
		if err != nil {
			return nil, err
		}
		return sink, nil
	},
	Capabilities: func(func(string) bool) sinks.Capabilities {
		// A mail for every repeat would flood the mailbox.
		return sinks.Capabilities{Threads: true, Skips: []notification.Transition{notification.Updated}}
	},
}
