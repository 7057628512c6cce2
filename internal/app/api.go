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
	"github.com/wabarouter/wabarouter/internal/silences"
)

// APIStore is what the API reads and, for silences, writes.
type APIStore interface {
	audit.Reader
	silences.Store
}

// APIPrefix is where the JSON API is served.
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
//	GET /api/v1/silences?state=active|all                           {"silences": [...]}
//	POST /api/v1/silences {"when", "starts_at", "ends_at" or "for", "author", "comment"}
//	                                                                201 the silence
//	POST /api/v1/silences/{id}/expire                               the silence, ended now
//
// Silences are the API's only writes: the same as the silence command's,
// checked the same way (a request with problems is answered 400 with all
// of them under "problems").
//
// A request without the token, or with another, is answered 401; what is
// not found 404, a bad parameter 400, each with {"error": "..."}. now is
// the clock since counts back from.
func APIHandler(r APIStore, token string, log *slog.Logger, now func() time.Time) http.Handler {
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
	mux.HandleFunc("GET "+APIPrefix+"silences", a.listSilences)
	mux.HandleFunc("POST "+APIPrefix+"silences", a.addSilence)
	mux.HandleFunc("POST "+APIPrefix+"silences/{id}/expire", a.expireSilence)
	mux.HandleFunc(APIPrefix, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			a.fail(w, r, http.StatusMethodNotAllowed, fmt.Errorf("%s %s is not in the API; only silences are written (POST %ssilences)", r.Method, r.URL.Path, APIPrefix))
			return
		}
		a.fail(w, r, http.StatusNotFound, fmt.Errorf("no %s in the API; it has GET %sincidents, %sincidents/{id}, %swhy and %ssilences",
			r.URL.Path, APIPrefix, APIPrefix, APIPrefix, APIPrefix))
	})
	return a.authorized(mux)
}

type api struct {
	reader APIStore
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

func (a *api) listSilences(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state != "" && state != "active" && state != "all" {
		a.fail(w, r, http.StatusBadRequest, fmt.Errorf("state %q is not active or all", state))
		return
	}
	views, err := silences.List(r.Context(), a.reader, state != "all", a.now())
	if err != nil {
		a.failStore(w, r, err)
		return
	}
	a.answer(w, r, map[string]any{"silences": views})
}

// silenceRequest is a silence as the API takes it: For is a duration
// written as the command's --for ("2h").
type silenceRequest struct {
	silences.Request
	For string `json:"for"`
}

func (a *api) addSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		a.fail(w, r, http.StatusBadRequest, fmt.Errorf("the body is not a silence: %w; send {\"when\", \"for\" or \"ends_at\", \"author\", \"comment\"}", err))
		return
	}
	if req.For != "" {
		d, err := time.ParseDuration(req.For)
		if err != nil {
			a.fail(w, r, http.StatusBadRequest, fmt.Errorf("for %q is not a duration such as 2h", req.For))
			return
		}
		req.Request.For = d
	}
	s, warnings, err := silences.Add(r.Context(), a.reader, req.Request, a.now())
	var inv *silences.Invalid
	switch {
	case errors.As(err, &inv):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "the silence was not added", "problems": inv.Problems, "warnings": warnings})
		return
	case err != nil:
		a.failStore(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "silence added through the API", "silence", s.ID, "author", s.Author, "when", s.When, "ends", s.EndsAt)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"silence": silences.ViewOf(s, a.now()), "warnings": warnings})
}

func (a *api) expireSilence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s, err := silences.Expire(r.Context(), a.reader, id, a.now())
	switch {
	case errors.Is(err, silences.ErrNotFound):
		a.fail(w, r, http.StatusNotFound, err)
		return
	case errors.Is(err, silences.ErrEnded):
		a.fail(w, r, http.StatusConflict, err)
		return
	case err != nil:
		a.failStore(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "silence expired through the API", "silence", s.ID)
	a.answer(w, r, silences.ViewOf(s, a.now()))
}
