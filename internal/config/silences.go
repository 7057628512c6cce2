package config

import (
	"fmt"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// Silences configures what silences do beyond hiding notifications.
type Silences struct {
	// RemindTo are the sinks told, RemindBefore ahead of a silence's end,
	// that it still hides open incidents; none when empty.
	RemindTo     []string
	RemindBefore time.Duration
	// remindNodes place each RemindTo entry, for the check that the sink
	// exists, which waits until every sink is read.
	remindNodes []*yaml.Node
}

// DefaultSilenceRemindBefore is how long before its end a silence reminds.
const DefaultSilenceRemindBefore = 15 * time.Minute

func (p *parser) silences(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "silences must be a mapping, such as {remind: {to: [compliance-slack], before: 15m}}, got %s", kindName(v))
		return
	}
	p.fields(v, "silences", map[string]func(k, v *yaml.Node){
		"remind": func(_, v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "silences.remind must be a mapping, such as {to: [compliance-slack], before: 15m}, got %s", kindName(v))
				return
			}
			cfg.Silences.RemindBefore = DefaultSilenceRemindBefore
			p.fields(v, "silences.remind", map[string]func(k, v *yaml.Node){
				"to": func(_, v *yaml.Node) {
					if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
						p.errorf(v, "silences.remind.to must list the sinks to remind, such as [compliance-slack]")
						return
					}
					for i, item := range v.Content {
						if name, ok := p.str(item, fmt.Sprintf("silences.remind.to[%d]", i)); ok {
							cfg.Silences.RemindTo = append(cfg.Silences.RemindTo, name)
							cfg.Silences.remindNodes = append(cfg.Silences.remindNodes, deref(item))
						}
					}
				},
				"before": func(_, v *yaml.Node) {
					val, ok := p.str(v, "silences.remind.before")
					if !ok {
						return
					}
					d, err := time.ParseDuration(val)
					if err != nil || d <= 0 {
						p.errorf(v, "silences.remind.before %q must be a duration, such as 15m", val)
						return
					}
					cfg.Silences.RemindBefore = d
				},
			})
		},
	})
}

// checkSilenceSinks reports a reminder sink the config does not define.
func (p *parser) checkSilenceSinks(cfg *Config) {
	names := cfg.SinkNames()
	for i, name := range cfg.Silences.RemindTo {
		if !slices.Contains(names, name) {
			p.errorf(cfg.Silences.remindNodes[i], "silences.remind.to: sink %q is not defined; defined sinks: %v", name, names)
		}
	}
}
