package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/accounts"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/schedule"
)

// Defaults applied when the file leaves a setting out.
const (
	// DefaultListen binds to loopback so a forgotten setting never exposes
	// the endpoint; a reverse proxy or an explicit listen is expected.
	DefaultListen = "127.0.0.1:8080"
	// DefaultMaxBodyBytes is far above any real Meta webhook payload while
	// still bounding memory per request.
	DefaultMaxBodyBytes int64 = 4 << 20
)

// Config is the whole configuration file.
type Config struct {
	Server Server `yaml:"server"`
	// RuleFiles are the files the rules globs matched, in order.
	RuleFiles []string `yaml:"-"`
	// RuleTests are the rule test files (for wabarouter test) the
	// rule_tests globs matched, in order; the console shows each rule's.
	RuleTests []string `yaml:"-"`
	// InlineRules are rules written in the config's own rules list, for a
	// small setup; they are evaluated after the rules files'. They stay
	// YAML nodes because the rules package owns what a rule means.
	InlineRules []*yaml.Node `yaml:"-"`
	// Source is the config file's text, which positions of inline rules
	// (block-scalar expressions) are counted in.
	Source []byte `yaml:"-"`
	Sinks  []Sink `yaml:"-"`
	Store  Store  `yaml:"-"`
	// Severity overrides the default severity of a field or field/EVENT.
	Severity map[string]notification.Severity `yaml:"-"`
	Log      Log                              `yaml:"-"`
	// API is the read-only JSON API, off unless it has a token.
	API API `yaml:"-"`
	// Console is the web console, off unless it lists users.
	Console Console `yaml:"-"`
	// Accounts is the accounts directory, nil when the config has none;
	// AccountsFile is the file it was read from, "" when written inline.
	Accounts     *accounts.Directory `yaml:"-"`
	AccountsFile string              `yaml:"-"`
	// Silences is what silences do beyond hiding notifications.
	Silences Silences `yaml:"-"`
	// Schedules are the named time intervals rules and sinks take
	// notifications during (active_during) or not (muted_during).
	Schedules schedule.Set `yaml:"-"`
	// Path is the file the config was read from, kept for messages.
	Path string `yaml:"-"`
	// FS holds RuleFiles when they are not the operating system's files
	// (the config built into the binary); nil otherwise.
	FS fs.FS `yaml:"-"`
}

// Server configures the webhook HTTP endpoint.
type Server struct {
	Listen      string `yaml:"listen"`
	VerifyToken Secret `yaml:"verify_token"`
	// AppSecrets holds several secrets so a secret can be rotated, or
	// several Meta apps served, without downtime.
	AppSecrets   []Secret `yaml:"app_secrets"`
	MaxBodyBytes int64    `yaml:"max_body_bytes"`
	// MaxChangesPerWebhook bounds the changes one webhook may hold (a
	// messages change counting once per status and message); intake
	// answers 400 above it. At most event.DefaultMaxChanges, which the
	// router's parser enforces on every stored body.
	MaxChangesPerWebhook int `yaml:"max_changes_per_webhook"`
}

// Error is one problem in a config file, located at a line and column.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Purpose says what a config is read for, and so how complete it must be.
// A rule author's repository and CI have none of the production secrets, so
// the commands that only judge rules must not need them; serve must.
type Purpose int

// Purposes of a read.
const (
	// ForServe requires everything serve needs: the server section with
	// its verify token and app secrets, and every ${VAR} set. Load and
	// Parse read for serve.
	ForServe Purpose = iota
	// ForRules is for judging rules without production secrets (check,
	// route, test): the server section may be missing or incomplete, and
	// an unset ${VAR} in the server section or in a sink is a warning;
	// such a sink keeps its name, for rules to send to, but is marked
	// incomplete (Sink.Unset) and must not be built. Everything else is
	// judged as for ForServe.
	ForRules
	// ForSink is for using the one sink Options.Sink names (notify-test):
	// that sink must be complete, and everything else is read as for
	// ForRules.
	ForSink
)

// Options say how to read a config.
type Options struct {
	Purpose Purpose
	// Sink is the sink that must be complete with ForSink.
	Sink string
	// FS, when set, is where the rules globs are matched and the rules
	// files are read (the config built into the binary); nil means the
	// operating system's files. Store and log paths are always the
	// operating system's.
	FS fs.FS
}

// Warning is something a read for ForRules or ForSink could not check,
// such as a setting whose ${VAR} is unset, located like an Error.
type Warning struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// String writes FILE:LINE:COL: warning: message, sorting like an Error.
func (w Warning) String() string {
	return (&Error{File: w.File, Line: w.Line, Column: w.Column, Msg: "warning: " + w.Msg}).Error()
}

// Load reads and parses the config file at path for serve: every setting
// serve needs must be there and every ${VAR} set.
func Load(path string) (*Config, error) {
	cfg, _, err := LoadFor(path, Options{Purpose: ForServe})
	return cfg, err
}

// LoadFor reads and parses the config file at path for opts.Purpose. All
// problems are returned together in err, joined with errors.Join, each as
// an *Error; what the purpose lets go unchecked is returned as warnings,
// sorted as they appear in the file.
func LoadFor(path string, opts Options) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return ParseFor(path, data, opts)
}

// Parse parses config data for serve; path is used in messages and to
// resolve relative paths. All problems are returned together, joined with
// errors.Join, each as an *Error.
func Parse(path string, data []byte) (*Config, error) {
	cfg, _, err := ParseFor(path, data, Options{Purpose: ForServe})
	return cfg, err
}

// ParseFor parses config data for opts.Purpose, as LoadFor does.
func ParseFor(path string, data []byte, opts Options) (*Config, []Warning, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, syntaxError(path, err)
	}
	cfg := &Config{
		Path:   path,
		Source: data,
		FS:     opts.FS,
		Server: Server{Listen: DefaultListen, MaxBodyBytes: DefaultMaxBodyBytes, MaxChangesPerWebhook: event.DefaultMaxChanges},
		Store:  Store{Driver: DriverSQLite, Path: DefaultStorePath, Retention: DefaultRetention},
		Log:    Log{Level: slog.LevelInfo, Format: LogText},
	}
	p := &parser{path: path, opts: opts}
	// Relative to the config file, like every other path in it, so that
	// serve and deadletter find the same store from any folder.
	cfg.Store.Path = p.relative(DefaultStorePath)
	p.document(&root, cfg)
	p.checkScheduleRefs(cfg)
	slices.SortStableFunc(p.warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if err := errors.Join(p.errs...); err != nil {
		return nil, p.warnings, err
	}
	return cfg, p.warnings, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError rewrites yaml.v3's "yaml: line N: msg" into FILE:N: so that
// syntax errors look like every other config error.
func syntaxError(path string, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: path, Line: line, Msg: "syntax error: " + m[2]}
	}
	return &Error{File: path, Msg: "syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

type parser struct {
	path     string
	opts     Options
	errs     []error
	warnings []Warning
	// unsetWarning, while not empty, makes an unset ${VAR} a warning
	// ending in this consequence rather than an error; unset collects the
	// variables so warned about.
	unsetWarning string
	unset        []string
	// scheduleRefs are the schedules sinks name, checked once the whole
	// file is read.
	scheduleRefs []scheduleRef
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.path, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// warnf records what could not be checked; n nil means the whole file.
func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	w := Warning{File: p.path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		w.Line, w.Column = n.Line, n.Column
	}
	p.warnings = append(p.warnings, w)
}

// partial reports whether the read may leave out what serve needs.
func (p *parser) partial() bool { return p.opts.Purpose != ForServe }

// lenient runs read with unset ${VAR}s reported as warnings ending in
// consequence, when the purpose allows it, and returns the variables that
// were unset.
func (p *parser) lenient(allowed bool, consequence string, read func()) []string {
	if !allowed {
		read()
		return nil
	}
	p.unsetWarning, p.unset = consequence, nil
	defer func() { p.unsetWarning, p.unset = "", nil }()
	read()
	return p.unset
}

func (p *parser) document(root *yaml.Node, cfg *Config) {
	// An empty file has no document node; treat it as an empty mapping at
	// 1:1 so the missing required settings are still reported.
	top := &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		top = deref(root.Content[0])
	}
	if isNull(top) {
		top = &yaml.Node{Kind: yaml.MappingNode, Line: top.Line, Column: top.Column}
	}
	if top.Kind != yaml.MappingNode {
		p.errorf(top, "top level must be a mapping, got %s", kindName(top))
		return
	}
	var server *yaml.Node
	p.fields(top, "top level", map[string]func(k, v *yaml.Node){
		"server":     func(_, v *yaml.Node) { server = v },
		"rules":      func(_, v *yaml.Node) { p.ruleFiles(v, cfg) },
		"rule_tests": func(_, v *yaml.Node) { p.ruleTests(v, cfg) },
		"sinks":      func(_, v *yaml.Node) { p.sinks(v, cfg) },
		"severity":   func(_, v *yaml.Node) { p.severityMap(v, cfg) },
		"store":      func(_, v *yaml.Node) { p.store(v, cfg) },
		"log":        func(_, v *yaml.Node) { p.log(v, cfg) },
		"api":        func(_, v *yaml.Node) { p.api(v, cfg) },
		"console":    func(_, v *yaml.Node) { p.console(v, cfg) },
		"accounts":   func(_, v *yaml.Node) { p.accounts(v, cfg) },
		"silences":   func(_, v *yaml.Node) { p.silences(v, cfg) },
		"schedules":  func(_, v *yaml.Node) { p.schedules(v, cfg) },
	})
	p.checkSilenceSinks(cfg)
	if server == nil && p.partial() {
		p.warnf(nil, "no server section; it is not needed here, but serve refuses to start without server.verify_token and server.app_secrets")
		return
	}
	if server == nil || isNull(server) {
		at := top
		if server != nil {
			at = server
		}
		server = &yaml.Node{Kind: yaml.MappingNode, Line: at.Line, Column: at.Column}
	}
	p.lenient(p.partial(), "it is not needed here, but serve refuses to start without it", func() { p.server(server, &cfg.Server) })
}

func (p *parser) server(m *yaml.Node, s *Server) {
	if m.Kind != yaml.MappingNode {
		p.errorf(m, "server must be a mapping, got %s", kindName(m))
		return
	}
	var haveToken, haveSecrets bool
	p.fields(m, "server", map[string]func(k, v *yaml.Node){
		"listen": func(_, v *yaml.Node) {
			val, ok := p.str(v, "listen")
			if !ok {
				return
			}
			if !validListen(val) {
				p.errorf(v, "listen %q must be host:port with a numeric port, for example %s", v.Value, DefaultListen)
				return
			}
			s.Listen = val
		},
		"verify_token": func(_, v *yaml.Node) {
			haveToken = true
			val, ok := p.str(v, "verify_token")
			if !ok {
				return
			}
			if val == "" {
				p.errorf(v, "verify_token must not be empty")
				return
			}
			s.VerifyToken = Secret(val)
		},
		"app_secrets": func(_, v *yaml.Node) {
			haveSecrets = true
			p.appSecrets(v, s)
		},
		"max_body_bytes": func(_, v *yaml.Node) {
			val, ok := p.str(v, "max_body_bytes")
			if !ok {
				return
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				p.errorf(v, "max_body_bytes %q must be an integer number of bytes", v.Value)
				return
			}
			if n <= 0 {
				p.errorf(v, "max_body_bytes must be greater than 0")
				return
			}
			s.MaxBodyBytes = n
		},
		"max_changes_per_webhook": func(_, v *yaml.Node) {
			val, ok := p.str(v, "max_changes_per_webhook")
			if !ok {
				return
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > event.DefaultMaxChanges {
				p.errorf(v, "max_changes_per_webhook %q must be a whole number from 1 to %d (Meta sends at most 1000)", v.Value, event.DefaultMaxChanges)
				return
			}
			s.MaxChangesPerWebhook = n
		},
	})
	switch {
	case p.partial():
		for _, key := range []struct {
			name string
			have bool
		}{{"verify_token", haveToken}, {"app_secrets", haveSecrets}} {
			if !key.have {
				p.warnf(m, "server.%s is missing; it is not needed here, but serve refuses to start without it", key.name)
			}
		}
	default:
		if !haveToken {
			p.errorf(m, "server.verify_token is required")
		}
		if !haveSecrets {
			p.errorf(m, "server.app_secrets is required (at least one secret)")
		}
	}
}

func (p *parser) appSecrets(v *yaml.Node, s *Server) {
	v = deref(v)
	if isNull(v) {
		p.errorf(v, "app_secrets must list at least one secret")
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "app_secrets must be a list, got %s", kindName(v))
		return
	}
	if len(v.Content) == 0 {
		p.errorf(v, "app_secrets must list at least one secret")
		return
	}
	for i, item := range v.Content {
		val, ok := p.str(item, fmt.Sprintf("app_secrets[%d]", i))
		if !ok {
			continue
		}
		// An empty entry is almost always an env var set to "", which
		// would otherwise silently weaken signature checking.
		if val == "" {
			p.errorf(deref(item), "app_secrets[%d] must not be empty", i)
			continue
		}
		s.AppSecrets = append(s.AppSecrets, Secret(val))
	}
}

// fields walks mapping m, handing each value to its handler; unknown and
// duplicate keys are reported, which is what KnownFields would do but with
// positions.
func (p *parser) fields(m *yaml.Node, where string, known map[string]func(k, v *yaml.Node)) {
	seen := make(map[string]*yaml.Node, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be strings, got %s", where, kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: duplicate key %q (first set at line %d)", where, k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		h, ok := known[k.Value]
		if !ok {
			if near, found := nearKey(k.Value, known); found {
				p.errorf(k, "%s: unknown key %q; did you mean %q?", where, k.Value, near)
			} else {
				p.errorf(k, "%s: unknown key %q", where, k.Value)
			}
			continue
		}
		h(k, v)
	}
}

// str returns scalar n with ${VAR} references expanded. ok is false when an
// error was reported, so callers skip follow-up checks on a bogus value.
func (p *parser) str(n *yaml.Node, key string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a single value, got %s", key, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return p.expand(n)
}

var envRefRE = regexp.MustCompile(`\$\{([^}]*)\}`)
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${VAR} in a scalar. Messages name the variable, never its
// value, because values are typically secrets.
func (p *parser) expand(n *yaml.Node) (string, bool) {
	ok := true
	out := envRefRE.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if !envNameRE.MatchString(name) {
			p.errorf(n, "invalid environment variable reference %q", ref)
			ok = false
			return ""
		}
		val, set := os.LookupEnv(name)
		if !set {
			if p.unsetWarning != "" {
				p.warnf(n, "environment variable %s is not set; %s", name, p.unsetWarning)
				p.unset = append(p.unset, name)
			} else {
				p.errorf(n, "environment variable %s is not set", name)
			}
			ok = false
			return ""
		}
		return val
	})
	return out, ok
}

func validListen(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// deref follows YAML aliases so anchors work like their targets.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "nothing"
	}
}
