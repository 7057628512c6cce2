package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/audit/audittest"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// update rewrites the goldens: go test ./internal/audit -update. Read the
// diff before committing it.
var update = flag.Bool("update", false, "rewrite the goldens under testdata/")

// base is when the fixture's first webhook arrived.
var base = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fixture builds the fixture's store and opens it read-only, as the
// commands do beside a running serve.
func fixture(t *testing.T) (audittest.Fixture, *sqlite.Store) {
	t.Helper()
	f := audittest.Build(t, filepath.Join(t.TempDir(), "router.db"), base)
	return f, openReadOnly(t, f.Path)
}

func openReadOnly(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs; got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestWhyTellsEveryEvent explains every event of the account, in text and
// in JSON: a ban sent on (one sink after a retry), its redelivery, an
// event no rule matched, a number's quality incident dead-lettered at the
// pager and below the mail's min_severity, its repeat that no sink takes,
// a rule failing, the reinstatement resolving the ban, and a restriction
// resolved by its expiry timer.
func TestWhyTellsEveryEvent(t *testing.T) {
	_, st := fixture(t)
	entries, err := audit.Why(context.Background(), st, audit.WhyQuery{WabaID: audittest.WabaID})
	if err != nil {
		t.Fatal(err)
	}
	var text, lines bytes.Buffer
	if err := audit.WriteWhy(&text, entries); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteJSONLines(&lines, entries); err != nil {
		t.Fatal(err)
	}
	golden(t, "why_waba.txt", text.String())
	golden(t, "why_waba.jsonl", lines.String())
}

func TestIncidentsTable(t *testing.T) {
	_, st := fixture(t)
	incs, err := audit.Incidents(context.Background(), st, audit.IncidentQuery{State: audit.StateAll})
	if err != nil {
		t.Fatal(err)
	}
	var text, lines bytes.Buffer
	if err := audit.WriteIncidents(&text, incs); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteJSONLines(&lines, incs); err != nil {
		t.Fatal(err)
	}
	golden(t, "incidents_all.txt", text.String())
	golden(t, "incidents_all.jsonl", lines.String())
}

// TestIncidentsSelects: each state and account selects its incidents,
// the latest changed first, and a state that is none of them is refused.
func TestIncidentsSelects(t *testing.T) {
	f, st := fixture(t)
	tests := []struct {
		name    string
		q       audit.IncidentQuery
		want    []string
		wantErr string
	}{
		{"open", audit.IncidentQuery{State: audit.StateOpen}, []string{f.QualityIncident}, ""},
		{"resolved", audit.IncidentQuery{State: audit.StateResolved}, []string{f.RestrictionIncident, f.BanIncident}, ""},
		{"all, latest changed first", audit.IncidentQuery{State: audit.StateAll}, []string{f.RestrictionIncident, f.BanIncident, f.QualityIncident}, ""},
		{"no state is all", audit.IncidentQuery{}, []string{f.RestrictionIncident, f.BanIncident, f.QualityIncident}, ""},
		{"the account's", audit.IncidentQuery{State: audit.StateAll, WabaID: audittest.WabaID}, []string{f.RestrictionIncident, f.BanIncident, f.QualityIncident}, ""},
		{"another account's", audit.IncidentQuery{State: audit.StateAll, WabaID: "1"}, nil, ""},
		{"limited", audit.IncidentQuery{State: audit.StateAll, Limit: 1}, []string{f.RestrictionIncident}, ""},
		{"closed is no state", audit.IncidentQuery{State: "closed"}, nil, `state "closed" is not open, resolved or all`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			incs, err := audit.Incidents(context.Background(), st, tt.q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, inc := range incs {
				got = append(got, inc.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("incidents %v, want %v", got, tt.want)
			}
		})
	}
	inc, found, err := audit.GetIncident(context.Background(), st, f.QualityIncident)
	if err != nil || !found || inc.State != "open" || inc.Events != 2 || inc.ResolvedAt != nil || inc.Severity != "warning" {
		t.Errorf("GetIncident(%s) = %+v, %v, %v; want the open quality incident with its 2 events", f.QualityIncident, inc, found, err)
	}
	if _, found, err := audit.GetIncident(context.Background(), st, "inc-0000"); found || err != nil {
		t.Errorf("GetIncident of an unknown id: found %v, %v", found, err)
	}
}

// TestWhySelects: a WABA, a webhook or an incident each select their
// events, since a time; a redelivery asked about alone still names the
// routing it repeated.
func TestWhySelects(t *testing.T) {
	f, st := fixture(t)
	tests := []struct {
		name string
		q    audit.WhyQuery
		want []int64
		// check, when set, judges the entries further.
		check func(t *testing.T, es []audit.Entry)
	}{
		{"the account's", audit.WhyQuery{WabaID: audittest.WabaID},
			[]int64{f.Ban, f.Redelivery, f.Unmatched, f.Quality, f.QualityAgain, f.Broken, f.Reinstate, f.Restriction, 0}, nil},
		{"the account's since the quality alert", audit.WhyQuery{WabaID: audittest.WabaID, Since: base.Add(3 * time.Minute)},
			[]int64{f.Quality, f.QualityAgain, f.Broken, f.Reinstate, f.Restriction, 0}, nil},
		{"the account's until the restriction expired", audit.WhyQuery{WabaID: audittest.WabaID, Limit: 8},
			[]int64{f.Ban, f.Redelivery, f.Unmatched, f.Quality, f.QualityAgain, f.Broken, f.Reinstate, f.Restriction}, nil},
		{"the restriction incident's", audit.WhyQuery{IncidentID: f.RestrictionIncident}, []int64{f.Restriction, 0}, func(t *testing.T, es []audit.Entry) {
			if e := es[1]; e.Timer != "expiry of "+f.RestrictionIncident || e.Incident == nil || e.Incident.Transition != "resolved" ||
				e.Incident.Reason != "the restriction expired at 2026-03-04 05:14 UTC" || !e.RoutedAt.Equal(base.Add(9*time.Minute)) {
				t.Errorf("the timer's entry %+v; want the expiry resolving the restriction when it fired", e)
			}
		}},
		{"another account's", audit.WhyQuery{WabaID: "1"}, nil, nil},
		{"the ban incident's", audit.WhyQuery{IncidentID: f.BanIncident}, []int64{f.Ban, f.Reinstate}, func(t *testing.T, es []audit.Entry) {
			if es[0].Incident == nil || es[0].Incident.Transition != "opened" || es[1].Incident == nil || es[1].Incident.Transition != "resolved" {
				t.Errorf("incidents %+v, %+v; want opened, then resolved", es[0].Incident, es[1].Incident)
			}
		}},
		{"the quality incident's", audit.WhyQuery{IncidentID: f.QualityIncident}, []int64{f.Quality, f.QualityAgain}, nil},
		{"the unmatched webhook", audit.WhyQuery{WebhookID: f.Unmatched}, []int64{f.Unmatched}, func(t *testing.T, es []audit.Entry) {
			if es[0].Summary != "no rule matched; nothing was sent" {
				t.Errorf("summary %q", es[0].Summary)
			}
		}},
		{"the redelivery alone", audit.WhyQuery{WebhookID: f.Redelivery}, []int64{f.Redelivery}, func(t *testing.T, es []audit.Entry) {
			if o := es[0].RedeliveryOf; !es[0].Redelivery || o == nil || o.WebhookID != f.Ban || !o.RoutedAt.Equal(base) {
				t.Errorf("redelivery %v of %+v; want one of webhook %d routed at %s", es[0].Redelivery, o, f.Ban, base)
			}
		}},
		{"a webhook never routed", audit.WhyQuery{WebhookID: 999}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := audit.Why(context.Background(), st, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.WebhookID)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("webhooks %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, es)
			}
		})
	}
}

func TestWhyQueryNamesOneThing(t *testing.T) {
	tests := []struct {
		q    audit.WhyQuery
		want string
	}{
		{audit.WhyQuery{}, "name what to explain: a WABA, a webhook or an incident"},
		{audit.WhyQuery{WabaID: "1", IncidentID: "inc-1"}, "name one thing to explain"},
		{audit.WhyQuery{WebhookID: -3}, "webhook id -3 is not a webhook's id"},
		{audit.WhyQuery{WebhookID: 3}, ""},
	}
	for _, tt := range tests {
		err := tt.q.Check()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.q, err, tt.want)
		}
	}
}

// TestWhyRedeliveryOfAForgottenRouting: a redelivery whose first routing
// the decision log no longer holds (its retention passed, the redelivery
// window not) says so rather than naming none.
func TestWhyRedeliveryOfAForgottenRouting(t *testing.T) {
	f := audittest.Build(t, filepath.Join(t.TempDir(), "router.db"), base)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, f.Path, sqlite.Options{CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Decisions and attempts older than an hour go; the fingerprints stay
	// for their week.
	if err := st.GC(ctx, base.Add(2*time.Hour), 7*24*time.Hour, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again := audittest.Route(t, f.Path, "ban.json", base.Add(2*time.Hour))
	es, err := audit.Why(ctx, openReadOnly(t, f.Path), audit.WhyQuery{WabaID: audittest.WabaID})
	if err != nil {
		t.Fatal(err)
	}
	const want = "a redelivery of a change already routed within the 7 days before (that routing is no longer in the log); nothing was sent"
	if len(es) != 1 || es[0].WebhookID != again || !es[0].Redelivery || es[0].RedeliveryOf != nil || es[0].Summary != want {
		t.Fatalf("entries %+v; want only webhook %d's, a redelivery saying %q", es, again, want)
	}
}

// TestJSONShapes: every key the issue names is in every line, even when
// empty, so a reader of the lines (and the console) need not guess.
func TestJSONShapes(t *testing.T) {
	_, st := fixture(t)
	incs, err := audit.Incidents(context.Background(), st, audit.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	es, err := audit.Why(context.Background(), st, audit.WhyQuery{WabaID: audittest.WabaID})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(v any) map[string]any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	has := func(what string, m map[string]any, want ...string) {
		t.Helper()
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("%s has no %q: %v", what, k, m)
			}
		}
	}
	for _, inc := range incs {
		has("incident", keys(inc), "id", "state", "waba_id", "rule", "key", "opened_at", "resolved_at", "events",
			"severity", "episode", "title", "updated_at", "reason")
	}
	for _, e := range es {
		m := keys(e)
		has("entry", m, "webhook_id", "received_at", "field", "event", "rules", "incident", "incidents", "notifications", "redelivery", "summary")
		for _, r := range m["rules"].([]any) {
			has("rule", r.(map[string]any), "rule", "matched", "error")
		}
		for _, n := range m["notifications"].([]any) {
			n := n.(map[string]any)
			has("notification", n, "sink", "outcome", "reason", "attempts", "delivery")
			for _, a := range n["attempts"].([]any) {
				has("attempt", a.(map[string]any), "result", "at", "error", "error_class", "retry_after", "receipt")
			}
		}
		if inc, ok := m["incident"].(map[string]any); ok {
			has("incident of an entry", inc, "id", "transition")
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "0", want: now},
		{in: "2026-03-01T00:00:00Z", want: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: "-1h", bad: true},
		{in: "-2d", bad: true},
		{in: "1.5d", bad: true},
		{in: "yesterday", bad: true},
	}
	for _, tt := range tests {
		got, err := audit.ParseSince(tt.in, now)
		if (err != nil) != tt.bad || !tt.bad && !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %s, %v; want %s (bad: %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestOperationsGuideShowsWhatTheCommandsPrint: the examples of
// docs/operations.md are the goldens above, so the guide cannot drift
// from what incidents and why print.
func TestOperationsGuideShowsWhatTheCommandsPrint(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, shown := range []struct{ command, golden string }{
		{"wabarouter incidents --config config.yaml --state all", "incidents_all.txt"},
		{"wabarouter why --config config.yaml --waba " + audittest.WabaID, "why_waba.txt"},
	} {
		out, err := os.ReadFile(filepath.Join("testdata", shown.golden))
		if err != nil {
			t.Fatal(err)
		}
		var block strings.Builder
		block.WriteString("    $ " + shown.command + "\n")
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			block.WriteString(strings.TrimRight("    "+line, " ") + "\n")
		}
		if !strings.Contains(string(guide), block.String()) {
			t.Errorf("docs/operations.md does not show what `%s` prints (testdata/%s):\n%s", shown.command, shown.golden, block.String())
		}
	}
}
