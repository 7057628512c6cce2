package config

import (
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/schedule"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
)

// Sink is one entry of the sinks list: a name rules send to, a type, and
// that type's settings with ${ENV} expanded. Secret settings hold a Secret.
type Sink struct {
	Name        string
	Type        string
	MinSeverity notification.Severity
	// Concurrency is how many sends to this sink may be in flight at once;
	// zero means the delivery default. A crash can repeat at most this
	// many sends.
	Concurrency int
	// IncludeCustomerData lets the sink send what customers wrote and
	// who they are (message texts, profile names, WhatsApp ids), which
	// every sink withholds by default.
	IncludeCustomerData bool
	// Schedules are when the sink takes notifications (active_during,
	// muted_during); see schedules.go.
	Schedules schedule.Gate
	// Rate bounds how fast notifications are sent to the sink: its
	// rate, else its type's default (1/s for Slack); the zero Rate is no
	// bound (rate: none).
	Rate Rate
	// Fallback names the sinks that take over a notification this sink
	// could not deliver.
	Fallback Fallback
	// Settings maps each setting written to its value, read as the
	// sink's type declares it (sinks.Kind): a string (Text and Path), a
	// Secret (SecretText), a []string (List) or a map[string]Secret
	// (SecretMap).
	Settings map[string]any
	Line     int
	Column   int
	// Unset lists the environment variables its settings name that were
	// not set, in a read that allows that (ForRules, or ForSink for
	// another sink). Such a sink cannot be built: its name is there for
	// rules to send to, its settings are not.
	Unset []string

	// unreadable are settings that were written but could not be read
	// (an unset ${VAR}): already reported, so not "required" again.
	unreadable map[string]bool
	// fallbackNodes are where each of Fallback.To is written, for the
	// errors that need all the sinks to be found.
	fallbackNodes []*yaml.Node
}

// Rate is at most N sends per Per. The zero Rate sets no bound.
type Rate struct {
	N   int
	Per time.Duration
}

// Limited reports whether the rate bounds anything.
func (r Rate) Limited() bool { return r.N > 0 && r.Per > 0 }

// String writes the rate as the config does: 1/s, 30/m, none.
func (r Rate) String() string {
	if !r.Limited() {
		return "none"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	if unit == "" {
		unit = r.Per.String()
	}
	return fmt.Sprintf("%d/%s", r.N, unit)
}

// Fallback says where a sink's notifications go when it cannot deliver
// them: each sink of To gets a notification that was dead-lettered here,
// or that has been failing here for After since it was queued (and is
// still retried here). A zero After hands over only on dead letter.
type Fallback struct {
	To    []string
	After time.Duration
}

// slackRate is Slack's documented limit for posting to a channel, about
// one message a second; a burst above it is answered 429.
var slackRate = Rate{N: 1, Per: time.Second}

// defaultRate is the rate of a sink of typ whose config sets none.
func defaultRate(typ string) Rate {
	if typ == "slack" {
		return slackRate
	}
	return Rate{}
}

// maxRateCount bounds the N of a rate, far above what any service takes.
const maxRateCount = 1_000_000

var rateRE = regexp.MustCompile(`^([0-9]+)/(s|m|h)$`)

// parseRate reads "none" or N/s, N/m, N/h.
func parseRate(val string) (Rate, error) {
	if val == "none" {
		return Rate{}, nil
	}
	m := rateRE.FindStringSubmatch(strings.ReplaceAll(val, " ", ""))
	if m == nil {
		return Rate{}, fmt.Errorf("rate %q must be none or a count per second, minute or hour, such as 1/s, 30/m or 100/h", val)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > maxRateCount {
		return Rate{}, fmt.Errorf("rate %q: the count must be from 1 to %d", val, maxRateCount)
	}
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
	return Rate{N: n, Per: per}, nil
}

// Complete reports whether every setting of the sink could be read, so
// that it can be built.
func (s Sink) Complete() bool { return len(s.Unset) == 0 }

// String returns a plain setting, or "" when it is absent.
func (s Sink) String(key string) string {
	v, _ := s.Settings[key].(string)
	return v
}

// Secret returns a secret setting, or "" when it is absent.
func (s Sink) Secret(key string) Secret {
	v, _ := s.Settings[key].(Secret)
	return v
}

// Given reports whether the setting key was written, also when its value
// could not be read (an unset ${VAR}).
func (s Sink) Given(key string) bool { return s.Settings[key] != nil || s.unreadable[key] }

// Reveal returns the settings as the sink's type builds from them, with
// every Secret revealed. It is the one place a sink's secrets leave the
// config; hand the result only to the sink's constructor.
func (s Sink) Reveal() sinks.Settings {
	out := make(sinks.Settings, len(s.Settings))
	for key, v := range s.Settings {
		switch t := v.(type) {
		case Secret:
			out[key] = t.Reveal()
		case map[string]Secret:
			m := make(map[string]string, len(t))
			for name, value := range t {
				m[name] = value.Reveal()
			}
			out[key] = m
		default:
			out[key] = v
		}
	}
	return out
}

func (p *parser) sinks(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "sinks must be a list, got %s", kindName(v))
		return
	}
	names := map[string]int{}
	for i, item := range v.Content {
		item = deref(item)
		s, ok := p.sink(item, i)
		if !ok {
			continue
		}
		if first, dup := names[s.Name]; dup {
			p.errorf(item, "sink %q is defined twice (first at line %d)", s.Name, first)
			continue
		}
		names[s.Name] = item.Line
		cfg.Sinks = append(cfg.Sinks, s)
	}
	p.checkFallbacks(cfg.Sinks)
}

// checkFallbacks reports, where each is written, a fallback to a sink
// that does not exist or to the sink itself, and once per cycle a chain
// of fallbacks that comes back to where it began (a → b → a): a
// notification would be handed round it.
func (p *parser) checkFallbacks(all []Sink) {
	byName := make(map[string]*Sink, len(all))
	for i := range all {
		byName[all[i].Name] = &all[i]
	}
	for _, s := range all {
		for i, to := range s.Fallback.To {
			switch _, ok := byName[to]; {
			case to == s.Name:
				p.errorf(s.fallbackNodes[i], "sink %q: fallback.to: a sink cannot be its own fallback", s.Name)
			case !ok:
				p.errorf(s.fallbackNodes[i], "sink %q: fallback.to: no sink is named %q; sinks: %s", s.Name, to, strings.Join(sinkNames(all), ", "))
			}
		}
	}
	reported := map[string]bool{}
	for _, s := range all {
		if reported[s.Name] {
			continue
		}
		cycle := fallbackCycle(s.Name, byName)
		if cycle == nil {
			continue
		}
		for _, name := range cycle {
			reported[name] = true
		}
		first := byName[s.Name]
		at := slices.Index(first.Fallback.To, cycle[1])
		p.errorf(first.fallbackNodes[at], "sink %q: fallbacks make a cycle: %s; a notification would be handed round it",
			s.Name, strings.Join(cycle, " → "))
	}
}

// fallbackCycle returns a chain of fallbacks from start back to start
// (start, b, …, start), or nil when none comes back; a sink's fallback to
// itself is reported on its own, not here.
func fallbackCycle(start string, byName map[string]*Sink) []string {
	visited := map[string]bool{}
	var walk func(name string, path []string) []string
	walk = func(name string, path []string) []string {
		s := byName[name]
		if s == nil {
			return nil
		}
		for _, to := range s.Fallback.To {
			if to == name {
				continue
			}
			if to == start {
				return append(slices.Clone(path), to)
			}
			if visited[to] {
				continue
			}
			visited[to] = true
			if c := walk(to, append(path, to)); c != nil {
				return c
			}
		}
		return nil
	}
	return walk(start, []string{start})
}

func sinkNames(all []Sink) []string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return names
}

// MaxSinkConcurrency bounds a sink's concurrency: beyond it a sink only
// competes with intake for the store's single writer.
const MaxSinkConcurrency = 256

func (p *parser) sink(m *yaml.Node, i int) (Sink, bool) {
	where := fmt.Sprintf("sinks[%d]", i)
	if m.Kind != yaml.MappingNode {
		p.errorf(m, "%s must be a mapping with name and type, got %s", where, kindName(m))
		return Sink{}, false
	}
	s := Sink{Settings: map[string]any{}, Line: m.Line, Column: m.Column}
	rateGiven := false
	if n := lookup(m, "name"); n != nil {
		s.Name, _ = p.str(n, where+".name")
		where = fmt.Sprintf("sink %q", s.Name)
	}
	t := lookup(m, "type")
	if t != nil {
		s.Type, _ = p.str(t, where+".type")
	}
	typ, known := registry.Lookup(s.Type)
	if t != nil && s.Type != "" && !known {
		p.errorf(t, "%s: unknown type %q; known types: %s", where, s.Type, registry.Known())
	}
	handlers := map[string]func(k, v *yaml.Node){
		"name": func(_, _ *yaml.Node) {},
		"type": func(_, _ *yaml.Node) {},
		"min_severity": func(_, v *yaml.Node) {
			val, ok := p.str(v, where+".min_severity")
			if !ok {
				return
			}
			sev, err := notification.ParseSeverity(val)
			if err != nil {
				p.errorf(v, "%s: min_severity: %v", where, err)
			}
			s.MinSeverity = sev
		},
		"concurrency": func(_, v *yaml.Node) {
			val, ok := p.str(v, where+".concurrency")
			if !ok {
				return
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxSinkConcurrency {
				p.errorf(v, "%s: concurrency %q must be a whole number from 1 to %d", where, val, MaxSinkConcurrency)
				return
			}
			s.Concurrency = n
		},
		"include_customer_data": func(_, v *yaml.Node) {
			val, ok := p.str(v, where+".include_customer_data")
			if !ok {
				return
			}
			switch val {
			case "true":
				s.IncludeCustomerData = true
			case "false", "":
			default:
				p.errorf(v, "%s: include_customer_data %q must be true or false", where, val)
			}
		},
		"rate": func(_, v *yaml.Node) {
			rateGiven = true
			val, ok := p.str(v, where+".rate")
			if !ok {
				return
			}
			r, err := parseRate(val)
			if err != nil {
				p.errorf(v, "%s: %v", where, err)
				return
			}
			s.Rate = r
		},
		"fallback": func(_, v *yaml.Node) { p.fallback(v, where, &s) },
	}
	p.sinkSchedules(handlers, where, &s)
	for _, setting := range typ.Settings {
		handlers[setting.Key] = func(_, v *yaml.Node) { p.setting(v, where, setting, &s) }
	}
	if known {
		// The sink notify-test sends through must be complete; any
		// other may wait for its secrets when the purpose allows it.
		partial := p.partial() && !(p.opts.Purpose == ForSink && s.Name == p.opts.Sink)
		s.Unset = p.lenient(partial, fmt.Sprintf("%s was not built, so its settings were not checked", where),
			func() { p.fields(m, where, handlers) })
	}
	if !rateGiven {
		s.Rate = defaultRate(s.Type)
	}
	switch {
	case s.Name == "":
		p.errorf(m, "%s: name is required", where)
	case s.Type == "":
		p.errorf(m, "%s: type is required; known types: %s", where, registry.Known())
	case !known:
		return Sink{}, false
	}
	p.requireSettings(m, where, typ, s)
	return s, s.Name != "" && known
}

// fallback reads a sink's fallback: {to: [sinks], after: duration}.
// Whether the sinks named exist is checked once all sinks are read.
func (p *parser) fallback(v *yaml.Node, where string, s *Sink) {
	where += ".fallback"
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "%s must be a mapping such as {to: [other-sink], after: 10m}, got %s", where, kindName(v))
		return
	}
	p.fields(v, where, map[string]func(k, v *yaml.Node){
		"to": func(_, v *yaml.Node) {
			items := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				items = v.Content
			}
			for _, item := range items {
				item = deref(item)
				name, ok := p.str(item, where+".to")
				if !ok || name == "" {
					continue
				}
				if slices.Contains(s.Fallback.To, name) {
					p.errorf(item, "%s.to: %q is named twice", where, name)
					continue
				}
				s.Fallback.To = append(s.Fallback.To, name)
				s.fallbackNodes = append(s.fallbackNodes, item)
			}
		},
		"after": func(_, v *yaml.Node) {
			val, ok := p.str(v, where+".after")
			if !ok || val == "" {
				return
			}
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				p.errorf(v, "%s.after %q must be a positive duration, such as 10m; leave it out to hand over only dead letters", where, val)
				return
			}
			s.Fallback.After = d
		},
	})
	if len(s.Fallback.To) == 0 {
		p.errorf(v, "%s.to is required: the sink, or list of sinks, that takes over", where)
	}
}

// requireSettings reports, at the sink's line, each setting its type
// requires that is not written, and what else its type's Check finds.
func (p *parser) requireSettings(m *yaml.Node, where string, typ sinks.Type, s Sink) {
	for _, setting := range typ.Settings {
		if setting.Required && !s.Given(setting.Key) {
			p.errorf(m, "%s: %s is required for a %s sink", where, setting.Key, typ.Name)
		}
	}
	if typ.Check != nil {
		for _, problem := range typ.Check(s.Given) {
			p.errorf(m, "%s: %s", where, problem)
		}
	}
}

// setting reads one of the sink's settings as its kind says: secrets as
// Secrets from the moment they are read, paths relative to the config.
func (p *parser) setting(v *yaml.Node, where string, setting sinks.Setting, s *Sink) {
	key := setting.Key
	name := where + "." + key
	switch setting.Kind {
	case sinks.List:
		var list []string
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, item := range items {
			val, ok := p.str(item, name)
			if !ok {
				s.markUnreadable(key)
			}
			if ok && val != "" {
				list = append(list, val)
			}
		}
		s.Settings[key] = list
	case sinks.SecretMap:
		if v.Kind != yaml.MappingNode {
			p.errorf(v, "%s must be a mapping, got %s", name, kindName(v))
			return
		}
		// Header values usually carry Authorization tokens or API keys,
		// so they are Secrets from the moment they are read.
		headers := map[string]Secret{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			val, ok := p.str(v.Content[i+1], name)
			if !ok {
				s.markUnreadable(key)
				continue
			}
			headers[v.Content[i].Value] = Secret(val)
		}
		s.Settings[key] = headers
	default:
		val, ok := p.str(v, name)
		if !ok {
			s.markUnreadable(key)
			return
		}
		if val == "" {
			return
		}
		switch setting.Kind {
		case sinks.SecretText:
			s.Settings[key] = Secret(val)
		case sinks.Path:
			s.Settings[key] = p.relative(val)
		default:
			s.Settings[key] = val
		}
	}
}

// markUnreadable notes a setting that was written but could not be read:
// its problem is already reported, so it is not "required" again.
func (s *Sink) markUnreadable(key string) {
	if s.unreadable == nil {
		s.unreadable = map[string]bool{}
	}
	s.unreadable[key] = true
}

// relative resolves a path against the config file's folder, so a config
// works the same from any working directory.
func (p *parser) relative(path string) string {
	if filepath.IsAbs(path) || path == "-" || path == "stdout" || path == "stderr" {
		return path
	}
	return filepath.Join(filepath.Dir(p.path), path)
}

// ruleFiles expands the rules globs, relative to the config file, and
// collects rules written inline (a mapping in the list instead of a glob).
func (p *parser) ruleFiles(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "rules must be a list of file globs or inline rules, got %s", kindName(v))
		return
	}
	seen := map[string]bool{}
	for _, item := range v.Content {
		if deref(item).Kind == yaml.MappingNode {
			cfg.InlineRules = append(cfg.InlineRules, deref(item))
			continue
		}
		glob, ok := p.str(item, "rules")
		if !ok {
			continue
		}
		matches, err := p.glob(p.relative(glob))
		if err != nil {
			p.errorf(deref(item), "rules: bad glob %q: %v", glob, err)
			continue
		}
		if len(matches) == 0 {
			p.errorf(deref(item), "rules: %q matches no file (globs are relative to %s)", glob, filepath.Dir(p.path))
			continue
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				cfg.RuleFiles = append(cfg.RuleFiles, f)
			}
		}
	}
}

// ruleTests expands the rule_tests globs, relative to the config file. A
// glob that matches nothing is a warning: tests are not needed to route.
func (p *parser) ruleTests(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "rule_tests must be a list of file globs, such as [tests/*_test.yaml], got %s", kindName(v))
		return
	}
	for _, item := range v.Content {
		glob, ok := p.str(item, "rule_tests")
		if !ok {
			continue
		}
		matches, err := p.glob(p.relative(glob))
		if err != nil {
			p.errorf(deref(item), "rule_tests: bad glob %q: %v", glob, err)
			continue
		}
		if len(matches) == 0 {
			p.warnf(deref(item), "rule_tests: %q matches no file (globs are relative to %s)", glob, filepath.Dir(p.path))
		}
		for _, f := range matches {
			if !slices.Contains(cfg.RuleTests, f) {
				cfg.RuleTests = append(cfg.RuleTests, f)
			}
		}
	}
}

// glob matches pattern in Options.FS, or in the operating system's files.
func (p *parser) glob(pattern string) ([]string, error) {
	if p.opts.FS != nil {
		return fs.Glob(p.opts.FS, filepath.ToSlash(pattern))
	}
	return filepath.Glob(pattern)
}

// severityMap reads overrides of the default severity, keyed by field or
// field/EVENT.
func (p *parser) severityMap(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "severity must be a mapping of field or field/EVENT to a severity, got %s", kindName(v))
		return
	}
	cfg.Severity = map[string]notification.Severity{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := deref(v.Content[i]), deref(v.Content[i+1])
		if strings.Count(k.Value, "/") > 1 || strings.HasPrefix(k.Value, "/") || k.Value == "" {
			p.errorf(k, "severity: key %q must be a field (account_update) or field/EVENT (account_update/ACCOUNT_RESTRICTION)", k.Value)
			continue
		}
		// A field the parser does not know is legal (Meta adds fields),
		// but one a typo away from a known field would silently do nothing.
		field, _, hasEvent := strings.Cut(k.Value, "/")
		if near, ok := nearKnownField(field); ok {
			in := ""
			if hasEvent {
				in = fmt.Sprintf(" in %q", k.Value)
			}
			p.errorf(k, "severity: unknown field %q%s; did you mean %q?", field, in, near)
			continue
		}
		sev, err := notification.ParseSeverity(val.Value)
		if err != nil {
			p.errorf(val, "severity %q: %v", k.Value, err)
			continue
		}
		cfg.Severity[k.Value] = sev
	}
}

// SinkNames lists the defined sinks, for rules to check their targets.
func (c *Config) SinkNames() []string {
	names := make([]string, len(c.Sinks))
	for i, s := range c.Sinks {
		names[i] = s.Name
	}
	return names
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// DefaultStorePath is where the store lives when the config names none,
// relative to the config file's folder.
const DefaultStorePath = "data/wabarouter.db"

// DefaultRetention is how long the decision log, the delivery attempts
// and resolved incidents are kept.
const DefaultRetention = 30 * 24 * time.Hour

// The store drivers: SQLite (one file, one serve) is the default;
// Postgres lets several serve processes share one database.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DefaultPoolSize is how many connections a Postgres store holds when
// store.pool_size is unset; MaxPoolSize bounds it.
const (
	DefaultPoolSize = 10
	MaxPoolSize     = 1000
)

// Store says where the durable state lives.
type Store struct {
	// Driver is DriverSQLite or DriverPostgres (store.driver; sqlite
	// when unset).
	Driver string
	// Path is the SQLite file; a relative path in the file is relative to
	// the config file.
	Path string
	// URL is the Postgres connection URL (store.url), usually from
	// ${DATABASE_URL}; it may hold a password, so it is a Secret.
	URL Secret
	// PoolSize is how many connections a Postgres store holds
	// (store.pool_size; DefaultPoolSize when unset).
	PoolSize int
	// PollOnly turns Postgres's LISTEN/NOTIFY wake-ups off
	// (store.poll_only), for PgBouncer in transaction mode: replicas
	// then find each other's work by polling alone.
	PollOnly bool
	// Retention is how long decisions, delivery attempts and resolved
	// incidents are kept (store.retention; DefaultRetention when unset).
	Retention time.Duration
}

// IsPostgres reports whether the store is a Postgres database.
func (s Store) IsPostgres() bool { return s.Driver == DriverPostgres }

// Where names the store for messages: the SQLite file, or the Postgres
// database without its password.
func (s Store) Where() string {
	if !s.IsPostgres() {
		return s.Path
	}
	u, err := url.Parse(s.URL.Reveal())
	if err != nil || u.Host == "" {
		return "the Postgres database of store.url"
	}
	return "postgres://" + u.Host + u.Path
}

func (p *parser) store(v *yaml.Node, cfg *Config) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "store must be a mapping, got %s", kindName(v))
		return
	}
	var driverNode, pathNode, urlNode, poolNode, pollNode *yaml.Node
	p.fields(v, "store", map[string]func(k, v *yaml.Node){
		"driver": func(_, v *yaml.Node) {
			driverNode = v
			val, ok := p.str(v, "store.driver")
			if !ok {
				return
			}
			switch val {
			case DriverSQLite, DriverPostgres:
				cfg.Store.Driver = val
			case "postgresql", "pg", "pgx":
				p.errorf(v, "store.driver %q: write postgres", val)
			case "sqlite3":
				p.errorf(v, "store.driver %q: write sqlite", val)
			default:
				p.errorf(v, "store.driver %q must be sqlite (one file, the default) or postgres (several replicas on one database)", val)
			}
		},
		"path": func(k, v *yaml.Node) {
			pathNode = k
			if val, ok := p.str(v, "store.path"); ok && val != "" {
				cfg.Store.Path = p.relative(val)
			}
		},
		"url": func(k, v *yaml.Node) {
			urlNode = k
			// check, route and test judge rules without production
			// secrets: an unset ${DATABASE_URL} only matters to the
			// commands that open the store, which say so.
			p.lenient(p.partial(), "the commands that open the store need it", func() {
				val, ok := p.str(v, "store.url")
				if !ok {
					return
				}
				if !strings.HasPrefix(val, "postgres://") && !strings.HasPrefix(val, "postgresql://") {
					// The value may hold a password: it is not quoted.
					p.errorf(v, "store.url must be a postgres:// URL, such as postgres://wabarouter@db.internal:5432/wabarouter (usually ${DATABASE_URL})")
					return
				}
				cfg.Store.URL = Secret(val)
			})
		},
		"pool_size": func(_, v *yaml.Node) {
			poolNode = v
			val, ok := p.str(v, "store.pool_size")
			if !ok {
				return
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxPoolSize {
				p.errorf(v, "store.pool_size %q must be a whole number from 1 to %d (connections to Postgres)", val, MaxPoolSize)
				return
			}
			cfg.Store.PoolSize = n
		},
		"poll_only": func(_, v *yaml.Node) {
			pollNode = v
			val, ok := p.str(v, "store.poll_only")
			if !ok {
				return
			}
			switch val {
			case "true":
				cfg.Store.PollOnly = true
			case "false", "":
			default:
				p.errorf(v, "store.poll_only %q must be true or false", val)
			}
		},
		"retention": func(_, v *yaml.Node) {
			val, ok := p.str(v, "store.retention")
			if !ok {
				return
			}
			d, err := time.ParseDuration(val)
			if err != nil || d < time.Hour {
				p.errorf(v, "store.retention %q must be a duration of an hour or more, such as 720h (30 days)", val)
				return
			}
			cfg.Store.Retention = d
		},
	})
	if cfg.Store.IsPostgres() {
		if pathNode != nil {
			p.errorf(pathNode, "store.path is the SQLite file; with driver: postgres the store is the database store.url names")
		}
		if urlNode == nil {
			p.errorf(driverNode, "store.url is required with driver: postgres, such as url: ${DATABASE_URL}")
		}
		if cfg.Store.PoolSize == 0 {
			cfg.Store.PoolSize = DefaultPoolSize
		}
		return
	}
	if urlNode != nil && driverNode == nil {
		p.errorf(urlNode, "store.url is for Postgres: add driver: postgres beside it, or leave url out to keep the SQLite file")
	} else if urlNode != nil {
		p.errorf(urlNode, "store.url is for driver: postgres; the SQLite store is the file store.path names")
	}
	if poolNode != nil {
		p.errorf(poolNode, "store.pool_size is for driver: postgres; the SQLite store has one writer")
	}
	if pollNode != nil {
		p.errorf(pollNode, "store.poll_only is for driver: postgres; the SQLite store has one serve, which wakes itself")
	}
}
