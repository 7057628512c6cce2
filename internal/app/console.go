package app

import (
	"context"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/console"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// registerConsole serves the web console on srv when the config has a
// console section; without one nothing is served under console.Prefix.
func (p *Pipeline) registerConsole(srv *Server) error {
	if !p.cfg.Console.Enabled() {
		return nil
	}
	built := make(map[string]sinks.Sink, len(p.sinks))
	for name, s := range p.sinks {
		built[name] = s
	}
	c, err := console.New(console.Options{
		Config: p.cfg,
		Store:  p.store,
		Rules:  p.router.Rules,
		DryRun: p.consoleDryRun,
		Sinks:  built,
		Wake:   p.wakeSinks,
		Health: func(sink string) (console.SinkHealth, bool) {
			w, ok := p.workers[sink]
			if !ok {
				return console.SinkHealth{}, false
			}
			failing, since, err := w.Health()
			h := console.SinkHealth{Failing: failing, Since: since}
			if err != nil {
				h.LastErr = err.Error()
			}
			return h, true
		},
		Log: p.log.With("component", "console"),
	})
	if err != nil {
		return fmt.Errorf("starting the console: %w", err)
	}
	srv.Handle(console.Prefix, c)
	return nil
}

// consoleDryRun is the playground's dry run: the stages serve runs, under
// set and the config's sinks, on a scratch store of its own.
func (p *Pipeline) consoleDryRun(ctx context.Context, set *rules.Set, body []byte) (console.DryResult, error) {
	d, err := NewDryRun(ctx, p.cfg, set, set.Now)
	if err != nil {
		return console.DryResult{}, err
	}
	defer func() { _ = d.Close() }()
	res, err := d.Route(ctx, body)
	return console.DryResult{Refused: res.Refused, Unreadable: res.Unreadable, Result: res.Result}, err
}
