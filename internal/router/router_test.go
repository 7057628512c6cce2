package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// testRules route phone quality changes to two sinks, deduplicate them per
// account for an hour in a second rule, and carry a rule that fails at run
// time (int of a non-numeric string) to show it does not stop the others.
const testRules = `rules:
  - name: broken
    when: int(event) > 0
    to: [slack]
  - name: quality
    when: field == "phone_number_quality_update"
    to: [slack, pager]
  - name: quality-dedup
    when: field == "phone_number_quality_update"
    to: [pager]
    dedup:
      key: '{{.waba_id}}'
      window: 1h
`

// change is a phone quality webhook; distinct times make distinct changes.
func change(unix int64, event string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":%d,
"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"16505551111","event":%q,"current_limit":"TIER_10K"}}]}]}`, unix, event)
}

// twice is one webhook whose entry Meta redelivered inside the same body.
func twice(unix int64) []byte {
	e := fmt.Sprintf(`{"id":"102290129340398","time":%d,"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"16505551111","event":"FLAGGED","current_limit":"TIER_10K"}}]}`, unix)
	return []byte(`{"object":"whatsapp_business_account","entry":[` + e + `,` + e + `]}`)
}

type fixture struct {
	st *sqlite.Store
	r  *Router
}

func newFixture(t *testing.T, st store.Store) (*fixture, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(testRules), []string{"slack", "pager"})
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		st = db
	}
	r := New(Config{Rules: set, Store: st, Log: slog.New(slog.DiscardHandler)})
	return &fixture{st: db, r: r}, db
}

// route appends body and routes it as the pipeline would.
func (f *fixture) route(t *testing.T, body []byte) (store.Webhook, error) {
	t.Helper()
	ctx := context.Background()
	at := f.r.now()
	id, err := f.st.AppendWebhook(ctx, body, at)
	if err != nil {
		t.Fatal(err)
	}
	w := store.Webhook{ID: id, Body: body, ReceivedAt: at}
	_, err = f.r.Route(ctx, w)
	return w, err
}

// queued delivers every due row of sink as a worker would, in order
// (leasing, decoding, acking, and leasing again, since a later transition
// of an incident waits for the earlier one), and returns the
// notifications, in the order a sink would get them.
func (f *fixture) queued(t *testing.T, sink string) []notification.Notification {
	t.Helper()
	ctx := context.Background()
	var out []notification.Notification
	for {
		rows, err := f.st.Lease(ctx, sink, "test", f.r.now().Add(time.Second), 100, 1000*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return out
		}
		for _, row := range rows {
			var n notification.Notification
			if err := json.Unmarshal(row.Payload, &n); err != nil {
				t.Fatalf("row %d payload: %v", row.ID, err)
			}
			if n.ID != row.NotificationID || n.Sink != sink {
				t.Errorf("row %d: payload id/sink %s/%s, row %s/%s", row.ID, n.ID, n.Sink, row.NotificationID, sink)
			}
			out = append(out, n)
			if err := f.st.Ack(ctx, row.ID, row.Lease, store.Outcome{At: f.r.now(), Receipt: "r", Thread: "thread-of-" + n.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func rulesOf(ns []notification.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Rule)
	}
	return out
}

func TestRouteQueuesPerSinkDespiteBrokenRule(t *testing.T) {
	f, _ := newFixture(t, nil)
	if _, err := f.route(t, change(1608243062, "FLAGGED")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sink  string
		rules []string
	}{
		// "broken" precedes both and fails on every event; the rest still fire.
		{"slack", []string{"quality"}},
		{"pager", []string{"quality", "quality-dedup"}},
	}
	for _, tt := range tests {
		got := f.queued(t, tt.sink)
		if fmt.Sprint(rulesOf(got)) != fmt.Sprint(tt.rules) {
			t.Fatalf("%s: rules %v, want %v", tt.sink, rulesOf(got), tt.rules)
		}
		for _, n := range got {
			if n.Event.Field != "phone_number_quality_update" || n.Event.Event != "FLAGGED" || n.Title == "" {
				t.Errorf("%s: notification %+v lacks the event or a title", tt.sink, n)
			}
		}
	}
}

func TestRouteRedeliveredChangeOnce(t *testing.T) {
	f, _ := newFixture(t, nil)
	// The same change twice in one body, then the whole body again as a
	// second webhook: Meta's redeliveries must make one notification.
	if _, err := f.route(t, twice(1608243062)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.route(t, twice(1608243062)); err != nil {
		t.Fatal(err)
	}
	if got := f.queued(t, "slack"); len(got) != 1 {
		t.Fatalf("slack got %d notifications, want 1: %v", len(got), rulesOf(got))
	}
}

// failingStore fails the first ProcessBatch after its callbacks have
// run, every run of them, as a crash or a lost commit would, so the
// webhook stays unprocessed.
type failingStore struct {
	store.Store
	failed bool
}

var errInjected = errors.New("injected commit failure")

func (s *failingStore) ProcessBatch(ctx context.Context, ids []int64, fn func(int64, store.Tx) error) ([]error, error) {
	fail := !s.failed
	s.failed = true
	return s.Store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		if err := fn(id, tx); err != nil {
			return err
		}
		if fail {
			return errInjected
		}
		return nil
	})
}

func TestRouteIDsDeterministic(t *testing.T) {
	fs := &failingStore{}
	f, db := newFixture(t, fs)
	fs.Store = db
	w, err := f.route(t, change(1608243062, "FLAGGED"))
	if !errors.Is(err, errInjected) {
		t.Fatalf("first route: %v, want the injected failure", err)
	}
	if _, err := f.r.Route(context.Background(), w); err != nil {
		t.Fatalf("re-route: %v", err)
	}
	// A second, untouched store routing the same body must derive the
	// same ids: they depend on the change, rule and sink only.
	other, _ := newFixture(t, nil)
	if _, err := other.route(t, change(1608243062, "FLAGGED")); err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"slack", "pager"} {
		got, want := f.queued(t, sink), other.queued(t, sink)
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s: %d rows after a failed and a good route, want %d", sink, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Errorf("%s: id %s, want %s", sink, got[i].ID, want[i].ID)
			}
		}
	}
}

func TestRouteMetrics(t *testing.T) {
	// The first commit fails after routing ran: nothing of it may count.
	fs := &failingStore{}
	f, db := newFixture(t, fs)
	fs.Store = db
	m := metrics.Discard()
	f.r.metrics = m
	clock := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	f.r.now = func() time.Time { return clock }

	w, err := f.route(t, change(1, "FLAGGED"))
	if !errors.Is(err, errInjected) {
		t.Fatalf("first route: %v, want the injected failure", err)
	}
	if _, err := f.r.Route(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	// The same webhook again: Process skips it, nothing counts.
	if _, err := f.r.Route(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	// Meta redelivers the change in a new webhook.
	if _, err := f.route(t, change(1, "FLAGGED")); err != nil {
		t.Fatal(err)
	}
	// The number recovers: both incidents resolve.
	clock = clock.Add(time.Minute)
	if _, err := f.route(t, change(2, "UNFLAGGED")); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"events FLAGGED", m.Events.WithLabelValues("phone_number_quality_update", "FLAGGED"), 1},
		{"events UNFLAGGED", m.Events.WithLabelValues("phone_number_quality_update", "UNFLAGGED"), 1},
		{"redeliveries", m.Redeliveries, 1},
		{"matches quality", m.RuleMatches.WithLabelValues("quality"), 2},
		{"matches quality-dedup", m.RuleMatches.WithLabelValues("quality-dedup"), 2},
		{"errors broken", m.RuleErrors.WithLabelValues("broken"), 2},
		{"created slack", m.Notifications.WithLabelValues("slack", metrics.Created), 2},
		{"created pager", m.Notifications.WithLabelValues("pager", metrics.Created), 4},
		{"suppressed pager", m.Notifications.WithLabelValues("pager", metrics.Suppressed), 0},
		{"opened", m.IncidentTransitions.WithLabelValues("opened"), 2},
		{"resolved", m.IncidentTransitions.WithLabelValues("resolved"), 2},
		{"updated", m.IncidentTransitions.WithLabelValues("updated"), 0},
		{"routing failures", m.RoutingFailures, 1},
		{"parked", m.WebhooksParked, 0},
	}
	for _, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	// Two openings and two resolves reached the outbox.
	if got := len(f.queued(t, "pager")); got != 4 {
		t.Errorf("pager outbox has %d rows, want 4 (two incidents opened and resolved)", got)
	}
}

// poisonStore fails the routing of one webhook, as a store error on its
// rows would.
type poisonStore struct {
	store.Store
	poison int64
}

func (s *poisonStore) ProcessBatch(ctx context.Context, ids []int64, fn func(int64, store.Tx) error) ([]error, error) {
	return s.Store.ProcessBatch(ctx, ids, func(id int64, tx store.Tx) error {
		if err := fn(id, tx); err != nil {
			return err
		}
		if id == s.poison {
			return errInjected
		}
		return nil
	})
}

func TestRouteBatchIsolatesAFailingWebhook(t *testing.T) {
	ps := &poisonStore{}
	f, db := newFixture(t, ps)
	ps.Store = db
	ctx := context.Background()
	var batch []store.Webhook
	for i, ev := range []string{"FLAGGED", "UNFLAGGED", "DOWNGRADE"} {
		body := change(int64(1000+i), ev)
		id, err := db.AppendWebhook(ctx, body, f.r.now())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.Webhook{ID: id, Body: body, ReceivedAt: f.r.now()})
	}
	ps.poison = batch[1].ID
	results, err := f.r.RouteBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		failed := res.Err != nil
		if failed != (batch[i].ID == ps.poison) {
			t.Errorf("webhook %d: err %v; only webhook %d should fail", res.WebhookID, res.Err, ps.poison)
		}
	}
	if err := results[1].Err; !errors.Is(err, errInjected) || !strings.Contains(err.Error(), fmt.Sprintf("webhook %d", ps.poison)) {
		t.Fatalf("failed result: %v, want the injected failure naming webhook %d", err, ps.poison)
	}
	// The failed one waits for its retry; then it is the only one left.
	if now, _ := db.PendingWebhooks(ctx, f.r.now(), 10); len(now) != 0 {
		t.Errorf("pending at once: %+v, want none (the failed one waits)", now)
	}
	pendingAfter, err := db.PendingWebhooks(ctx, f.r.now().Add(2*time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pendingAfter) != 1 || pendingAfter[0].ID != ps.poison || pendingAfter[0].Attempts != 1 ||
		!strings.Contains(pendingAfter[0].LastError, errInjected.Error()) {
		t.Fatalf("pending after the batch: %+v, want only the failed webhook %d with one attempt and its error", pendingAfter, ps.poison)
	}
	var events []string
	for _, n := range f.queued(t, "slack") {
		events = append(events, n.Event.Event)
	}
	if fmt.Sprint(events) != "[FLAGGED DOWNGRADE]" {
		t.Errorf("slack rows for events %v, want [FLAGGED DOWNGRADE] in order", events)
	}
}
