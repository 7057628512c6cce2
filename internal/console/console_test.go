package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

func testConsole(t *testing.T) (*Console, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hash := func(pw string) config.Secret {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return config.Secret(h)
	}
	cfg := &config.Config{Console: config.Console{SessionKey: "0123456789abcdef0123456789abcdef", SessionTTL: config.DefaultConsoleSessionTTL,
		Users: []config.ConsoleUser{{Name: "ana", Role: config.RoleEditor, PasswordHash: hash("ana-pw")}, {Name: "bo", Role: config.RoleViewer, PasswordHash: hash("bo-pw")}}}}
	c, err := New(Options{Config: cfg, Store: st, Rules: func() *rules.Set { return &rules.Set{} }})
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

// signIn returns the session cookie of name, and the page's CSRF token.
func signIn(t *testing.T, c *Console, name, pw string) (*http.Cookie, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/console/login", strings.NewReader(url.Values{"name": {name}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("signing in as %s: %d %v", name, rec.Code, rec.Result().Cookies())
	}
	ck := rec.Result().Cookies()[0]
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/console/silences", nil)
	req.AddCookie(ck)
	c.ServeHTTP(rec, req)
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		t.Fatalf("the silences page as %s: %d, no CSRF token", name, rec.Code)
	}
	return ck, m[1]
}

// TestAccess: only a signed session reads, only its CSRF token writes,
// only an editor adds a silence, and the silence added is in the
// decision log with its user.
func TestAccess(t *testing.T) {
	c, st := testConsole(t)
	ana, anaToken := signIn(t, c, "ana", "ana-pw")
	bo, boToken := signIn(t, c, "bo", "bo-pw")
	forged := *ana
	forged.Value = strings.Replace(forged.Value, ".", "x.", 1)
	silence := func(token string) string {
		return url.Values{"csrf": {token}, "when": {`waba_id == "1"`}, "for": {"2h"}, "comment": {"maintenance"}}.Encode()
	}
	for _, tc := range []struct {
		name, method, path, body string
		cookie                   *http.Cookie
		want                     int
	}{
		{"signed out", http.MethodGet, "/console/incidents", "", nil, http.StatusSeeOther},
		{"a forged cookie", http.MethodGet, "/console/incidents", "", &forged, http.StatusSeeOther},
		{"a wrong password", http.MethodPost, "/console/login", "name=ana&password=nope", nil, http.StatusUnauthorized},
		{"an unknown user", http.MethodPost, "/console/login", "name=cy&password=ana-pw", nil, http.StatusUnauthorized},
		{"a viewer reads", http.MethodGet, "/console/sinks", "", bo, http.StatusOK},
		{"a write without a token", http.MethodPost, "/console/silences", silence(""), ana, http.StatusForbidden},
		{"a write with another session's token", http.MethodPost, "/console/silences", silence(boToken), ana, http.StatusForbidden},
		{"a viewer's write", http.MethodPost, "/console/silences", silence(boToken), bo, http.StatusForbidden},
		{"a write signed out", http.MethodPost, "/console/silences", silence(anaToken), nil, http.StatusUnauthorized},
		{"an editor's write", http.MethodPost, "/console/silences", silence(anaToken), ana, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie != nil {
				req.AddCookie(tc.cookie)
			}
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, rec.Code, tc.want, rec.Body.String())
			}
		})
	}
	sils, err := st.Silences(context.Background(), store.SilenceFilter{})
	if err != nil || len(sils) != 1 || sils[0].Author != "ana" {
		t.Fatalf("silences %+v, %v; want ana's one", sils, err)
	}
	ds, err := st.Decisions(context.Background(), store.DecisionFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("decisions %d, %v; want the one entry of the silence", len(ds), err)
	}
	a, ok := actionOf(ds[0])
	if !ok || a.User != "ana" || a.Action != ActionSilenceAdd || a.Target != sils[0].ID {
		t.Errorf("the decision log says %+v (%v), want ana adding %s", a, ok, sils[0].ID)
	}
}

// TestPlaceDiagnostics: a diagnostic of the generated rules file is told
// at its line and column in the field it is about.
func TestPlaceDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pr         playgroundRule
		field      string
		line, col  int
		wantSource string
	}{
		{"a typo on the when's first line", playgroundRule{Name: "r", When: `feild == "account_update"`, To: []string{"s"}},
			"when", 1, 1, `feild == "account_update"`},
		{"a typo on the when's second line", playgroundRule{Name: "r", When: "field == \"account_update\"\n  and evnt == \"X\"", To: []string{"s"}},
			"when", 2, 7, `  and evnt == "X"`},
		{"a bad title template", playgroundRule{Name: "r", When: `field == "account_update"`, To: []string{"s"}, Title: "{{.nosuch}"},
			"title", 1, 0, ""},
		{"an unknown sink", playgroundRule{Name: "r", When: `field == "account_update"`, To: []string{"nowhere"}}, "rule", 5, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, spans := ruleFile(tc.pr)
			_, diags := rules.CheckSources([]rules.Source{{Path: playgroundFile, Data: []byte(file)}}, nil, []string{"s"})
			if len(diags) == 0 {
				t.Fatalf("no diagnostic for\n%s", file)
			}
			fields := map[string][]string{"when": strings.Split(tc.pr.When, "\n"), "title": strings.Split(tc.pr.Title, "\n")}
			p := place(diags[0], spans, fields, strings.Split(file, "\n"))
			if p.Field != tc.field || p.Line != tc.line || (tc.col != 0 && p.Column != tc.col) || (tc.wantSource != "" && p.Source != tc.wantSource) {
				t.Errorf("placed at %s %d:%d (%q), want %s %d:%d; the diagnostic: %s\n%s", p.Field, p.Line, p.Column, p.Source, tc.field, tc.line, tc.col, p.Check, file)
			}
		})
	}
}

// TestRulesPageListsEachRulesTests: the Rules page lists, under each rule,
// the cases of the config's rule_tests that expect it, and says so of a
// rule no case names.
func TestRulesPageListsEachRulesTests(t *testing.T) {
	c, _ := testConsole(t)
	src := append(mustRead(t, "../../rules.example.yaml"), []byte("\n  - {name: untested, when: 'false', to: [legal-email]}\n")...)
	set, err := rules.ParseFile("../../rules.example.yaml", src, []string{"oncall-pagerduty", "compliance-slack", "legal-email"})
	if err != nil {
		t.Fatal(err)
	}
	c.opts.Rules = func() *rules.Set { return set }
	c.opts.Config.RuleTests = []string{"../../testdata/rules/example_test.yaml"}
	ck, _ := signIn(t, c, "bo", "bo-pw")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/console/rules", nil)
	req.AddCookie(ck)
	c.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "restriction pages on-call <code>../../testdata/rules/example_test.yaml:10</code>") {
		t.Errorf("the rules page lists no test of account-restricted:\n%s", body)
	}
	_, untested, _ := strings.Cut(body, `id="rule-untested"`)
	if !strings.Contains(untested, "rule_tests</code>") || strings.Contains(untested, "example_test.yaml") {
		t.Errorf("the rules page does not say the rule untested has no test:\n%s", untested)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTraceShowsAnIncidentKeptOpen: the event page of a recovery told
// late names the incident it left open, with a link and the reason.
func TestTraceShowsAnIncidentKeptOpen(t *testing.T) {
	c, st := testConsole(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	id, err := st.AppendWebhook(ctx, []byte(`{"object":"whatsapp_business_account","entry":[]}`), at)
	if err != nil {
		t.Fatal(err)
	}
	reason := "told late: account_update/DISABLED_UPDATE REINSTATE happened at 2025-12-01 14:00:00 UTC, before the incident's latest report of the problem (2025-12-02 14:00:00 UTC)"
	rec, err := json.Marshal(router.Record{WebhookID: id, ReceivedAt: at, WabaID: "102290129340398", Field: "account_update", Event: "DISABLED_UPDATE",
		Rules: []router.RuleRecord{}, Incidents: []router.IncidentTransition{}, Notifications: []router.NotificationRecord{},
		KeptOpen: []router.KeptOpen{{ID: "inc-1", Rule: "account-banned", Key: "102290129340398/ban", Episode: 1, Reason: reason}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Process(ctx, id, func(tx store.Tx) error {
		return tx.AppendDecision(ctx, store.Decision{WebhookID: id, At: at, WabaID: "102290129340398", Field: "account_update",
			Event: "DISABLED_UPDATE", Record: rec})
	}); err != nil {
		t.Fatal(err)
	}
	ck, _ := signIn(t, c, "bo", "bo-pw")
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/console/events/w%d", id), nil)
	req.AddCookie(ck)
	c.ServeHTTP(w, req)
	page := w.Body.String()
	for _, want := range []string{`<h4>Kept open</h4>`, `<a href="/console/incidents/inc-1">inc-1</a>`, "told late: account_update/DISABLED_UPDATE REINSTATE"} {
		if w.Code != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("event page: %d, want it to contain %q:\n%s", w.Code, want, page)
		}
	}
}
