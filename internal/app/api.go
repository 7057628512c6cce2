package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit"
)

// APIPrefix is where the read-only JSON API is served.
const APIPrefix = "/api/v1/"

// apiDefaultLimit bounds an incident list or a why answer when the request
// names no limit; apiMaxLimit when it names one.
const (
	apiDefaultLimit = 1000
	apiMaxLimit     = 100_000
)

// APIHandler serves the read-only JSON API (incidents and why, the
// same objects as the commands' --format json lines) to requests that
// carry token as a bearer token:
//
//	GET /api/v1/incidents?state=open|resolved|all&waba=ID&limit=N  {"incidents": [...]}
//	GET /api/v1/incidents/{id}                                      the incident
//	GET /api/v1/why?waba=ID|webhook=ID|incident=ID&since=24h&limit=N  {"events": [...]}
//
// A request without the token, or with another, is answered 401; what is
// not found 404, a bad parameter 400, each with {"error": "..."}. now is
// the clock since counts back from.
func APIHandler(r audit.Reader, token string, log *slog.Logger, now func() time.Time) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	a := &api{reader: r, token: sha256.Sum256([]byte(token)), log: log, now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPrefix+"incidents", a.incidents)
	mux.HandleFunc("GET "+APIPrefix+"incidents/{id}", a.incident)
	mux.HandleFunc("GET "+APIPrefix+"why", a.why)
	mux.HandleFunc(APIPrefix, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			a.fail(w, r, http.StatusMethodNotAllowed, fmt.Errorf("the API only reads: %s is not GET", r.Method))
			return
		}
		a.fail(w, r, http.StatusNotFound, fmt.Errorf("no %s in the API; it has GET %sincidents, %sincidents/{id} and %swhy",
			r.URL.Path, APIPrefix, APIPrefix, APIPrefix))
	})
	return a.authorized(mux)
}

type api struct {
	reader audit.Reader
	// token is the SHA-256 of the bearer token, so that comparing it
	// takes the same time whatever a request sends, its length included.
	token [sha256.Size]byte
	log   *slog.Logger
	now   func() time.Time
}

// authorized lets through only requests that carry the token.
func (a *api) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(given))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wabarouter"`)
			a.fail(w, r, http.StatusUnauthorized, errors.New("this API needs the bearer token of api.token: Authorization: Bearer <token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) incidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitOf(q.Get("limit"))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err)
		return
	}
	state := q.Get("state")
	if state == "" {
		state = audit.StateOpen
	}
	if err := audit.CheckState(state); err != nil {
		a.fail(w, r, http.StatusBadRequest, err)
		return
	}
	incs, err := audit.Incidents(r.Context(), a.reader, audit.IncidentQuery{State: state, WabaID: q.Get("waba"), Limit: limit})
	if err != nil {
		a.failStore(w, r, err)
		return
	}
	if incs == nil {
		incs = []audit.Incident{}
	}
	a.answer(w, r, map[string]any{"incidents": incs})
}

func (a *api) incident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	inc, found, err := audit.GetIncident(r.Context(), a.reader, id)
	switch {
	case err != nil:
		a.failStore(w, r, err)
	case !found:
		a.fail(w, r, http.StatusNotFound, fmt.Errorf("no incident %q", id))
	default:
		a.answer(w, r, inc)
	}
}

func (a *api) why(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitOf(q.Get("limit"))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err)
		return
	}
	wq := audit.WhyQuery{WabaID: q.Get("waba"), IncidentID: q.Get("incident"), Limit: limit}
	if s := q.Get("webhook"); s != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(s, "w"), 10, 64)
		if err != nil || id <= 0 {
			a.fail(w, r, http.StatusBadRequest, fmt.Errorf("webhook %q is not a webhook's id (12, or w12)", s))
			return
		}
		wq.WebhookID = id
	}
	if err := wq.Check(); err != nil {
		a.fail(w, r, http.StatusBadRequest, fmt.Errorf("%w (waba=, webhook= or incident=)", err))
		return
	}
	switch s := q.Get("since"); {
	case s != "":
		since, err := audit.ParseSince(s, a.now())
		if err != nil {
			a.fail(w, r, http.StatusBadRequest, err)
			return
		}
		wq.Since = since
	case wq.WabaID != "":
		wq.Since = a.now().Add(-audit.DefaultSince)
	}
	entries, err := audit.Why(r.Context(), a.reader, wq)
	if err != nil {
		a.failStore(w, r, err)
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	a.answer(w, r, map[string]any{"events": entries})
}

// limitOf reads the limit parameter.
func limitOf(s string) (int, error) {
	if s == "" {
		return apiDefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, fmt.Errorf("limit %q is not a whole number from 1 to %d", s, apiMaxLimit)
	}
	return n, nil
}

func (a *api) answer(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		a.log.WarnContext(r.Context(), "writing an API answer failed", "path", r.URL.Path, "err", err)
	}
}

func (a *api) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(map[string]string{"error": err.Error()}); err != nil {
		a.log.WarnContext(r.Context(), "writing an API error failed", "path", r.URL.Path, "err", err)
	}
}

// failStore answers a store that could not be read: the reason goes to
// the log, not to the client.
func (a *api) failStore(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "API: reading the store failed", "path", r.URL.Path, "err", err)
	a.fail(w, r, http.StatusServiceUnavailable, errors.New("the store could not be read; see the router's log"))
}

// registerAPI serves the API on srv when the config gives it a token; without
// one nothing is served under APIPrefix, so every API path is a 404.
func (p *Pipeline) registerAPI(srv *Server) {
	if !p.cfg.API.Enabled() {
		return
	}
	srv.Handle(APIPrefix, APIHandler(p.store, p.cfg.API.Token.Reveal(), p.log.With("component", "api"), nil))
}
