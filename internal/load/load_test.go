package load

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/event"
)

func TestMain(m *testing.M) { os.Exit(e2etest.Main(m)) }

const webhooksDir = "../../testdata/webhooks"

// TestTemplates checks every fixture becomes a template whose rendered
// copies carry the ids written, and only those.
func TestTemplates(t *testing.T) {
	tmpls, skipped, err := loadTemplates(webhooksDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Errorf("fixtures skipped: %q", skipped)
	}
	for _, tm := range tmpls {
		const first = 1234567000000000
		evs, _ := event.Parse(tm.render(nil, first))
		if len(evs) != tm.notifications || len(evs) == 0 {
			t.Errorf("%s: %d events, template says %d", tm.name, len(evs), tm.notifications)
		}
		for _, ev := range evs {
			id, err := strconv.ParseInt(ev.WabaID, 10, 64)
			if err != nil || id < first || id >= first+int64(tm.entries) {
				t.Errorf("%s: waba_id %q not written by the tool", tm.name, ev.WabaID)
			}
		}
	}
	if _, err := newTemplate("x", []byte(`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}`)); err == nil {
		t.Error("a non-WABA payload was accepted as a template")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/webhook", "http://localhost:1/webhook", "http://[::1]:9/webhook"} {
		if err := loopbackURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080/webhook", "https://127.0.0.1/webhook", "http://example.com/webhook"} {
		if err := loopbackURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestShortRun builds the router, loads it briefly and checks the report
// adds up. It never asserts speed.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router")
	}
	bin := e2etest.Binary(t)
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--router-bin", bin, "--payloads", webhooksDir,
		"--concurrency", "4", "--duration", "1s", "--warmup", "0", "--count", "300",
		"--drain-timeout", "10s", "--json"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	t.Logf("%s", stdout.String())
	if r.Sent == 0 || r.Sent > 300 || r.Accepted == 0 {
		t.Errorf("sent %d, accepted %d; want 0 < accepted, sent <= 300", r.Sent, r.Accepted)
	}
	var non200 int64
	for _, n := range r.Non200 {
		non200 += n
	}
	if r.Accepted+non200 != r.Sent || non200 != 0 {
		t.Errorf("sent %d = accepted %d + non-200 %v?", r.Sent, r.Accepted, r.Non200)
	}
	if !r.Drained || r.Backlog != 0 {
		t.Errorf("not drained: backlog %d", r.Backlog)
	}
	// Every fixture makes at least one event, some more.
	if r.NotificationsExpected < r.Accepted {
		t.Errorf("%d notifications expected of %d accepted webhooks", r.NotificationsExpected, r.Accepted)
	}
	if r.Delivered != r.NotificationsExpected {
		t.Errorf("delivered %d, want %d (accepted %d × %.3f per webhook)", r.Delivered, r.NotificationsExpected, r.Accepted, r.NotificationsPerWebhook)
	}
	if r.BadSignatures+r.Malformed+r.Unknown+r.Duplicates+r.Extra != 0 {
		t.Errorf("bad signatures %d, malformed %d, unknown %d, duplicates %d, extra %d",
			r.BadSignatures, r.Malformed, r.Unknown, r.Duplicates, r.Extra)
	}
	if r.Latency.N != int(r.AcceptedMeasured) || r.E2E.N != int(r.Delivered) {
		t.Errorf("latency samples %d of %d accepted, e2e samples %d of %d delivered",
			r.Latency.N, r.AcceptedMeasured, r.E2E.N, r.Delivered)
	}
	if r.Router == nil || r.Router.VMHWMKB <= 0 || !strings.Contains(r.Router.Exit, "exited 0") {
		t.Errorf("router report %+v", r.Router)
	}
	if c := r.Ceiling; c == nil || c.AcceptedPerS <= 0 || c.Latency.N == 0 || c.RouterShare <= 0 {
		t.Errorf("ceiling report %+v, want its rate, latencies and the router's share", c)
	}
}

// TestCeilingStoresWhatIsSigned: the ceiling answers 200 only to a body
// signed with its secret, once the body is in its file.
func TestCeilingStoresWhatIsSigned(t *testing.T) {
	dir := t.TempDir()
	c, err := startCeiling(dir, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	for _, tc := range []struct {
		secret string
		want   int
	}{{"s3cret", http.StatusOK}, {"other", http.StatusUnauthorized}} {
		req, err := e2etest.NewWebhookRequest(t.Context(), c.url, []byte(tc.secret), body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("signed with %q: %d, want %d", tc.secret, resp.StatusCode, tc.want)
		}
	}
	c.close()
	stored, err := os.ReadFile(filepath.Join(dir, "ceiling.log"))
	if err != nil || len(stored) != 4+len(body) || !bytes.HasSuffix(stored, body) {
		t.Errorf("the file holds %q, %v; want the signed body once, length-prefixed", stored, err)
	}
}

// TestTrackerMatchesDeliveries feeds the tracker deliveries as the fake
// sink would: each notification of an accepted webhook counts once, and
// repeats, strangers and surplus are told apart.
func TestTrackerMatchesDeliveries(t *testing.T) {
	const base, stride = 5000, 2
	tr := newTracker(base, stride)
	now := time.Now()
	tr.t0 = now
	tr.register(0, 2, now, false) // ids 5000, 5001
	tr.register(1, 1, now, true)  // id 5002, warm-up
	tr.answered(0, true)
	tr.answered(1, true)
	if got := tr.backlog(); got != 3 {
		t.Fatalf("backlog %d after accepting 3 notifications' webhooks, want 3", got)
	}
	for _, d := range []struct{ id, waba string }{
		{"a", "5000"}, {"b", "5001"}, {"a", "5000"}, // a repeated
		{"c", "5002"}, {"d", "5002"}, // d is one more than webhook 1 makes
		{"e", "4999"}, {"f", "7777"}, {"g", "not a number"},
	} {
		tr.delivered(d.id, d.waba, now.Add(time.Millisecond))
	}
	if tr.backlog() != 0 || tr.duplicates.Load() != 1 || tr.extra.Load() != 1 || tr.unknown.Load() != 3 {
		t.Errorf("backlog %d, duplicates %d, extra %d, unknown %d; want 0, 1, 1, 3",
			tr.backlog(), tr.duplicates.Load(), tr.extra.Load(), tr.unknown.Load())
	}
	// Webhook 1 was warm-up: only webhook 0's two notifications are timed.
	if len(tr.e2e) != 2 || len(tr.recvAt) != 4 {
		t.Errorf("%d end-to-end samples, %d receive times; want 2 and 4", len(tr.e2e), len(tr.recvAt))
	}
}

func TestViewOf(t *testing.T) {
	text := `# TYPE wabarouter_webhooks_accepted_total counter
wabarouter_webhooks_accepted_total 10
# TYPE wabarouter_notifications_total counter
wabarouter_notifications_total{outcome="created",sink="a"} 7
wabarouter_notifications_total{outcome="created",sink="b"} 4
wabarouter_notifications_total{outcome="sent",sink="a"} 6
# TYPE wabarouter_outbox_pending gauge
wabarouter_outbox_pending{sink="a"} 1
wabarouter_outbox_pending{sink="b"} 4
`
	m, err := e2etest.ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	v := viewOf("end", routerScrape{lines: strings.Split(text, "\n"), values: m})
	want := pipelineView{At: "end", WebhooksAccepted: 10, NotificationsCreated: 11, NotificationsSent: 6, OutboxPending: 5}
	if v == nil || *v != want {
		t.Errorf("viewOf = %+v, want %+v", v, want)
	}
	if v := viewOf("end", routerScrape{}); v != nil {
		t.Errorf("a failed scrape gave a view: %+v", v)
	}
}

// TestReplicasShortRun starts two routers on one fresh Postgres schema
// and spreads the load across them: every notification arrives once, and
// the report has each replica's figures and their sum.
func TestReplicasShortRun(t *testing.T) {
	pg := os.Getenv("WABAROUTER_TEST_POSTGRES")
	if testing.Short() || pg == "" {
		t.Skip("needs WABAROUTER_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and builds the router")
	}
	bin := e2etest.Binary(t)
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--router-bin", bin, "--payloads", webhooksDir,
		"--replicas", "2", "--store-url", pg, "--ceiling=false",
		"--concurrency", "4", "--duration", "1s", "--warmup", "0", "--count", "200",
		"--drain-timeout", "20s", "--json"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	t.Logf("%s", stdout.String())
	if r.Store != "postgres" || r.Accepted == 0 || !r.Drained || r.Delivered != r.NotificationsExpected {
		t.Errorf("store %q, accepted %d, drained %v, delivered %d of %d", r.Store, r.Accepted, r.Drained, r.Delivered, r.NotificationsExpected)
	}
	if r.Duplicates+r.Unknown+r.Extra+r.BadSignatures != 0 {
		t.Errorf("duplicates %d, unknown %d, extra %d, bad signatures %d", r.Duplicates, r.Unknown, r.Extra, r.BadSignatures)
	}
	if len(r.Replicas) != 2 {
		t.Fatalf("%d replica reports, want 2", len(r.Replicas))
	}
	var cpu float64
	var accepted float64
	for i, rr := range r.Replicas {
		if rr.PeakKB <= 0 || !strings.Contains(rr.Exit, "exited 0") {
			t.Errorf("replica %d: %+v", i+1, rr)
		}
		cpu += rr.CPUSeconds
		if n := len(rr.Pipeline); n > 0 {
			accepted += rr.Pipeline[n-1].WebhooksAccepted
		}
		if n := len(rr.Pipeline); n == 0 || rr.Pipeline[n-1].WebhooksAccepted == 0 {
			t.Errorf("replica %d took no webhooks; the posters were not spread", i+1)
		}
	}
	if accepted != float64(r.Accepted) {
		t.Errorf("replicas accepted %v between them, the tool counted %d", accepted, r.Accepted)
	}
	if r.Router == nil || r.Router.PeakKB != r.Replicas[0].PeakKB+r.Replicas[1].PeakKB || r.Router.CPUSeconds-cpu > 0.011 || cpu-r.Router.CPUSeconds > 0.011 {
		t.Errorf("combined %+v is not the replicas' sum", r.Router)
	}
}

func TestReplicaFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--router-bin", "x", "--replicas", "2"}, false},
		{[]string{"--router-bin", "x", "--replicas", "0"}, false},
		{[]string{"--url", "http://127.0.0.1:1/webhook", "--secret", "s", "--store-url", "postgres://p@127.0.0.1/test"}, false},
		{[]string{"--router-bin", "x", "--replicas", "3", "--store-url", "postgres://p@db.example.com/test"}, false},
		{[]string{"--router-bin", "x", "--replicas", "3", "--store-url", "mysql://p@127.0.0.1/test"}, false},
		{[]string{"--router-bin", "x", "--replicas", "3", "--store-url", "postgres://p@127.0.0.1:5432/test?sslmode=disable"}, true},
		{[]string{"--router-bin", "x", "--store-url", "postgres://p@localhost/test"}, true},
	} {
		_, err := parseFlags(tc.args, &bytes.Buffer{})
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}

func TestSweepFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []step // nil: refused
	}{
		{[]string{"--router-bin", "x", "--sweep", "1,16,64,500/s,2000/s"}, []step{{posters: 1}, {posters: 16}, {posters: 64}, {rate: 500}, {rate: 2000}}},
		{[]string{"--router-bin", "x", "--sweep", " 8 , 2.5/s"}, []step{{posters: 8}, {rate: 2.5}}},
		{[]string{"--router-bin", "x", "--sweep", "64,"}, nil},
		{[]string{"--router-bin", "x", "--sweep", "0"}, nil},
		{[]string{"--router-bin", "x", "--sweep", "fast/s"}, nil},
		{[]string{"--router-bin", "x", "--sweep", "500/min"}, nil},
		{[]string{"--router-bin", "x", "--sweep", "64", "--rate", "100"}, nil},
		{[]string{"--url", "http://127.0.0.1:1/webhook", "--secret", "s", "--sweep", "64"}, nil},
		{[]string{"--router-bin", "x", "--sweep", "64", "--repeat", "3"}, []step{{posters: 64}}},
		{[]string{"--router-bin", "x", "--sweep", "64", "--repeat", "0"}, nil},
		{[]string{"--router-bin", "x", "--repeat", "3"}, nil},
	} {
		o, err := parseFlags(tc.args, &bytes.Buffer{})
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%q: accepted as %v, want an error", tc.args, o.sweep)
		case tc.want != nil && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.want != nil && !slices.Equal(o.sweep, tc.want):
			t.Errorf("%q: steps %v, want %v", tc.args, o.sweep, tc.want)
		}
	}
}

// TestSweepShortRun: a sweep runs each of its loads on a router of its
// own and reports them in order, each adding up as a single run does.
func TestSweepShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router")
	}
	bin := e2etest.Binary(t)
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--router-bin", bin, "--payloads", webhooksDir, "--sweep", "3,40/s",
		"--duration", "1s", "--warmup", "0", "--count", "60", "--drain-timeout", "10s", "--json"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var sw sweepReport
	if err := json.Unmarshal(stdout.Bytes(), &sw); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(sw.Steps) != 2 {
		t.Fatalf("%d steps reported, want 2:\n%s", len(sw.Steps), stdout.String())
	}
	first, second := sw.Steps[0], sw.Steps[1]
	if first.Mode != "closed" || first.Concurrency != 3 || second.Mode != "open" || second.Rate != 40 {
		t.Errorf("steps ran as %s/%d and %s/%g, want a closed loop of 3 then 40/s", first.Mode, first.Concurrency, second.Mode, second.Rate)
	}
	for i, r := range sw.Steps {
		if r.Accepted == 0 || !r.Drained || r.Delivered != r.NotificationsExpected || r.Ceiling == nil || r.Ceiling.AcceptedPerS <= 0 {
			t.Errorf("step %d: accepted %d, drained %v, delivered %d of %d, ceiling %+v", i+1, r.Accepted, r.Drained, r.Delivered, r.NotificationsExpected, r.Ceiling)
		}
		if r.Router == nil || i > 0 && r.Router.PID == sw.Steps[i-1].Router.PID {
			t.Errorf("step %d did not run on a router of its own: %+v", i+1, r.Router)
		}
	}
	var text bytes.Buffer
	sw.writeText(&text, false)
	if !strings.Contains(text.String(), "3 posters") || !strings.Contains(text.String(), "40/s") {
		t.Errorf("the table names neither load:\n%s", text.String())
	}
}

// TestSweepTableTakesMedians: with several runs of a load, each figure in
// its line is the median over them, a figure no run measured is "-", and
// an end-to-end p99 of a run whose backlog never drained is marked as a
// floor.
func TestSweepTableTakesMedians(t *testing.T) {
	run := func(accepted, p99 float64, drained bool) *report {
		return &report{Mode: "open", Rate: 500, AcceptedPerS: accepted, E2EMeasured: true, Drained: drained,
			E2E: latencySummary{N: 10, P50: p99 / 2, P99: p99}, BacklogAtSendEnd: int64(accepted),
			Router: &routerReport{PeakKB: 40 * 1024}}
	}
	for _, tc := range []struct {
		name string
		runs []*report
		want []string
	}{
		{"odd", []*report{run(300, 9, true), run(100, 30, true), run(200, 12, true)},
			[]string{"500/s", " 200 ", "12.0 ms", "6.0 ms", "40.0 MiB", " - "}},
		{"even", []*report{run(100, 10, true), run(300, 20, false)},
			[]string{" 200 ", "15.0 ms+"}},
	} {
		line := tableRow(tc.runs)
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: line %q lacks %q", tc.name, line, w)
			}
		}
	}
	if line := tableRow([]*report{run(100, 10, true)}); strings.Contains(line, "+") {
		t.Errorf("a drained run is marked unfinished: %q", line)
	}
}
