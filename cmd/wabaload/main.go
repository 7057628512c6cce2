// Command wabaload is a loopback load tool for wabarouter. It starts a
// built router binary on a temporary config and SQLite store, posts signed
// webhooks drawn from testdata/webhooks to it (closed loop with
// --concurrency posters, or open loop at --rate webhooks per second), and
// receives the resulting notifications on an in-process fake webhook sink.
// It reports intake throughput and latency, delivery throughput, end-to-end
// latency (sent → received by the fake sink), whether the outbox drained,
// and the router's peak memory.
//
// Build the router first; the tool builds nothing:
//
//	go build -o /tmp/wabarouter ./cmd/wabarouter
//	go run ./cmd/wabaload --router-bin /tmp/wabarouter --concurrency 64 --duration 10s
//	go run ./cmd/wabaload --router-bin /tmp/wabarouter --rate 500 --duration 10s --json
//
// Every webhook gets unique entry ids (the events' waba_id), so the router's
// redelivery fingerprint never drops one, and the catch-all rule has no
// dedup: each event of each accepted webhook becomes exactly one
// notification. The fake sink checks the X-Wabarouter-Signature of every
// notification and finds its webhook by the waba_id.
//
// Warm-up (--warmup, default 1s) is sent before the measured --duration:
// its webhooks count towards the drain check but not towards rates or
// percentiles. In open loop (--rate), latencies are measured from each
// webhook's scheduled send time.
//
// With --url and --secret the tool posts to a router already running on
// this machine instead; it then reports intake only, unless that router's
// webhook sink points at --sink-listen (with --sink-secret), and never the
// router's memory.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	routerBin    string
	url, secret  string
	sinkListen   string
	sinkSecret   string
	payloads     string
	concurrency  int
	rate         float64
	duration     time.Duration
	warmup       time.Duration
	count        int64
	drainTimeout time.Duration
	timeout      time.Duration
	jsonOut      bool
	keep         bool
	metrics      bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("wabaload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.routerBin, "router-bin", "", "built wabarouter binary to start (go build -o /tmp/wabarouter ./cmd/wabarouter)")
	fs.StringVar(&o.url, "url", "", "instead of starting a router, post to this running one (loopback only), e.g. http://127.0.0.1:8080/webhook")
	fs.StringVar(&o.secret, "secret", "", "with --url: the router's Meta app secret")
	fs.StringVar(&o.sinkListen, "sink-listen", "", "fake sink address (default 127.0.0.1:0; with --url, no fake sink unless set)")
	fs.StringVar(&o.sinkSecret, "sink-secret", "", "the fake sink's signing secret (default random; with --url, the router's sink secret)")
	fs.StringVar(&o.payloads, "payloads", "testdata/webhooks", "a webhook .json file or a folder of them")
	fs.IntVar(&o.concurrency, "concurrency", 64, "posters (closed loop), or workers serving --rate")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: webhooks per second (0: closed loop)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured sending time, after the warm-up")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "sending time before the measured part")
	fs.Int64Var(&o.count, "count", 0, "send at most this many webhooks, warm-up included (0: no bound)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "after sending stops, wait this long for every notification")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (config, store, router log)")
	fs.BoolVar(&o.metrics, "metrics", false, "include the router's wabarouter_* /metrics samples, scraped after the drain, in the report")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case (o.routerBin == "") == (o.url == ""):
		return nil, errors.New("give exactly one of --router-bin PATH or --url URL")
	case o.url != "" && o.secret == "":
		return nil, errors.New("--url needs --secret, the router's app secret")
	case o.concurrency < 1 || o.concurrency > 4096:
		return nil, errors.New("--concurrency must be 1..4096")
	case o.rate < 0 || o.rate > 1e6 || math.IsNaN(o.rate):
		return nil, errors.New("--rate must be 0..1000000")
	case o.duration <= 0 || o.duration > time.Hour:
		return nil, errors.New("--duration must be positive and at most 1h")
	case o.warmup < 0 || o.warmup > 10*time.Minute:
		return nil, errors.New("--warmup must be 0..10m")
	case o.count < 0:
		return nil, errors.New("--count must not be negative")
	case o.drainTimeout < 0 || o.drainTimeout > time.Hour:
		return nil, errors.New("--drain-timeout must be 0..1h")
	case o.timeout <= 0:
		return nil, errors.New("--timeout must be positive")
	}
	if o.url != "" {
		if err := loopbackURL(o.url); err != nil {
			return nil, err
		}
	}
	if o.sinkListen != "" {
		if err := loopbackHost(o.sinkListen); err != nil {
			return nil, fmt.Errorf("--sink-listen: %w", err)
		}
	}
	return o, nil
}

// loopbackURL refuses anything but http on this machine: the tool is for
// measuring a local router, never for loading someone else's service.
func loopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--url %q must be an http:// URL", raw)
	}
	return loopbackHost(u.Host)
}

func loopbackHost(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address; wabaload only loads this machine", hostport)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "wabaload:", err)
		return exitUsage
	}
	rep, err := execute(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "wabaload:", err)
		return exitFail
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		rep.writeText(stdout, o.metrics)
	}
	return exitOK
}

func execute(ctx context.Context, o *options, stderr io.Writer) (*report, error) {
	tmpls, skipped, err := loadTemplates(o.payloads)
	if err != nil {
		return nil, err
	}
	stride := int64(1)
	for _, t := range tmpls {
		stride = max(stride, int64(t.entries))
	}
	// Ids unique across runs too, so a router whose store outlives the run
	// (--url) does not drop them as redeliveries of an earlier run.
	base := time.Now().UnixMilli() * 1_000_000
	if o.sinkSecret == "" {
		o.sinkSecret = randomHex(16)
	}
	tr := newTracker(base, stride, []byte(o.sinkSecret))

	rep := &report{Mode: "closed", Concurrency: o.concurrency, Rate: o.rate,
		DurationS: o.duration.Seconds(), WarmupS: o.warmup.Seconds(), CountBound: o.count,
		Payloads: len(tmpls), Skipped: skipped, Non200: map[string]int64{}}
	if o.rate > 0 {
		rep.Mode = "open"
	}

	// The fake sink.
	var sinkURL string
	withSink := o.url == "" || o.sinkListen != ""
	if withSink {
		addr := o.sinkListen
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("fake sink: %w", err)
		}
		srv := &http.Server{Handler: tr, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		sinkURL = "http://" + ln.Addr().String() + "/notify"
	}

	// The router.
	target, secret := o.url, o.secret
	var rp *routerProc
	if o.routerBin != "" {
		dir, err := os.MkdirTemp("", "wabaload-")
		if err != nil {
			return nil, err
		}
		if o.keep {
			fmt.Fprintln(stderr, "wabaload: keeping", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		secret = randomHex(16)
		cfgPath, err := routerConfig(dir, randomHex(8), secret, sinkURL, o.sinkSecret)
		if err != nil {
			return nil, err
		}
		rp, err = startRouter(ctx, o.routerBin, cfgPath, dir)
		if err != nil {
			return nil, err
		}
		// Stops the router on every error path; the normal path stops it
		// below and this is then a no-op.
		defer rp.stop(15 * time.Second)
		target = "http://" + rp.addr + "/webhook"
		rep.Router = &routerReport{PID: rp.cmd.Process.Pid, Addr: rp.addr}
	}

	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{
		MaxIdleConns: 2 * o.concurrency, MaxIdleConnsPerHost: 2 * o.concurrency,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()

	sampleCtx, stopSampling := context.WithCancel(context.Background())
	defer stopSampling()
	var routerCPU0, routerCPU1 time.Duration
	if rp != nil {
		go rp.sampleMemory(sampleCtx, 100*time.Millisecond)
		routerCPU0, _ = procCPU(rp.cmd.Process.Pid)
	}
	selfCPU0 := selfCPU()

	t0 := time.Now()
	tr.mu.Lock()
	tr.t0 = t0
	tr.mu.Unlock()
	l := &loader{url: target, secret: []byte(secret), client: client, tmpls: tmpls, tr: tr, count: o.count,
		warmEnd: t0.Add(o.warmup), deadline: t0.Add(o.warmup + o.duration), lateAfter: 10 * time.Millisecond}
	var stats []*posterStats
	if o.rate > 0 {
		stats = l.openLoop(ctx, o.concurrency, o.rate, t0)
	} else {
		stats = l.closedLoop(ctx, o.concurrency)
	}
	sendEnd := time.Now()
	if rp != nil {
		routerCPU1, _ = procCPU(rp.cmd.Process.Pid)
	}
	selfCPU1 := selfCPU()
	backlogAtEnd := tr.backlog()
	if rp != nil {
		if v := viewOf("send_end", scrapeMetrics(client, "http://"+rp.addr)); v != nil {
			rep.Router.Pipeline = append(rep.Router.Pipeline, *v)
		}
	}

	// Merge the posters' tallies.
	var lat []time.Duration
	var lastEnd time.Time
	var notifMeasured int64
	for _, st := range stats {
		rep.Sent += st.sent
		rep.Accepted += st.accepted
		rep.AcceptedMeasured += st.acceptedMeasured
		rep.Late += st.late
		notifMeasured += st.notifMeasured
		lat = append(lat, st.latency...)
		for k, v := range st.non200 {
			rep.Non200[k] += v
		}
		if st.lastEnd.After(lastEnd) {
			lastEnd = st.lastEnd
		}
		rep.MaxScheduleLagMS = max(rep.MaxScheduleLagMS, ms(st.maxLag))
	}
	rep.Latency = summarize(lat)
	warmEnd := t0.Add(o.warmup)
	measured := lastEnd.Sub(warmEnd)
	if measured > 0 {
		rep.MeasuredS = round(measured.Seconds(), 3)
		rep.AcceptedPerS = round(float64(rep.AcceptedMeasured)/measured.Seconds(), 1)
		rep.QueuedPerS = round(float64(notifMeasured)/measured.Seconds(), 1)
	}
	if loadWall := sendEnd.Sub(t0); loadWall > 0 {
		rep.ToolCPUCores = round((selfCPU1-selfCPU0).Seconds()/loadWall.Seconds(), 2)
		if rp != nil {
			rep.Router.CPUCoresDuringLoad = round((routerCPU1-routerCPU0).Seconds()/loadWall.Seconds(), 2)
		}
	}

	// Drain: wait for every notification of every accepted webhook.
	if withSink {
		rep.BacklogAtSendEnd = backlogAtEnd
		deadline := time.Now().Add(o.drainTimeout)
		for tr.backlog() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		tr.mu.Lock()
		rep.Backlog = tr.outstanding
		rep.Drained = tr.outstanding == 0
		rep.E2E = summarize(tr.e2e)
		var expected int64
		for _, r := range tr.recs {
			if r.accepted {
				expected += int64(r.expected)
			}
		}
		rep.NotificationsExpected = expected
		rep.Delivered = int64(len(tr.seen))
		var inWindow int64
		lo, hi := warmEnd.Sub(t0), sendEnd.Sub(t0)
		for _, at := range tr.recvAt {
			if at >= lo && at <= hi {
				inWindow++
			}
		}
		if hi > lo {
			rep.DeliveredPerSDuringLoad = round(float64(inWindow)/(hi-lo).Seconds(), 1)
		}
		if !tr.last.IsZero() {
			if span := tr.last.Sub(t0); span > 0 {
				rep.DeliveredPerSOverall = round(float64(len(tr.recvAt))/span.Seconds(), 1)
			}
			if rep.Drained && tr.last.After(sendEnd) {
				rep.DrainS = round(tr.last.Sub(sendEnd).Seconds(), 3)
			}
		}
		tr.mu.Unlock()
		if rep.Accepted > 0 {
			rep.NotificationsPerWebhook = round(float64(expected)/float64(rep.Accepted), 3)
		}
		rep.BadSignatures = tr.badSig.Load()
		rep.Malformed = tr.malformed.Load()
		rep.Unknown = tr.unknown.Load()
		rep.Duplicates = tr.duplicates.Load()
		rep.Extra = tr.extra.Load()
		rep.E2EMeasured = true
	}

	if rp != nil {
		pid := rp.cmd.Process.Pid
		stopSampling()
		rep.Router.VmHWMKB, _ = procStatusKB(pid, "VmHWM")
		rss, _ := procStatusKB(pid, "VmRSS")
		rep.Router.VmRSSEndKB = rss
		rp.mu.Lock()
		rep.Router.VmRSSMaxSampledKB = max(rp.rssMax, rss)
		rep.Router.RSSSamples = rp.samples
		rp.mu.Unlock()
		// The kernel folds RSS into VmHWM lazily, so a sample can exceed it.
		rep.Router.PeakKB = max(rep.Router.VmHWMKB, rep.Router.VmRSSMaxSampledKB)
		if cpu, err := procCPU(pid); err == nil {
			rep.Router.CPUSeconds = round((cpu - routerCPU0).Seconds(), 2)
		}
		samples := scrapeMetrics(client, "http://"+rp.addr)
		if v := viewOf("end", samples); v != nil {
			rep.Router.Pipeline = append(rep.Router.Pipeline, *v)
		}
		if o.metrics {
			rep.Router.Metrics = samples
		}
		rep.Router.Exit = rp.stop(15 * time.Second)
		rep.Router.LogLines, rep.Router.Warnings = rp.logSummary(10)
	}
	rep.ElapsedS = round(time.Since(t0).Seconds(), 3)
	return rep, nil
}

type latencySummary struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	slices.Sort(d)
	return latencySummary{N: len(d), P50: ms(percentile(d, 0.50)), P99: ms(percentile(d, 0.99)), Max: ms(d[len(d)-1])}
}

// percentile is the nearest-rank percentile of sorted d.
func percentile(d []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

type routerReport struct {
	PID                int            `json:"pid"`
	Addr               string         `json:"addr"`
	PeakKB             int64          `json:"peak_kb"`
	VmHWMKB            int64          `json:"vm_hwm_kb"`
	VmRSSMaxSampledKB  int64          `json:"vm_rss_max_sampled_kb"`
	VmRSSEndKB         int64          `json:"vm_rss_end_kb"`
	RSSSamples         int            `json:"rss_samples"`
	CPUSeconds         float64        `json:"cpu_s"`
	CPUCoresDuringLoad float64        `json:"cpu_cores_during_load"`
	Exit               string         `json:"exit"`
	LogLines           map[string]int `json:"log_lines"`
	Warnings           []string       `json:"warnings,omitempty"`
	Pipeline           []pipelineView `json:"pipeline,omitempty"`
	Metrics            []string       `json:"metrics,omitempty"`
}

type report struct {
	Mode        string   `json:"mode"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate,omitempty"`
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	CountBound  int64    `json:"count_bound,omitempty"`
	Payloads    int      `json:"payloads"`
	Skipped     []string `json:"skipped_payloads,omitempty"`
	ElapsedS    float64  `json:"elapsed_s"`
	MeasuredS   float64  `json:"measured_s"`

	Sent             int64            `json:"sent"`
	Accepted         int64            `json:"accepted"`
	AcceptedMeasured int64            `json:"accepted_measured"`
	AcceptedPerS     float64          `json:"accepted_per_s"`
	Latency          latencySummary   `json:"accept_latency"`
	Non200           map[string]int64 `json:"non_200"`
	Late             int64            `json:"late_sends,omitempty"`
	MaxScheduleLagMS float64          `json:"max_schedule_lag_ms,omitempty"`
	ToolCPUCores     float64          `json:"tool_cpu_cores_during_load"`

	E2EMeasured             bool           `json:"e2e_measured"`
	NotificationsPerWebhook float64        `json:"notifications_per_webhook"`
	NotificationsExpected   int64          `json:"notifications_expected"`
	QueuedPerS              float64        `json:"notifications_accepted_per_s"`
	Delivered               int64          `json:"delivered"`
	DeliveredPerSDuringLoad float64        `json:"delivered_per_s_during_load"`
	DeliveredPerSOverall    float64        `json:"delivered_per_s_overall"`
	E2E                     latencySummary `json:"e2e_latency"`
	Drained                 bool           `json:"drained"`
	BacklogAtSendEnd        int64          `json:"backlog_at_send_end"`
	Backlog                 int64          `json:"backlog"`
	DrainS                  float64        `json:"drain_s"`
	BadSignatures           int64          `json:"bad_signatures"`
	Malformed               int64          `json:"malformed"`
	Unknown                 int64          `json:"unknown"`
	Duplicates              int64          `json:"duplicates"`
	Extra                   int64          `json:"extra"`

	Router *routerReport `json:"router,omitempty"`
}

func (r *report) writeText(w io.Writer, metrics bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	load := fmt.Sprintf("closed loop, %d posters", r.Concurrency)
	if r.Mode == "open" {
		load = fmt.Sprintf("open loop, %.0f webhooks/s on %d workers (latencies from the scheduled time)", r.Rate, r.Concurrency)
	}
	p("load        %s; warm-up %gs excluded, measured %.2fs; %d payload templates", load, r.WarmupS, r.MeasuredS, r.Payloads)
	for _, s := range r.Skipped {
		p("            skipped %s", s)
	}
	p("intake      sent %d, accepted %d (%d measured) = %.0f/s", r.Sent, r.Accepted, r.AcceptedMeasured, r.AcceptedPerS)
	p("            200 latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.Latency.P50, r.Latency.P99, r.Latency.Max)
	if len(r.Non200) > 0 {
		keys := make([]string, 0, len(r.Non200))
		for k := range r.Non200 {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, r.Non200[k]))
		}
		p("            non-200: %s", strings.Join(parts, ", "))
	} else {
		p("            non-200: none")
	}
	if r.Mode == "open" {
		p("            sends >10ms behind schedule %d, max lag %.2f ms", r.Late, r.MaxScheduleLagMS)
	}
	if r.E2EMeasured {
		p("delivery    %.3f notifications/webhook; %d expected, %d delivered", r.NotificationsPerWebhook, r.NotificationsExpected, r.Delivered)
		p("            queued %.0f/s, delivered %.0f/s during load, %.0f/s first send → last delivery", r.QueuedPerS, r.DeliveredPerSDuringLoad, r.DeliveredPerSOverall)
		switch {
		case r.E2E.N == 0:
			p("            end-to-end: no notification of a measured (post-warm-up) webhook arrived")
		case r.Drained:
			p("            end-to-end p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d notifications)", r.E2E.P50, r.E2E.P99, r.E2E.Max, r.E2E.N)
		default:
			p("            end-to-end p50 %.2f ms, p99 %.2f ms, max %.2f ms over the %d that arrived; the rest never did, so the true figures are worse",
				r.E2E.P50, r.E2E.P99, r.E2E.Max, r.E2E.N)
		}
		drained := "no"
		if r.Drained {
			drained = fmt.Sprintf("yes, %.2fs after sending stopped", r.DrainS)
		}
		p("            backlog when sending stopped %d; drained: %s; backlog now %d", r.BacklogAtSendEnd, drained, r.Backlog)
		p("            bad signatures %d, malformed %d, unknown ids %d, duplicates %d, extra %d", r.BadSignatures, r.Malformed, r.Unknown, r.Duplicates, r.Extra)
	} else {
		p("delivery    not measured (no fake sink; see --sink-listen)")
	}
	p("cpu         tool %.2f cores during load", r.ToolCPUCores)
	if rr := r.Router; rr != nil {
		p("router      pid %d: %.2f cores during load, %.1f CPU-s in all", rr.PID, rr.CPUCoresDuringLoad, rr.CPUSeconds)
		p("            peak memory %.1f MiB (VmHWM %.1f MiB, VmRSS max of %d samples %.1f MiB, at end %.1f MiB)",
			float64(rr.PeakKB)/1024, float64(rr.VmHWMKB)/1024, rr.RSSSamples, float64(rr.VmRSSMaxSampledKB)/1024, float64(rr.VmRSSEndKB)/1024)
		for _, v := range rr.Pipeline {
			p("            /metrics at %s: %.0f webhooks accepted, %.0f notifications created (routed), %.0f sent, %.0f in the outbox",
				strings.ReplaceAll(v.At, "_", " "), v.WebhooksAccepted, v.NotificationsCreated, v.NotificationsSent, v.OutboxPending)
		}
		p("            stop: %s; log lines %v", rr.Exit, rr.LogLines)
		for _, l := range rr.Warnings {
			p("            %s", l)
		}
		if metrics {
			for _, m := range rr.Metrics {
				p("            %s", m)
			}
		}
	}
	p("elapsed     %.2fs", r.ElapsedS)
}
