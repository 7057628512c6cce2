package sinks

import (
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
)

// SinkCloser is a built sink: it sends, and Close gives back what it
// holds (idle connections, an open file) once nothing sends through it
// any more.
type SinkCloser interface {
	Sink
	io.Closer
}

// Type is what a sink type's package says about itself, so that the
// config, the wiring and routing need no knowledge of any one type: its
// settings, how to build it from them, and what it can do. Package
// registry lists every type.
type Type struct {
	// Name is the type as a config's sink writes it, such as "slack".
	Name string
	// Settings are the type's own keys, besides the ones every sink has
	// (name, type, min_severity, concurrency, include_customer_data).
	Settings []Setting
	// Check, when set, reports what is wrong with which settings are
	// written beyond a missing required one, such as two ways to reach
	// the same service given at once; given reports whether a key was
	// written, also when its value could not be read.
	Check func(given func(key string) bool) []string
	// New builds a sink from its settings. It connects nowhere and
	// creates nothing, so check builds sinks exactly as serve does.
	New func(s Settings) (SinkCloser, error)
	// Capabilities says what a sink of this type, with these settings
	// written, can do.
	Capabilities func(given func(key string) bool) Capabilities
	// Concurrency is how many sends are in flight per sink by default; 0
	// leaves delivery's default.
	Concurrency int
}

// Setting is one key of a sink type.
type Setting struct {
	Key      string
	Kind     Kind
	Required bool
}

// Kind says what a setting's value is, and so how the config reads it.
type Kind int

// The kinds of settings.
const (
	// Text is a single value.
	Text Kind = iota
	// SecretText is a single value kept out of every output.
	SecretText
	// Path is a file path, relative to the config file's folder.
	Path
	// List is one value or a list of them.
	List
	// SecretMap is a mapping of names to values kept out of every
	// output (request headers, which carry tokens).
	SecretMap
)

// Setting returns the type's setting named key.
func (t Type) Setting(key string) (Setting, bool) {
	i := slices.IndexFunc(t.Settings, func(s Setting) bool { return s.Key == key })
	if i < 0 {
		return Setting{}, false
	}
	return t.Settings[i], true
}

// Settings are one configured sink's settings as its type declared
// them, with secrets revealed: Text, SecretText and Path settings as a
// string, List as a []string, SecretMap as a map[string]string. An
// absent setting is missing from the map.
type Settings map[string]any

// String returns a single-valued setting, "" when absent.
func (s Settings) String(key string) string {
	v, _ := s[key].(string)
	return v
}

// List returns a list setting, nil when absent.
func (s Settings) List(key string) []string {
	v, _ := s[key].([]string)
	return v
}

// Map returns a mapping setting, nil when absent.
func (s Settings) Map(key string) map[string]string {
	v, _ := s[key].(map[string]string)
	return v
}

// Capabilities are what a sink can do with an incident's transitions.
type Capabilities struct {
	// UpdatesInPlace: later transitions edit the first message about the
	// incident (Slack's chat.update).
	UpdatesInPlace bool
	// Threads: later transitions are shown under the first message
	// (a Slack thread, an e-mail conversation).
	Threads bool
	// Skips are the transitions the sink takes no notification for: a
	// pager must not page again on a repeat, and a sink that can only
	// add a message would flood with every repeat.
	Skips []notification.Transition
	// StaysOpen: a trigger opens something at the destination that stays
	// open until a resolve closes it (a PagerDuty incident), so
	// notify-test closes what it opened.
	StaysOpen bool
}

// HTTPTimeout bounds every request a sink makes; a delivery attempt has
// its own, longer deadline on top.
const HTTPTimeout = 20 * time.Second

// NewHTTPClient returns an HTTP client for one sink, with a transport of
// its own: enough idle connections for the sink's concurrent sends (the
// default transport keeps two per host and would reconnect), given back
// when the sink closes.
func NewHTTPClient() *http.Client {
	return &http.Client{Timeout: HTTPTimeout, Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}}
}
