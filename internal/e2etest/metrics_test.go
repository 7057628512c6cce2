package e2etest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const idle = `# TYPE wabarouter_webhooks_unrouted gauge
wabarouter_webhooks_unrouted 0
# TYPE wabarouter_webhooks_parked gauge
wabarouter_webhooks_parked 2
# TYPE wabarouter_outbox_pending gauge
wabarouter_outbox_pending{sink="a"} 0
wabarouter_outbox_pending{sink="b"} 0
# TYPE wabarouter_deliveries_in_flight gauge
wabarouter_deliveries_in_flight{sink="a"} 0
wabarouter_deliveries_in_flight{sink="b"} 0
# TYPE wabarouter_notifications_total counter
wabarouter_notifications_total{sink="a",outcome="sent"} 3
wabarouter_notifications_total{sink="b",outcome="sent"} 4
# TYPE wabarouter_delivery_latency_seconds histogram
wabarouter_delivery_latency_seconds_bucket{sink="a",le="+Inf"} 3
wabarouter_delivery_latency_seconds_sum{sink="a"} 0.5
wabarouter_delivery_latency_seconds_count{sink="a"} 3
`

func parse(t *testing.T, text string) Metrics {
	t.Helper()
	m, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseMetrics(t *testing.T) {
	m := parse(t, idle)
	for key, want := range map[string]float64{
		"wabarouter_webhooks_parked":                                          2,
		"wabarouter_notifications_total{outcome=sent,sink=a}":                 3,
		"wabarouter_delivery_latency_seconds{sink=a}_count":                   3,
		"wabarouter_delivery_latency_seconds{sink=a}_sum":                     0.5,
		Key("wabarouter_notifications_total", "sink", "b", "outcome", "sent"): 4,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if got := m.Sum("wabarouter_notifications_total"); got != 7 {
		t.Errorf("Sum = %v, want 7", got)
	}
	if got := m.SumWith("wabarouter_notifications_total", "outcome", "sent"); got != 7 {
		t.Errorf("SumWith outcome=sent = %v, want 7", got)
	}
	if got := m.SumWith("wabarouter_notifications_total", "outcome", "sent", "sink", "b"); got != 4 {
		t.Errorf("SumWith outcome=sent sink=b = %v, want 4", got)
	}
	if got := m.SumWith("wabarouter_notifications_total", "outcome", "created"); got != 0 {
		t.Errorf("SumWith outcome=created = %v, want 0", got)
	}
	if got := m.Sum("wabarouter_delivery_latency_seconds"); got != 0 {
		t.Errorf("Sum of a histogram's _count and _sum = %v, want them left out", got)
	}
	if got := m.LabelValues("wabarouter_outbox_pending", "sink"); strings.Join(got, ",") != "a,b" {
		t.Errorf("sinks %q", got)
	}
}

func TestDrained(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		drained        bool
		reason         string
	}{
		{name: "idle, parked webhooks aside", drained: true},
		{name: "a webhook waits to be routed", from: "wabarouter_webhooks_unrouted 0", to: "wabarouter_webhooks_unrouted 1", reason: "1 webhooks unrouted"},
		{name: "a notification pending", from: `pending{sink="b"} 0`, to: `pending{sink="b"} 2`, reason: "2 pending for b"},
		{name: "a send in flight", from: `in_flight{sink="a"} 0`, to: `in_flight{sink="a"} 1`, reason: "1 in flight to a"},
		{name: "no unrouted series", from: "wabarouter_webhooks_unrouted 0", to: "", reason: "no wabarouter_webhooks_unrouted"},
		{name: "no in-flight series for a sink", from: `wabarouter_deliveries_in_flight{sink="b"} 0`, to: "", reason: "no wabarouter_deliveries_in_flight series for sink b"},
		{name: "no outbox series", from: "wabarouter_outbox_pending{sink=\"a\"} 0\nwabarouter_outbox_pending{sink=\"b\"} 0", to: "", reason: "no wabarouter_outbox_pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := idle
			if tc.from != "" {
				if !strings.Contains(text, tc.from) {
					t.Fatalf("fixture lacks %q", tc.from)
				}
				text = strings.Replace(text, tc.from, tc.to, 1)
			}
			drained, reason := parse(t, text).Drained()
			if drained != tc.drained || !strings.Contains(reason, tc.reason) {
				t.Errorf("Drained() = %v, %q; want %v, %q", drained, reason, tc.drained, tc.reason)
			}
		})
	}
}

// sequenceServer serves the given /metrics bodies one per scrape, then
// the last one for ever.
func sequenceServer(t *testing.T, bodies ...string) (*httptest.Server, func() int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		body := bodies[min(n, len(bodies)-1)]
		n++
		mu.Unlock()
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestAwaitDrainedWaitsForTwoDrainedScrapesInARow(t *testing.T) {
	busy := strings.Replace(idle, `pending{sink="a"} 0`, `pending{sink="a"} 5`, 1)
	// Drained once, then busy again (a webhook routed between the two
	// reads of one scrape), then drained for good.
	srv, scrapes := sequenceServer(t, busy, busy, idle, busy, idle, idle)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := awaitDrained(ctx, srv.Client(), srv.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := scrapes(); got != 6 {
		t.Errorf("returned after %d scrapes, want 6 (the first two drained ones in a row)", got)
	}
	if ok, _ := m.Drained(); !ok {
		t.Error("returned a scrape that is not drained")
	}
}

func TestAwaitDrainedGivesUp(t *testing.T) {
	busy := strings.Replace(idle, `in_flight{sink="b"} 0`, `in_flight{sink="b"} 1`, 1)
	srv, _ := sequenceServer(t, busy)
	// Long enough that a loaded machine (the whole suite under -race)
	// still answers the first scrape within it: the error can only name
	// what a scrape showed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := awaitDrained(ctx, srv.Client(), srv.URL, nil, nil); err == nil || !strings.Contains(err.Error(), "1 in flight to b") {
		t.Fatalf("got %v, want a timeout naming what is in flight", err)
	}
	exited := make(chan struct{})
	close(exited)
	_, err := awaitDrained(context.Background(), srv.Client(), srv.URL, exited, func() error { return io.ErrUnexpectedEOF })
	if err == nil || !strings.Contains(err.Error(), "router exited") {
		t.Fatalf("got %v, want an error saying the router exited", err)
	}
}

func TestSign(t *testing.T) {
	// Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(
	// b"e2e-app-secret", b"{\"object\":\"whatsapp_business_account\"}", hashlib.sha256).hexdigest())'
	const want = "sha256=d66fac242430b0756e0055c7ef713e9d9a2322ffadfb0d9b8d97e56cfcaf7c9b"
	if got := Sign([]byte("e2e-app-secret"), []byte(`{"object":"whatsapp_business_account"}`)); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
