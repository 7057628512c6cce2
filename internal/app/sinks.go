package app

import (
	"errors"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
)

// BuildSinks makes the configured sinks, each by its type's constructor
// (see package registry); unless its config sets include_customer_data:
// true, each is wrapped so that it withholds customer data (see
// sinks.WithoutCustomerData). Their min_severity is applied while
// routing, not here, so no outbox row exists only to be skipped.
// Every sink that cannot be built is reported, by name and
// position, without its secrets. Building has no side effects: nothing
// connects anywhere and no file or folder is created (a log sink creates
// its file when it first writes), so check builds the sinks exactly as
// serve does. Close the sinks once nothing sends through them.
func BuildSinks(cfg *config.Config) (map[string]sinks.SinkCloser, error) {
	built := make(map[string]sinks.SinkCloser, len(cfg.Sinks))
	var errs []error
	for _, sc := range cfg.Sinks {
		s, err := buildSink(sc)
		if err != nil {
			errs = append(errs, &config.Error{File: cfg.Path, Line: sc.Line, Column: sc.Column,
				Msg: fmt.Sprintf("sink %q: %v", sc.Name, err)})
			continue
		}
		if !sc.IncludeCustomerData {
			s = sinks.WithCustomerDataWithheld(s)
		}
		built[sc.Name] = s
	}
	return built, errors.Join(errs...)
}

func buildSink(sc config.Sink) (sinks.SinkCloser, error) {
	typ, ok := registry.Lookup(sc.Type)
	if !ok {
		return nil, fmt.Errorf("unknown type %q; known types: %s", sc.Type, registry.Known())
	}
	return typ.New(sc.Reveal())
}

// CloseSinks closes every sink in built, and says which could not close.
func CloseSinks(built map[string]sinks.SinkCloser) error {
	var errs []error
	for name, s := range built {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing sink %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// SinkPolicies is what routing needs to know of each configured sink: its
// min_severity, and the transitions its type says it takes no
// notification for (see sinks.Capabilities).
func SinkPolicies(cfg *config.Config) map[string]router.SinkPolicy {
	out := make(map[string]router.SinkPolicy, len(cfg.Sinks))
	for _, sc := range cfg.Sinks {
		p := router.SinkPolicy{MinSeverity: sc.MinSeverity}
		if typ, ok := registry.Lookup(sc.Type); ok {
			p.Skips = typ.Capabilities(sc.Given).Skips
		}
		out[sc.Name] = p
	}
	return out
}

// defaultConcurrency is the sends in flight for a sink whose config sets
// none: its type's default, or else delivery's (2: Slack, PagerDuty and
// SMTP servers rate-limit).
func defaultConcurrency(sinkType string) int {
	typ, _ := registry.Lookup(sinkType)
	return typ.Concurrency
}
