package registry

import (
	"slices"
	"strings"

	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
	"github.com/wabarouter/wabarouter/internal/sinks/logsink"
	"github.com/wabarouter/wabarouter/internal/sinks/pagerduty"
	"github.com/wabarouter/wabarouter/internal/sinks/slack"
	"github.com/wabarouter/wabarouter/internal/sinks/webhook"
)

// types are the registered sink types, one line each.
var types = []sinks.Type{
	email.Type,
	logsink.Type,
	pagerduty.Type,
	slack.Type,
	webhook.Type,
}

// Lookup returns the sink type called name.
func Lookup(name string) (sinks.Type, bool) {
	i := slices.IndexFunc(types, func(t sinks.Type) bool { return t.Name == name })
	if i < 0 {
		return sinks.Type{}, false
	}
	return types[i], true
}

// Names lists the registered types' names in alphabetical order.
func Names() []string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// Known is the registered types' names as a config error lists them:
// "email, log, pagerduty, slack, webhook".
func Known() string { return strings.Join(Names(), ", ") }
