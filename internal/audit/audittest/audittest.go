package audittest

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

//go:embed testdata
var testdata embed.FS

// restrictionExpires is the expiration in testdata/restriction.json, which
// Build moves to 8 minutes after its base.
const restrictionExpires = "1772601247"

// WabaID is the account every payload of the fixture is about.
const WabaID = "102290129340398"

// Sinks are the fixture's sinks, as its rules name them.
var Sinks = []string{"pager", "legal-mail", "team-mail"}

// Fixture is what Build made: the store file and what is in it.
type Fixture struct {
	Path string
	// Base is when the first webhook arrived; the others follow a minute
	// apart.
	Base time.Time
	// The webhooks, in the order they arrived:
	// Ban opens the ban incident: the pager got it at once, legal-mail
	// after a retry;
	// Redelivery is the ban again, the same change;
	// Unmatched is a template approval no rule matches;
	// Quality opens a number's quality incident: the pager dead-lettered
	// it, team-mail is below its min_severity;
	// QualityAgain is a repeat that updates it, which no sink takes;
	// Broken is an unknown field the rule "broken" fails on;
	// Reinstate resolves the ban: the pager got it, legal-mail not yet;
	// Restriction opens a restriction incident (the pager has not got it
	// yet), which its expiry timer resolves a minute later.
	Ban, Redelivery, Unmatched, Quality, QualityAgain, Broken, Reinstate, Restriction int64
	BanIncident, QualityIncident, RestrictionIncident                                 string
}

// env is an open fixture store and a router on it, under the fixture's
// rules and sinks, with a clock routing sets.
type env struct {
	t      testing.TB
	ctx    context.Context
	st     *sqlite.Store
	router *router.Router
	now    time.Time
}

func open(t testing.TB, path string) *env {
	t.Helper()
	set, err := rules.ParseFile("rules.yaml", read(t, "rules.yaml"), Sinks)
	if err != nil {
		t.Fatalf("audittest: %v", err)
	}
	e := &env{t: t, ctx: context.Background()}
	e.st, err = sqlite.Open(e.ctx, path, sqlite.Options{GroupCommit: true, CheckpointEvery: -1})
	if err != nil {
		t.Fatalf("audittest: %v", err)
	}
	e.router = router.New(router.Config{Rules: set, Store: e.st, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now },
		// As app.SinkPolicies makes them for a PagerDuty sink and two
		// e-mail sinks, one of them for errors and worse.
		Sinks: map[string]router.SinkPolicy{
			"pager":      {Skips: []notification.Transition{notification.Updated, notification.Reminded}},
			"legal-mail": {Skips: []notification.Transition{notification.Updated}},
			"team-mail":  {MinSeverity: notification.Error, Skips: []notification.Transition{notification.Updated}},
		}})
	return e
}

func (e *env) close() {
	e.t.Helper()
	if err := e.st.Close(); err != nil {
		e.t.Fatalf("audittest: %v", err)
	}
}

// route appends the payload of testdata/file as received at at and
// routes it then.
func (e *env) route(file string, at time.Time) (int64, router.Result) {
	e.t.Helper()
	return e.routeBody(file, read(e.t, file), at)
}

// routeBody is route for a body of the caller's, file naming it.
func (e *env) routeBody(file string, body []byte, at time.Time) (int64, router.Result) {
	e.t.Helper()
	e.now = at
	id, err := e.st.AppendWebhook(e.ctx, body, at)
	if err != nil {
		e.t.Fatalf("audittest: %v", err)
	}
	ws, err := e.st.PendingWebhooks(e.ctx, at, 10)
	if err != nil || len(ws) != 1 || ws[0].ID != id {
		e.t.Fatalf("audittest: pending webhooks %+v, %v; want webhook %d", ws, err, id)
	}
	res, err := e.router.Route(e.ctx, ws[0])
	if err != nil {
		e.t.Fatalf("audittest: routing %s: %v", file, err)
	}
	return id, res
}

// lease takes the one row sink has due at at, of incident.
func (e *env) lease(sink, incident string, at time.Time) store.Outbound {
	e.t.Helper()
	rows, err := e.st.Lease(e.ctx, sink, "audittest", at, 10, time.Minute)
	if err != nil || len(rows) != 1 || rows[0].IncidentID != incident {
		e.t.Fatalf("audittest: leasing %s at %s: %+v, %v; want one row of incident %s", sink, at, rows, err, incident)
	}
	return rows[0]
}

func (e *env) check(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("audittest: %v", err)
	}
}

// Route routes one more payload of the fixture's (ban.json, reinstate.json,
// template_approved.json, quality_flagged.json, quality_flagged_again.json,
// unknown_field.json, restriction.json) into the store at path, received and routed at at,
// and returns its webhook id.
func Route(t testing.TB, path, file string, at time.Time) int64 {
	t.Helper()
	e := open(t, path)
	defer e.close()
	id, _ := e.route(file, at)
	return id
}

// Build routes the fixture's payloads into a new store at path, the
// first at base, and records the deliveries; the store is closed when it
// returns. It fails t on any surprise.
func Build(t testing.TB, path string, base time.Time) Fixture {
	t.Helper()
	e := open(t, path)
	defer e.close()
	ctx, st := e.ctx, e.st
	f := Fixture{Path: path, Base: base}
	var res router.Result
	f.Ban, res = e.route("ban.json", base)
	f.BanIncident = incidentOf(t, res, "opened")
	row := e.lease("pager", f.BanIncident, base.Add(time.Second))
	e.check(st.Ack(ctx, row.ID, row.Lease, store.Outcome{At: base.Add(time.Second), Receipt: "PD-ban-1"}))
	row = e.lease("legal-mail", f.BanIncident, base.Add(2*time.Second))
	e.check(st.Retry(ctx, row.ID, row.Lease, base.Add(32*time.Second), store.Outcome{At: base.Add(2 * time.Second),
		Err: "email sink: 421 4.3.2 Service not available,\nclosing transmission channel", ErrClass: "retryable", RetryAfter: 30 * time.Second}))
	row = e.lease("legal-mail", f.BanIncident, base.Add(32*time.Second))
	e.check(st.Ack(ctx, row.ID, row.Lease, store.Outcome{At: base.Add(32 * time.Second), Receipt: "<ban-1@mail.example>"}))

	f.Redelivery, _ = e.route("ban.json", base.Add(time.Minute))
	f.Unmatched, _ = e.route("template_approved.json", base.Add(2*time.Minute))
	f.Quality, res = e.route("quality_flagged.json", base.Add(3*time.Minute))
	f.QualityIncident = incidentOf(t, res, "opened")
	row = e.lease("pager", f.QualityIncident, base.Add(3*time.Minute+time.Second))
	e.check(st.DeadLetter(ctx, row.ID, row.Lease, store.Outcome{At: base.Add(3*time.Minute + time.Second),
		Err: "pagerduty sink: HTTP 400 Bad Request: Invalid routing key", ErrClass: "permanent"}))
	f.QualityAgain, _ = e.route("quality_flagged_again.json", base.Add(4*time.Minute))
	f.Broken, _ = e.route("unknown_field.json", base.Add(5*time.Minute))
	f.Reinstate, res = e.route("reinstate.json", base.Add(6*time.Minute))
	if got := incidentOf(t, res, "resolved"); got != f.BanIncident {
		t.Fatalf("audittest: the reinstatement resolved %s, want the ban's %s", got, f.BanIncident)
	}
	row = e.lease("pager", f.BanIncident, base.Add(6*time.Minute+time.Second))
	e.check(st.Ack(ctx, row.ID, row.Lease, store.Outcome{At: base.Add(6*time.Minute + time.Second), Receipt: "PD-ban-2"}))

	// The restriction expires at base+8m; its timer fires as serve's
	// timer loop would, a minute later.
	restriction := bytes.Replace(read(t, "restriction.json"), []byte(restrictionExpires),
		[]byte(strconv.FormatInt(base.Add(8*time.Minute).Unix(), 10)), 1)
	f.Restriction, res = e.routeBody("restriction.json", restriction, base.Add(7*time.Minute))
	f.RestrictionIncident = incidentOf(t, res, "opened")
	e.now = base.Add(9 * time.Minute)
	due, err := st.DueTimers(ctx, e.now, 10)
	if err != nil || len(due) != 1 || due[0].IncidentID != f.RestrictionIncident {
		t.Fatalf("audittest: due timers %+v, %v; want the restriction's expiry", due, err)
	}
	res, err = e.router.Fire(ctx, due[0])
	if err != nil {
		t.Fatalf("audittest: %v", err)
	}
	if got := incidentOf(t, res, "resolved"); got != f.RestrictionIncident {
		t.Fatalf("audittest: the expiry resolved %s, want the restriction's %s", got, f.RestrictionIncident)
	}
	return f
}

// incidentOf is the incident of the one transition routing made.
func incidentOf(t testing.TB, res router.Result, transition string) string {
	t.Helper()
	if len(res.Decisions) != 1 || len(res.Decisions[0].Incidents) != 1 || string(res.Decisions[0].Incidents[0].Transition) != transition {
		t.Fatalf("audittest: webhook %d made %+v; want one incident %s", res.WebhookID, res.Decisions, transition)
	}
	return res.Decisions[0].Incidents[0].ID
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("audittest: %v", fmt.Errorf("reading %s: %w", name, err))
	}
	return b
}
