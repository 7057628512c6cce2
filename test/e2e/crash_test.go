package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// crashAccounts is how many accounts the crash test's webhooks are about:
// each gets two violations of one type, so each opens an incident and
// then updates it, in whichever order the two arrive.
const crashAccounts = 1500

func violationPayload(i int) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%d","time":%d,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}}]}]}`,
		1000000+i%crashAccounts, 1764597600+i)
}

// tally counts a peer's deliveries per notification id and the WABAs
// they named, and keeps each incident's transitions in the order they
// arrived.
type tally struct {
	perID      map[string]int
	wabas      map[string]bool
	transition map[string][]int // incident id → seq, as delivered
}

func tallyOf(ds []e2etest.WebhookDelivery) tally {
	t := tally{perID: map[string]int{}, wabas: map[string]bool{}, transition: map[string][]int{}}
	for _, d := range ds {
		t.perID[d.Notification.ID]++
		t.wabas[d.Notification.Event.WabaID] = true
		if inc := d.Notification.Incident; inc != nil {
			t.transition[inc.ID] = append(t.transition[inc.ID], inc.Seq)
		}
	}
	return t
}

// outOfOrder lists the incidents a later transition of which arrived
// before an earlier one had; a repeat of one already delivered (a send in
// flight at the crash) is no disorder.
func (t tally) outOfOrder() []string {
	var out []string
	for id, seqs := range t.transition {
		top := 0
		for _, s := range seqs {
			if s < top {
				out = append(out, fmt.Sprintf("%s %v", id, seqs))
				break
			}
			top = max(top, s)
		}
	}
	return out
}

func (t tally) missing(want []string) []string {
	var out []string
	for _, w := range want {
		if !t.wabas[w] {
			out = append(out, w)
		}
	}
	return out
}

func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	const (
		total     = 3000
		killAfter = 1000
		posters   = 8
		secret    = "crash-sink-secret"
		// The sink's concurrency: at most this many sends are in flight
		// when the router is killed, so at most this many can repeat.
		sendsInFlight = 4
	)
	peer := e2etest.ServeWebhookReceiver(t, secret, e2etest.WebhookReceiverOptions{})
	chat := e2etest.ServeSlack(t, slackToken, nil)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	writeFile(t, rulesPath, `rules:
  - name: every-account-update
    when: field == "account_update"
    to: [peer, chat]
`)
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
  - name: chat
    type: slack
    token: %s
    channel: C0CRASH
    api_url: %s
    rate: none # the fake takes any pace; Slack's 1/s would make this test take 25 minutes
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), rulesPath, peer.URL(), secret, sendsInFlight, slackToken, chat.APIURL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})

	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = violationPayload(i)
	}
	accepted := make([]atomic.Bool, total)
	var acceptedCount atomic.Int64
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: posters}}
	defer client.CloseIdleConnections()

	// postAll posts the given indexes from posters goroutines to p and
	// returns those not answered 200; stop ends posting early.
	postAll := func(p *e2etest.Process, idx []int, stop *atomic.Bool) (failed []int, other []string) {
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
					req, err := e2etest.NewWebhookRequest(context.Background(), p.URL("/webhook"), []byte(appSecret), bodies[i])
					if err != nil {
						panic(err)
					}
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
	p1 := r.Start(t)
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	var killed atomic.Bool
	killDone := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(60 * time.Second)
		for acceptedCount.Load() < killAfter && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		err := p1.Kill()
		killed.Store(true)
		killDone <- err
	}()
	start := time.Now()
	rest, other := postAll(p1, all, &killed)
	if err := <-killDone; err != nil {
		t.Fatal(err)
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
	p2 := r.Start(t)
	failed, other := postAll(p2, rest, nil)
	if len(failed) > 0 || len(other) > 0 {
		t.Fatalf("second run refused %d re-posts: %q\n%s", len(failed), other, p2.LogText())
	}
	acceptedTotal := acceptedCount.Load()

	var want []string
	for i := range crashAccounts {
		want = append(want, strconv.Itoa(1000000+i))
	}
	for i := range total {
		if !accepted[i].Load() {
			t.Fatalf("webhook %d was never accepted", i)
		}
	}
	peer.AwaitFunc(t, "a delivery for every accepted webhook", func(ds []e2etest.WebhookDelivery) bool {
		got := tallyOf(ds)
		return len(got.perID) >= total && len(got.missing(want)) == 0
	})
	// Every retry has landed once the outbox is empty, so duplicates are
	// counted fully.
	p2.WaitDrained(t)

	got := tallyOf(peer.Received())
	dups := 0
	for _, c := range got.perID {
		dups += c - 1
	}
	t.Logf("accepted %d (first run %d), distinct notifications delivered %d, duplicate deliveries %d, elapsed %v",
		acceptedTotal, acceptedFirst, len(got.perID), dups, time.Since(start).Round(time.Millisecond))
	if n, reasons := peer.Refusals(); n > 0 {
		t.Errorf("peer refused %d deliveries (bad signature, or no id): %q", n, reasons)
	}
	if len(got.perID) != total {
		t.Errorf("peer saw %d distinct notification ids, want %d (one per webhook)", len(got.perID), total)
	}
	if dups > sendsInFlight {
		t.Errorf("%d duplicate deliveries after one crash; want at most %d, the sends in flight (the sink's concurrency)", dups, sendsInFlight)
	}
	if len(got.transition) != crashAccounts {
		t.Errorf("%d incidents delivered, want one per account (%d)", len(got.transition), crashAccounts)
	}
	if bad := got.outOfOrder(); len(bad) > 0 {
		t.Errorf("%d incidents' transitions arrived out of order across the crash, e.g. %s", len(bad), bad[0])
	}
	// Slack: one root message per incident, whatever was in flight when
	// the router died; the second transition threads under it.
	roots := map[string]int{}
	for _, m := range chat.Received() {
		if m.ThreadTS == "" {
			roots[fmt.Sprint(m.Metadata.EventPayload["incident_id"])]++
		}
	}
	twice := 0
	for _, n := range roots {
		if n > 1 {
			twice++
		}
	}
	if len(roots) != crashAccounts || twice > 0 {
		t.Errorf("Slack has roots for %d incidents (want %d), %d of them posted more than once", len(roots), crashAccounts, twice)
	}
	if n, reasons := chat.Refusals(); n > 0 {
		t.Errorf("Slack refused %d requests: %q", n, reasons[:min(len(reasons), 3)])
	}

	// A few refusals, so the intake counters have both sides to add up.
	for _, bad := range []struct{ body, sig string }{
		{string(bodies[0]), "sha256=" + strings.Repeat("0", 64)},
		{string(bodies[0]), ""},
		{"not json", e2etest.Sign([]byte(appSecret), []byte("not json"))},
	} {
		if code, _ := p2.Post(t, []byte(bad.body), bad.sig); code == http.StatusOK {
			t.Errorf("a bad post was accepted: %q", bad.body[:min(len(bad.body), 20)])
		}
	}
	checkCountersAddUp(t, p2.Metrics(t), len(rest)+3)
}

// checkCountersAddUp checks a scrape of the second run taken after its
// outbox drained: every
// POST is accepted or rejected, and every notification this run created or
// took over from the crashed run ended sent, skipped, suppressed or
// dead-lettered.
func checkCountersAddUp(t *testing.T, m e2etest.Metrics, posted int) {
	t.Helper()
	rejected := m.Sum("wabarouter_webhooks_rejected_total")
	received, accepted := m["wabarouter_webhooks_received_total"], m["wabarouter_webhooks_accepted_total"]
	for _, reason := range []string{"bad_signature", "missing_signature", "not_json"} {
		if got := m.Get("wabarouter_webhooks_rejected_total", "reason", reason); got != 1 {
			t.Errorf("rejected{reason=%s} = %v, want 1", reason, got)
		}
	}
	if received != float64(posted) || received != accepted+rejected {
		t.Errorf("received %v, accepted %v, rejected %v; want received = %d posts = accepted + rejected", received, accepted, rejected, posted)
	}
	n := func(outcome string) float64 {
		return m.Get("wabarouter_notifications_total", "outcome", outcome, "sink", "peer")
	}
	in := n("created") + n("resumed")
	out := n("sent") + n("skipped") + n("suppressed") + n("silenced") + n("dead_lettered")
	t.Logf("second run: received %v, accepted %v, redeliveries %v; notifications created %v + resumed %v = %v; sent %v, suppressed %v, dead %v, retried %v",
		received, accepted, m["wabarouter_redeliveries_total"], n("created"), n("resumed"), in, n("sent"), n("suppressed"), n("dead_lettered"), n("retried"))
	if in == 0 || in != out {
		t.Errorf("notifications created + resumed = %v, sent + skipped + suppressed + dead_lettered = %v; want equal", in, out)
	}
	if got := m["wabarouter_delivery_latency_seconds{sink=peer}_count"]; got != n("sent") {
		t.Errorf("latency histogram counted %v deliveries, sent %v", got, n("sent"))
	}
}
