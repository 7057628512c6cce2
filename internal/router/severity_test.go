package router

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// banRules page on a ban and resolve on its reinstatement, as the
// configuration guide's example does, to a pager with min_severity error.
const banRules = `rules:
  - name: ban
    when: field == "account_update" && event == "DISABLED_UPDATE"
    severity: critical
    to: [pager, chat]
    dedup: {key: '{{.waba_id}}/ban'}
  - name: ban-lifted
    when: field == "account_update" && event == "REINSTATED_UPDATE"
    action: resolve
    severity: info
    to: [pager, chat]
    dedup: {key: '{{.waba_id}}/ban'}
  - name: heads-up
    when: field == "account_update" && event == "ACCOUNT_VIOLATION"
    severity: warning
    to: [pager, chat]
`

func banChange(unix int64, waba, event string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,
"changes":[{"field":"account_update","value":{"event":%q}}]}]}`, waba, unix, event)
}

// banStore is a fresh store and the banRules for the pager and the chat.
func banStore(t *testing.T) (*sqlite.Store, *rules.Set) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(banRules), []string{"pager", "chat"})
	if err != nil {
		t.Fatal(err)
	}
	return db, set
}

// TestMinSeverityIsDecidedWhileRouting: min_severity decides whether a sink
// hears of a problem at all; the resolve of a problem it heard of reaches
// it whatever its severity, and a notification it will not get is never
// queued, only recorded as skipped with the reason.
func TestMinSeverityIsDecidedWhileRouting(t *testing.T) {
	ctx := context.Background()
	db, set := banStore(t)
	m := metrics.Discard()
	r := New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler), Metrics: m,
		Sinks: map[string]SinkPolicy{"pager": {MinSeverity: notification.Error}}})
	f := &fixture{st: db, r: r}

	// none: the step makes no notification for the sink at all.
	const none Outcome = "none"
	type want struct{ pager, chat Outcome }
	steps := []struct {
		name string
		body []byte
		want want
	}{
		{"a resolve with no incident open resolves nothing", banChange(1, "111", "REINSTATED_UPDATE"), want{none, none}},
		{"a warning below the pager's threshold", banChange(2, "111", "ACCOUNT_VIOLATION"), want{Skipped, Queued}},
		{"the ban", banChange(3, "111", "DISABLED_UPDATE"), want{Queued, Queued}},
		{"its resolve, though info, reaches both", banChange(4, "111", "REINSTATED_UPDATE"), want{Queued, Queued}},
		{"a second resolve: the incident is closed", banChange(5, "111", "REINSTATED_UPDATE"), want{none, none}},
	}
	skipped := 0
	for _, st := range steps {
		w, err := f.route(t, st.body)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		res, err := f.r.Route(ctx, w) // already routed: a no-op
		if err != nil || len(res.Decisions) != 0 {
			t.Fatalf("%s: routing again = %+v, %v; want a no-op", st.name, res, err)
		}
		pager, chat := f.queued(t, "pager"), f.queued(t, "chat")
		if got := len(pager) == 1; got != (st.want.pager == Queued) {
			t.Errorf("%s: pager outbox has %d rows, want outcome %s", st.name, len(pager), st.want.pager)
		}
		if got := len(chat) == 1; got != (st.want.chat == Queued) {
			t.Errorf("%s: chat outbox has %d rows, want outcome %s", st.name, len(chat), st.want.chat)
		}
		if st.want.pager == Skipped {
			skipped++
		}
	}
	if got := testutil.ToFloat64(m.Notifications.WithLabelValues("pager", metrics.Skipped)); got != float64(skipped) {
		t.Errorf("skipped{pager} = %v, want %d", got, skipped)
	}
	if got := testutil.ToFloat64(m.Notifications.WithLabelValues("chat", metrics.Skipped)); got != 0 {
		t.Errorf("skipped{chat} = %v, want 0 (no threshold)", got)
	}
}

// TestDecisionsSayWhy: the result of routing carries every decision with
// its reason, which is what route prints.
func TestDecisionsSayWhy(t *testing.T) {
	ctx := context.Background()
	db, set := banStore(t)
	r := New(Config{Rules: set, Store: db, Sinks: map[string]SinkPolicy{"pager": {MinSeverity: notification.Critical}}})
	body := banChange(7, "222", "ACCOUNT_VIOLATION")
	id, err := db.AppendWebhook(ctx, body, r.now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Route(ctx, storeWebhook(id, body, r))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != 1 {
		t.Fatalf("%d decisions, want 1", len(res.Decisions))
	}
	d := res.Decisions[0]
	if fmt.Sprint(d.Matched) != "[heads-up]" || len(d.Notifications) != 2 {
		t.Fatalf("decision %+v, want heads-up matched with two notifications", d)
	}
	for _, n := range d.Notifications {
		switch n.Notification.Sink {
		case "pager":
			if n.Outcome != Skipped || !strings.Contains(n.Reason, "warning is below the sink's min_severity critical") {
				t.Errorf("pager: %s %q", n.Outcome, n.Reason)
			}
		case "chat":
			if n.Outcome != Queued || n.Reason != "" {
				t.Errorf("chat: %s %q", n.Outcome, n.Reason)
			}
		}
	}
	again, err := db.AppendWebhook(ctx, body, r.now())
	if err != nil {
		t.Fatal(err)
	}
	res, err = r.Route(ctx, storeWebhook(again, body, r))
	if err != nil || len(res.Decisions) != 1 || !res.Decisions[0].Redelivery {
		t.Fatalf("the same change again: %+v, %v; want one redelivery decision", res, err)
	}
}
