package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/audit/audittest"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

const apiToken = "0123456789abcdef0123456789abcdef"

var apiBase = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// apiFixture serves the API over the audit fixture's store, opened
// read-only, with the clock an hour after the fixture's first webhook.
func apiFixture(t *testing.T) (audittest.Fixture, *sqlite.Store, *httptest.Server) {
	t.Helper()
	f := audittest.Build(t, filepath.Join(t.TempDir(), "router.db"), apiBase)
	st, err := sqlite.Open(context.Background(), f.Path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(APIHandler(st, apiToken, slog.New(slog.DiscardHandler), func() time.Time { return apiBase.Add(time.Hour) }))
	t.Cleanup(srv.Close)
	return f, st, srv
}

func apiGet(t *testing.T, method, url, auth string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// jsonLines is what the commands' --format json writes for items.
func jsonLines(t *testing.T, items any) []string {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch v := items.(type) {
	case []audit.Incident:
		err = audit.WriteJSONLines(&b, v)
	case []audit.Entry:
		err = audit.WriteJSONLines(&b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// TestAPIAnswersAsTheCommandsDo: each endpoint answers with the objects
// the commands write as JSON lines, byte for byte, and each bad request
// is told why.
func TestAPIAnswersAsTheCommandsDo(t *testing.T) {
	f, st, srv := apiFixture(t)
	ctx := context.Background()
	incidents := func(q audit.IncidentQuery) []string {
		incs, err := audit.Incidents(ctx, st, q)
		if err != nil {
			t.Fatal(err)
		}
		return jsonLines(t, incs)
	}
	why := func(q audit.WhyQuery) []string {
		es, err := audit.Why(ctx, st, q)
		if err != nil {
			t.Fatal(err)
		}
		return jsonLines(t, es)
	}
	w := audittest.WabaID
	tests := []struct {
		method, path string
		code         int
		// list and want: the answer is {list: [want...]}; one: the answer
		// is that object; wantErr: {"error": wantErr}.
		list    string
		want    []string
		one     string
		wantErr string
	}{
		{method: "GET", path: "/api/v1/incidents", code: 200, list: "incidents", want: incidents(audit.IncidentQuery{State: "open"})},
		{method: "GET", path: "/api/v1/incidents?state=all&waba=" + w, code: 200, list: "incidents", want: incidents(audit.IncidentQuery{State: "all"})},
		{method: "GET", path: "/api/v1/incidents?state=all&limit=1", code: 200, list: "incidents", want: incidents(audit.IncidentQuery{State: "all", Limit: 1})},
		{method: "HEAD", path: "/api/v1/incidents", code: 200},
		{method: "GET", path: "/api/v1/incidents?state=all&waba=1", code: 200, list: "incidents", want: []string{}},
		{method: "GET", path: "/api/v1/incidents?state=closed", code: 400, wantErr: `state "closed" is not open, resolved or all`},
		{method: "GET", path: "/api/v1/incidents?limit=0", code: 400, wantErr: `limit "0" is not a whole number from 1 to 100000`},
		{method: "GET", path: "/api/v1/incidents/" + f.BanIncident, code: 200, one: incidents(audit.IncidentQuery{State: "resolved"})[1]},
		{method: "GET", path: "/api/v1/incidents/inc-nope", code: 404, wantErr: `no incident "inc-nope"`},
		{method: "GET", path: "/api/v1/why?waba=" + w, code: 200, list: "events", want: why(audit.WhyQuery{WabaID: w})},
		{method: "GET", path: "/api/v1/why?waba=" + w + "&since=30m", code: 200, list: "events", want: []string{}},
		{method: "GET", path: "/api/v1/why?waba=" + w + "&since=" + apiBase.Add(5*time.Minute).Format(time.RFC3339), code: 200, list: "events",
			want: why(audit.WhyQuery{WabaID: w, Since: apiBase.Add(5 * time.Minute)})},
		{method: "GET", path: fmt.Sprintf("/api/v1/why?webhook=w%d", f.Redelivery), code: 200, list: "events", want: why(audit.WhyQuery{WebhookID: f.Redelivery})},
		{method: "GET", path: "/api/v1/why?incident=" + f.QualityIncident, code: 200, list: "events", want: why(audit.WhyQuery{IncidentID: f.QualityIncident})},
		{method: "GET", path: "/api/v1/why", code: 400, wantErr: "name what to explain: a WABA, a webhook or an incident (waba=, webhook= or incident=)"},
		{method: "GET", path: "/api/v1/why?waba=" + w + "&incident=" + f.BanIncident, code: 400, wantErr: "name one thing to explain"},
		{method: "GET", path: "/api/v1/why?webhook=twelve", code: 400, wantErr: `webhook "twelve" is not a webhook's id (12, or w12)`},
		{method: "GET", path: "/api/v1/why?waba=" + w + "&since=yesterday", code: 400, wantErr: `since "yesterday" is neither a duration back from now`},
		{method: "GET", path: "/api/v1/decisions", code: 404, wantErr: "no /api/v1/decisions in the API; it has GET /api/v1/incidents"},
		{method: "POST", path: "/api/v1/incidents", code: 405, wantErr: "POST /api/v1/incidents is not in the API; only silences are written"},
		{method: "DELETE", path: "/api/v1/incidents/" + f.BanIncident, code: 405, wantErr: "is not in the API; only silences are written"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, h, body := apiGet(t, tt.method, srv.URL+tt.path, "Bearer "+apiToken)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if tt.method == "HEAD" {
				return
			}
			if ct := h.Get("Content-Type"); ct != "application/json" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q; want application/json, no-store", ct, h.Get("Cache-Control"))
			}
			switch {
			case tt.wantErr != "":
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.wantErr) {
					t.Errorf("answer %s (%v); want an error with %q", body, err, tt.wantErr)
				}
			case tt.one != "":
				if got := strings.TrimSuffix(string(body), "\n"); got != tt.one {
					t.Errorf("answer\n%s\nwant the command's line\n%s", got, tt.one)
				}
			default:
				var answer map[string][]json.RawMessage
				if err := json.Unmarshal(body, &answer); err != nil {
					t.Fatalf("answer %s: %v", body, err)
				}
				got, ok := answer[tt.list]
				if !ok || len(got) != len(tt.want) {
					t.Fatalf("answer %s; want %q with %d objects", body, tt.list, len(tt.want))
				}
				for i := range got {
					if string(got[i]) != tt.want[i] {
						t.Errorf("object %d\n%s\nwant the command's line\n%s", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

// TestAPINeedsItsToken: only the exact token, as a bearer token, gets
// in; everything else is a 401 that says how to get in and shows no data.
func TestAPINeedsItsToken(t *testing.T) {
	f, _, srv := apiFixture(t)
	tests := []struct {
		name, auth string
		code       int
	}{
		{"no header", "", 401},
		{"another token", "Bearer fedcba9876543210fedcba9876543210", 401},
		{"the token cut short", "Bearer " + apiToken[:len(apiToken)-1], 401},
		{"the token and more", "Bearer " + apiToken + "0", 401},
		{"the token without its scheme", apiToken, 401},
		{"the token as basic", "Basic " + apiToken, 401},
		{"an empty bearer", "Bearer ", 401},
		{"the token", "Bearer " + apiToken, 200},
		{"the scheme in small letters", "bearer " + apiToken, 200},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v1/incidents?state=all", "/api/v1/incidents/" + f.BanIncident, "/api/v1/why?waba=" + audittest.WabaID, "/api/v1/nothing"} {
			code, h, body := apiGet(t, "GET", srv.URL+path, tt.auth)
			want := tt.code
			if path == "/api/v1/nothing" && want == 200 {
				want = 404
			}
			if code != want {
				t.Errorf("%s, %s: status %d, want %d: %s", tt.name, path, code, want, body)
			}
			if want == 401 && (h.Get("WWW-Authenticate") != `Bearer realm="wabarouter"` || strings.Contains(string(body), f.BanIncident) ||
				!strings.Contains(string(body), "this API needs the bearer token of api.token")) {
				t.Errorf("%s, %s: 401 with WWW-Authenticate %q and body %s", tt.name, path, h.Get("WWW-Authenticate"), body)
			}
		}
	}
}

// TestAPIOnlyWithAToken: the router's server serves the API when the
// config gives it a token, and nothing under /api/ otherwise, whatever a
// request carries.
func TestAPIOnlyWithAToken(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("token=%v", on), func(t *testing.T) {
			dir := t.TempDir()
			f := audittest.Build(t, filepath.Join(dir, "router.db"), apiBase)
			api := ""
			if on {
				api = "api: {token: " + apiToken + "}\n"
			}
			cfg, err := config.Parse(filepath.Join(dir, "c.yaml"), []byte(`server: {verify_token: v, app_secrets: [s]}
store: {path: router.db}
sinks: [{name: pager, type: log, path: out.jsonl}, {name: legal-mail, type: log, path: out.jsonl}, {name: team-mail, type: log, path: out.jsonl}]
`+api))
			if err != nil {
				t.Fatal(err)
			}
			set, err := rules.ParseFile("r.yaml", []byte("rules: []\n"), cfg.SinkNames())
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewPipeline(context.Background(), cfg, set, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer p.store.Close()
			srv := NewServer("127.0.0.1:0", http.NotFoundHandler(), nil)
			p.registerAPI(srv)
			hs := httptest.NewServer(srv.http.Handler)
			defer hs.Close()
			for _, auth := range []string{"", "Bearer " + apiToken} {
				code, _, body := apiGet(t, "GET", hs.URL+"/api/v1/incidents?state=all", auth)
				want := 404
				if on {
					want = map[string]int{"": 401, "Bearer " + apiToken: 200}[auth]
				}
				if code != want {
					t.Errorf("with Authorization %q: status %d, want %d: %s", auth, code, want, body)
				}
				if code == 200 && !strings.Contains(string(body), f.QualityIncident) {
					t.Errorf("answer %s; want the store's incidents", body)
				}
			}
		})
	}
}
