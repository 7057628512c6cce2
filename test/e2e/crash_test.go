package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	sinkwebhook "github.com/wabarouter/wabarouter/internal/sinks/webhook"
	"github.com/wabarouter/wabarouter/internal/webhook"
)

// deliveryPeer records, per notification id, how often it was delivered and
// which WABA its event named.
type deliveryPeer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int    // notification id -> deliveries
	wabas  map[string]string // waba id -> first notification id seen
	bad    int
}

func newDeliveryPeer(t *testing.T, secret string) *deliveryPeer {
	p := &deliveryPeer{counts: map[string]int{}, wabas: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get(sinkwebhook.SignatureHeader) != sinkwebhook.Sign(secret, b) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var n struct {
			ID    string `json:"id"`
			Event struct {
				WabaID string `json:"waba_id"`
			} `json:"event"`
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if err := json.Unmarshal(b, &n); err != nil || n.ID == "" || n.Event.WabaID == "" {
			p.bad++
			return
		}
		p.counts[n.ID]++
		if _, ok := p.wabas[n.Event.WabaID]; !ok {
			p.wabas[n.Event.WabaID] = n.ID
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// missing returns the WABA ids in want that no delivery has named yet.
func (p *deliveryPeer) missing(want []string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, w := range want {
		if _, ok := p.wabas[w]; !ok {
			out = append(out, w)
		}
	}
	return out
}

func violationPayload(i int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%d","time":%d,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`,
		1000000+i, 1764597600+i)
}

func TestCrashLosesNothing(t *testing.T) {
	const (
		total     = 3000
		killAfter = 1000
		posters   = 8
		secret    = "crash-sink-secret"
		// The sink's concurrency: at most this many sends are in flight
		// when the router is killed, so at most this many can repeat.
		sendsInFlight = 4
	)
	bin := buildBinary(t)
	peer := newDeliveryPeer(t, secret)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(`rules:
  - name: every-account-update
    when: field == "account_update"
    to: [peer]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: ["%s"]
store:
  path: %s
rules: [%s]
sinks:
  - name: peer
    type: webhook
    url: %s
    secret: %s
    concurrency: %d
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), rulesPath, peer.srv.URL, secret, sendsInFlight)

	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = violationPayload(i)
	}
	accepted := make([]atomic.Bool, total)
	var acceptedCount atomic.Int64
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: posters}}
	defer client.CloseIdleConnections()

	// postAll posts the given indexes from posters goroutines to base and
	// returns those not answered 200; stop ends posting early.
	postAll := func(base string, idx []int, stop *atomic.Bool) (failed []int, other []string) {
		work := make(chan int)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range posters {
			wg.Go(func() {
				for i := range work {
					if stop != nil && stop.Load() {
						mu.Lock()
						failed = append(failed, i)
						mu.Unlock()
						continue
					}
					req, err := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(bodies[i]))
					if err != nil {
						panic(err)
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Hub-Signature-256", webhook.Sign(appSecret, bodies[i]))
					resp, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					mu.Lock()
					switch {
					case err == nil && resp.StatusCode == http.StatusOK:
						accepted[i].Store(true)
						acceptedCount.Add(1)
					case err == nil:
						other = append(other, strconv.Itoa(i)+": HTTP "+resp.Status)
						failed = append(failed, i)
					default:
						failed = append(failed, i)
					}
					mu.Unlock()
				}
			})
		}
		for _, i := range idx {
			work <- i
		}
		close(work)
		wg.Wait()
		return failed, other
	}

	// First run: kill it with SIGKILL once killAfter webhooks are accepted.
	r1 := startRouter(t, bin, cfg)
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	var killed atomic.Bool
	killDone := make(chan struct{})
	go func() {
		defer close(killDone)
		deadline := time.Now().Add(60 * time.Second)
		for acceptedCount.Load() < killAfter && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		_ = r1.cmd.Process.Kill()
		killed.Store(true)
	}()
	start := time.Now()
	rest, other := postAll("http://"+r1.addr, all, &killed)
	<-killDone
	select {
	case <-r1.done:
	case <-time.After(10 * time.Second):
		t.Fatal("router did not die after SIGKILL")
	}
	acceptedFirst := acceptedCount.Load()
	if len(other) > 0 {
		t.Fatalf("first run answered non-200 without a connection error: %q", other)
	}
	if acceptedFirst < killAfter || acceptedFirst >= total {
		t.Fatalf("first run accepted %d of %d; the kill did not land mid-load", acceptedFirst, total)
	}
	t.Logf("first run: %d accepted before SIGKILL (%d to re-post), %v", acceptedFirst, len(rest), time.Since(start).Round(time.Millisecond))

	// Second run on the same store: Meta retries whatever was not answered 200.
	client.CloseIdleConnections()
	r2 := startRouter(t, bin, cfg)
	failed, other := postAll("http://"+r2.addr, rest, nil)
	if len(failed) > 0 || len(other) > 0 {
		t.Fatalf("second run refused %d re-posts: %q\n%s", len(failed), other, r2.logText())
	}
	acceptedTotal := acceptedCount.Load()

	var want []string
	for i := range total {
		if accepted[i].Load() {
			want = append(want, strconv.Itoa(1000000+i))
		}
	}
	if len(want) != total {
		t.Fatalf("only %d of %d webhooks accepted in the end", len(want), total)
	}
	deadline := time.Now().Add(30 * time.Second)
	missing := peer.missing(want)
	for len(missing) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		missing = peer.missing(want)
	}
	// Let in-flight retries land, so duplicates are counted fully.
	time.Sleep(500 * time.Millisecond)

	peer.mu.Lock()
	delivered, dups := len(peer.counts), 0
	for _, c := range peer.counts {
		dups += c - 1
	}
	bad := peer.bad
	peer.mu.Unlock()
	t.Logf("accepted %d (first run %d), distinct notifications delivered %d, duplicate deliveries %d, elapsed %v",
		acceptedTotal, acceptedFirst, delivered, dups, time.Since(start).Round(time.Millisecond))
	if len(missing) > 0 {
		t.Fatalf("%d accepted webhooks never delivered, e.g. WABA %s", len(missing), missing[0])
	}
	if bad > 0 {
		t.Errorf("peer got %d deliveries without an id or a WABA id", bad)
	}
	if delivered != total {
		t.Errorf("peer saw %d distinct notification ids, want %d (one per webhook)", delivered, total)
	}
	// A few refusals, so the intake counters have both sides to add up.
	for _, bad := range []struct{ body, sig string }{
		{string(bodies[0]), "sha256=" + strings.Repeat("0", 64)},
		{string(bodies[0]), ""},
		{"not json", webhook.Sign(appSecret, []byte("not json"))},
	} {
		if code, _ := post(t, "http://"+r2.addr+"/webhook", []byte(bad.body), bad.sig); code == http.StatusOK {
			t.Errorf("a bad post was accepted: %q", bad.body[:min(len(bad.body), 20)])
		}
	}
	checkCountersAddUp(t, "http://"+r2.addr, len(rest)+3)
	if dups > sendsInFlight {
		t.Errorf("%d duplicate deliveries after one crash; want at most %d, the sends in flight (the sink's concurrency)", dups, sendsInFlight)
	}
}

// scrape reads a router's /metrics into sums by metric name and label set,
// e.g. "wabarouter_notifications_total{outcome=sent,sink=peer}".
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// checkCountersAddUp scrapes the second run once its outbox has drained:
// every POST is accepted or rejected, and every notification this run
// created or took over from the crashed run ended sent, skipped,
// suppressed or dead-lettered.
func checkCountersAddUp(t *testing.T, base string, posted int) {
	t.Helper()
	var m map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		m = scrape(t, base)
		if m["wabarouter_outbox_pending{sink=peer}"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rejected := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, "wabarouter_webhooks_rejected_total{") {
			rejected += v
		}
	}
	received, accepted := m["wabarouter_webhooks_received_total"], m["wabarouter_webhooks_accepted_total"]
	for _, reason := range []string{"bad_signature", "missing_signature", "not_json"} {
		if got := m["wabarouter_webhooks_rejected_total{reason="+reason+"}"]; got != 1 {
			t.Errorf("rejected{reason=%s} = %v, want 1", reason, got)
		}
	}
	if received != float64(posted) || received != accepted+rejected {
		t.Errorf("received %v, accepted %v, rejected %v; want received = %d posts = accepted + rejected", received, accepted, rejected, posted)
	}
	n := func(outcome string) float64 {
		return m["wabarouter_notifications_total{outcome="+outcome+",sink=peer}"]
	}
	in := n("created") + n("resumed")
	out := n("sent") + n("skipped") + n("suppressed") + n("dead_lettered")
	t.Logf("second run: received %v, accepted %v, redeliveries %v; notifications created %v + resumed %v = %v; sent %v, suppressed %v, dead %v, retried %v; pending %v",
		received, accepted, m["wabarouter_redeliveries_total"], n("created"), n("resumed"), in, n("sent"), n("suppressed"), n("dead_lettered"), n("retried"),
		m["wabarouter_outbox_pending{sink=peer}"])
	if in == 0 || in != out || m["wabarouter_outbox_pending{sink=peer}"] != 0 {
		t.Errorf("notifications created + resumed = %v, sent + skipped + suppressed + dead_lettered = %v, pending %v; want equal and nothing pending",
			in, out, m["wabarouter_outbox_pending{sink=peer}"])
	}
	if got := m["wabarouter_delivery_latency_seconds{sink=peer}_count"]; got != n("sent") {
		t.Errorf("latency histogram counted %v deliveries, sent %v", got, n("sent"))
	}
}
