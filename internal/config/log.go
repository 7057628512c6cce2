package config

import (
	"log/slog"

	"gopkg.in/yaml.v3"
)

// Log configures the router's own log: its level and format.
type Log struct {
	Level slog.Level
	// Format is "text" (logfmt-like, for people) or "json" (for a log
	// pipeline).
	Format string
}

// Log formats.
const (
	LogText = "text"
	LogJSON = "json"
)

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func (p *parser) log(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "log must be a mapping with level and format, got %s", kindName(v))
		return
	}
	p.fields(v, "log", map[string]func(k, v *yaml.Node){
		"level": func(_, v *yaml.Node) {
			val, ok := p.str(v, "log.level")
			if !ok {
				return
			}
			level, known := logLevels[val]
			if !known {
				p.errorf(v, "log.level %q is not one of debug, info, warn, error", val)
				return
			}
			cfg.Log.Level = level
		},
		"format": func(_, v *yaml.Node) {
			val, ok := p.str(v, "log.format")
			if !ok {
				return
			}
			if val != LogText && val != LogJSON {
				p.errorf(v, "log.format %q is not text or json", val)
				return
			}
			cfg.Log.Format = val
		},
	})
}
