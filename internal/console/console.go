package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/silences"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/store"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// Store is what the console reads, and writes for silences, dead letters
// and its own audit entries.
type Store interface {
	audit.Reader
	silences.Store
	ListDead(ctx context.Context, limit int) ([]store.Outbound, error)
	Replay(ctx context.Context, id int64, now time.Time) error
	Stats(ctx context.Context, now time.Time) (map[string]store.SinkStats, error)
}

// DryResult is what serve would make of one payload, as app.DryRun
// tells it.
type DryResult struct {
	Refused    error
	Unreadable error
	Result     router.Result
}

// DryRunFunc routes body through the router's stages under set, against
// a scratch store that starts empty, delivering nothing: app.DryRun.
type DryRunFunc func(ctx context.Context, set *rules.Set, body []byte) (DryResult, error)

// SinkHealth is what the delivery worker of a sink knows of its health.
type SinkHealth struct {
	Failing bool
	Since   time.Time
	LastErr string
}

// Options are what the console is built from.
type Options struct {
	Config *config.Config
	Store  Store
	// Rules are the rules in force, which a reload replaces.
	Rules  func() *rules.Set
	DryRun DryRunFunc
	// Sinks are the built sinks, for test notifications; Wake tells a
	// sink's worker that a replayed row waits; Health reads a sink's
	// health. Each may be nil.
	Sinks  map[string]sinks.Sink
	Wake   func(sinks []string)
	Health func(sink string) (SinkHealth, bool)
	Log    *slog.Logger
	Now    func() time.Time
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Console is the console's handler.
type Console struct {
	opts  Options
	cfg   config.Console
	log   *slog.Logger
	now   func() time.Time
	pages map[string]*template.Template
	mux   *http.ServeMux
	// playground bounds the dry runs made at once: each opens a scratch
	// store, and a page types faster than it reads.
	playground chan struct{}
}

// New returns the console for opts; opts.Config.Console must be enabled.
func New(opts Options) (*Console, error) {
	if opts.Config == nil || !opts.Config.Console.Enabled() {
		return nil, fmt.Errorf("console: not configured (no console section with users and a session key)")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{opts: opts, cfg: opts.Config.Console, log: opts.Log, now: opts.Now, playground: make(chan struct{}, 2)}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) parseTemplates() error {
	funcs := template.FuncMap{
		"stamp":     stamp,
		"ago":       func(t time.Time) string { return ago(c.now(), t) },
		"join":      strings.Join,
		"add":       func(a, b int) int { return a + b },
		"has":       slices.Contains[[]string],
		"unmatched": unmatched,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/trace.html")
	if err != nil {
		return fmt.Errorf("console: parsing the layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("console: listing the templates: %w", err)
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "trace" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("console: parsing %s: %w", n, err)
		}
		c.pages[name] = t
	}
	return nil
}

// ServeHTTP serves the console under Prefix.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func (c *Console) routes() {
	m := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	m.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET "+Prefix+"login", c.loginPage)
	m.HandleFunc("POST "+Prefix+"login", c.login)
	m.HandleFunc("POST "+Prefix+"logout", c.write(false, c.logout))
	m.HandleFunc("GET "+Prefix+"{$}", c.read(func(w http.ResponseWriter, r *http.Request, s session) {
		http.Redirect(w, r, Prefix+"incidents", http.StatusSeeOther)
	}))
	m.HandleFunc("GET "+Prefix+"incidents", c.read(c.incidents))
	m.HandleFunc("GET "+Prefix+"incidents/{id}", c.read(c.incident))
	m.HandleFunc("GET "+Prefix+"events", c.read(c.events))
	m.HandleFunc("GET "+Prefix+"events/{webhook}", c.read(c.event))
	m.HandleFunc("GET "+Prefix+"rules", c.read(c.rulesPage))
	m.HandleFunc("GET "+Prefix+"playground", c.read(c.playgroundPage))
	// The playground writes nothing, so viewers may run it; it still
	// carries the CSRF token, as every POST does.
	m.HandleFunc("POST "+Prefix+"playground/run", c.write(false, c.playgroundRun))
	m.HandleFunc("GET "+Prefix+"silences", c.read(c.silencesPage))
	m.HandleFunc("POST "+Prefix+"silences/preview", c.write(false, c.silencePreview))
	m.HandleFunc("POST "+Prefix+"silences", c.write(true, c.silenceAdd))
	m.HandleFunc("POST "+Prefix+"silences/{id}/expire", c.write(true, c.silenceExpire))
	m.HandleFunc("GET "+Prefix+"sinks", c.read(c.sinksPage))
	m.HandleFunc("POST "+Prefix+"sinks/{name}/test", c.write(true, c.testSend))
	m.HandleFunc("POST "+Prefix+"dead/{id}/replay", c.write(true, c.replay))
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, fmt.Errorf("the console has no page %s", r.URL.Path))
	})
	c.mux = m
}

// securityHeaders are on every answer: nothing from elsewhere, no
// framing by other sites, nothing cached.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "+
		"frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// page is what every page's template gets.
type page struct {
	Title   string
	Nav     string
	User    string
	Role    string
	Editor  bool
	CSRF    string
	Flash   string
	Problem string
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.log.ErrorContext(r.Context(), "console: no template", "template", name)
		http.Error(w, "the console has no such page", http.StatusInternalServerError)
		return
	}
	p := page{Title: title, Nav: name, Data: data, Flash: r.URL.Query().Get("done")}
	if s != nil {
		p.User, p.Role, p.Editor, p.CSRF = s.User, s.Role, s.Role == config.RoleEditor, c.csrfToken(*s)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		c.log.ErrorContext(r.Context(), "console: rendering a page failed", "template", name, "err", err)
		http.Error(w, "the page could not be drawn; see the router's log", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// fail answers an error as a page; s is nil before sign-in.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, code int, err error) {
	c.render(w, r, s, code, "error", http.StatusText(code), map[string]any{"Code": code, "Message": err.Error()})
}

// failStore answers a store that could not be read: the reason goes to
// the log, not to the browser.
func (c *Console) failStore(w http.ResponseWriter, r *http.Request, s *session, err error) {
	c.log.ErrorContext(r.Context(), "console: the store failed", "path", r.URL.Path, "err", err)
	c.fail(w, r, s, http.StatusServiceUnavailable, fmt.Errorf("the store could not be read; see the router's log"))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long before now t was, roughly.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + roughly(-d)
	case d < time.Minute:
		return "just now"
	}
	return roughly(d) + " ago"
}

func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
