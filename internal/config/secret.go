package config

import "log/slog"

// redacted is what a Secret prints as everywhere except Reveal.
const redacted = "<secret>"

// Secret is a string that must never appear in logs, errors or dumps.
type Secret string

// Reveal returns the secret value. It is the only way to get it.
func (s Secret) Reveal() string { return string(s) }

// String keeps the value out of fmt output.
func (s Secret) String() string { return redacted }

// GoString keeps the value out of %#v output.
func (s Secret) GoString() string { return `"` + redacted + `"` }

// MarshalText keeps the value out of encoders that use text marshalling.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON keeps the value out of JSON dumps.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML keeps the value out of YAML dumps.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue keeps the value out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
