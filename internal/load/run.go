package load

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// Exit codes of Run.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// stopGrace is how long the router gets to exit after SIGTERM.
const stopGrace = 15 * time.Second

// Run is the whole tool: it parses args as wabaload's flags, runs the
// load and prints the report to stdout; it returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "wabaload:", err)
		return ExitUsage
	}
	var out printable
	if o.sweep != nil {
		sw, err := sweep(ctx, o, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "wabaload:", err)
			return ExitFail
		}
		out = sw
	} else {
		rep, err := execute(ctx, o, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "wabaload:", err)
			return ExitFail
		}
		out = rep
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		out.writeText(stdout, o.metrics)
	}
	return ExitOK
}

// printable is a run's report or a sweep's, printed as text or JSON.
type printable interface {
	writeText(w io.Writer, metrics bool)
}

// execute runs the stages of one load run in order and returns the report.
func execute(ctx context.Context, o *options, stderr io.Writer) (*report, error) {
	r, err := prepare(o, stderr)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.startSink(); err != nil {
		return nil, err
	}
	if o.ceiling && o.url == "" {
		if err := r.measureCeiling(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.startRouter(ctx); err != nil {
		return nil, err
	}
	r.startSampling()
	stats := r.send(ctx)
	r.measureIntake(stats)
	r.drain(ctx)
	r.measureDelivery()
	r.measureRouter()
	r.rep.ElapsedS = round(time.Since(r.t0).Seconds(), 3)
	return r.rep, nil
}

// run is the state the stages share.
type run struct {
	o      *options
	stderr io.Writer
	tmpls  []*template
	tr     *tracker
	rep    *report
	client *http.Client
	// cleanups run in reverse order when the run ends, on every path.
	cleanups []func()

	// The fake sink; sink is nil when there is none (--url without
	// --sink-listen).
	sink    *e2etest.WebhookReceiver
	sinkURL string

	// Where the webhooks go; procs is empty with --url, and holds one
	// router per --replicas otherwise, the posters spread across them.
	target, secret string
	procs          []*e2etest.Process

	// Measurement, per router in procs.
	samplers               []*memorySampler
	stopSampling           context.CancelFunc
	routerCPU0, routerCPU1 []time.Duration
	selfCPU0, selfCPU1     time.Duration
	t0, warmEnd, sendEnd   time.Time
	backlogAtEnd           int64
}

// prepare loads the payload templates and sets up the tracker and the
// report.
func prepare(o *options, stderr io.Writer) (*run, error) {
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
	rep := &report{Mode: "closed", Concurrency: o.concurrency, Rate: o.rate,
		DurationS: o.duration.Seconds(), WarmupS: o.warmup.Seconds(), CountBound: o.count,
		Payloads: len(tmpls), Skipped: skipped, Non200: map[string]int64{}}
	if o.rate > 0 {
		rep.Mode = "open"
	}
	r := &run{o: o, stderr: stderr, tmpls: tmpls, tr: newTracker(base, stride), rep: rep,
		target: o.url, secret: o.secret}
	r.client = &http.Client{Timeout: o.timeout, Transport: &http.Transport{
		MaxIdleConns: 2 * o.concurrency, MaxIdleConnsPerHost: 2 * o.concurrency,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	r.onClose(r.client.CloseIdleConnections)
	return r, nil
}

// onClose registers f to run when the run ends.
func (r *run) onClose(f func()) { r.cleanups = append(r.cleanups, f) }

// close undoes what the stages set up, last first.
func (r *run) close() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// withSink reports whether the run has a fake sink: always when it starts
// the router, and with --url only if --sink-listen is given.
func (r *run) withSink() bool { return r.o.url == "" || r.o.sinkListen != "" }

// startSink serves the fake sink: the harness's signed webhook receiver,
// which hands each notification to the tracker and keeps none.
func (r *run) startSink() error {
	if !r.withSink() {
		return nil
	}
	addr := r.o.sinkListen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake sink: %w", err)
	}
	r.sink = e2etest.NewWebhookReceiver(r.o.sinkSecret, e2etest.WebhookReceiverOptions{
		Observe: func(d e2etest.WebhookDelivery) {
			r.tr.delivered(d.Notification.ID, d.Notification.Event.WabaID, d.At)
		},
	})
	srv := &http.Server{Handler: r.sink, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	r.onClose(func() { _ = srv.Close() })
	r.sinkURL = "http://" + ln.Addr().String() + "/notify"
	return nil
}

// routerRules is the catch-all rule the router runs on: every event to
// the fake sink. Its incidents never resolve, so that every event, a
// recovery too, is one notification (the opening or an update), and none
// comes from a timer: the tool counts one notification per event.
const routerRules = `rules:
  - name: wabaload-every-event
    description: every event, so each webhook is one notification per event
    when: "true"
    resolve: never
    to: [fake]
`

// routerConfig is the router's config in dir.
func routerConfig(dir, verifyToken, appSecret, sinkURL, sinkSecret, storeURL string, pollOnly bool) string {
	st := "path: " + strconv.Quote(filepath.Join(dir, "router.db"))
	if storeURL != "" {
		st = "driver: postgres\n  url: " + strconv.Quote(storeURL)
		if pollOnly {
			st += "\n  poll_only: true"
		}
	}
	return fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%s]
store:
  %s
rules: [%s]
sinks:
  - name: fake
    type: webhook
    url: %s
    secret: %s
`, strconv.Quote(verifyToken), strconv.Quote(appSecret), st,
		strconv.Quote(filepath.Join(dir, "rules.yaml")), strconv.Quote(sinkURL), strconv.Quote(sinkSecret))
}

// startRouter starts --replicas routers, each on a temporary folder and
// config of its own and one store (SQLite in the folder, or a fresh
// schema of --store-url), unless the run posts to a running router
// (--url).
func (r *run) startRouter(ctx context.Context) error {
	if r.o.routerBin == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "wabaload-")
	if err != nil {
		return err
	}
	if r.o.keep {
		fmt.Fprintln(r.stderr, "wabaload: keeping", dir)
	} else {
		r.onClose(func() { _ = os.RemoveAll(dir) })
	}
	storeURL := ""
	if r.o.storeURL != "" {
		u, drop, err := postgresSchema(ctx, r.o.storeURL)
		if err != nil {
			return err
		}
		// Registered before the routers' stops, so it runs after them.
		if !r.o.keep {
			r.onClose(drop)
		}
		storeURL = u
	}
	r.secret = randomHex(16)
	verify := randomHex(8)
	for i := range r.o.replicas {
		rdir := dir
		if r.o.replicas > 1 {
			rdir = filepath.Join(dir, fmt.Sprintf("replica-%d", i+1))
			if err := os.Mkdir(rdir, 0o700); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(rdir, "rules.yaml"), []byte(routerRules), 0o600); err != nil {
			return err
		}
		router, err := e2etest.New(e2etest.Options{Binary: r.o.routerBin, Dir: rdir,
			Config: routerConfig(rdir, verify, r.secret, r.sinkURL, r.o.sinkSecret, storeURL, r.o.pollOnly)})
		if err != nil {
			return err
		}
		p, err := router.Launch(ctx)
		if err != nil {
			return fmt.Errorf("starting router %d of %d: %w", i+1, r.o.replicas, err)
		}
		// Stops the router on every error path; measureRouter stops it
		// on the normal path, and this is then a no-op.
		r.onClose(func() { _ = p.Stop(stopGrace) })
		r.procs = append(r.procs, p)
		r.rep.Replicas = append(r.rep.Replicas, &routerReport{PID: p.PID(), Addr: p.Addr()})
	}
	r.target = r.procs[0].URL("/webhook")
	r.rep.Router = r.rep.Replicas[0]
	if r.o.replicas == 1 {
		r.rep.Replicas = nil
	}
	if storeURL != "" {
		r.rep.Store = "postgres"
	} else {
		r.rep.Store = "sqlite"
	}
	return nil
}

// replicaReports is the report of each router in procs, in order.
func (r *run) replicaReports() []*routerReport {
	if len(r.rep.Replicas) > 0 {
		return r.rep.Replicas
	}
	return []*routerReport{r.rep.Router}
}

// cpuOf reads every router's CPU time.
func (r *run) cpuOf() []time.Duration {
	out := make([]time.Duration, len(r.procs))
	for i, p := range r.procs {
		out[i], _ = procCPU(p.PID())
	}
	return out
}

// startSampling starts sampling the routers' memory and takes the CPU
// times the load's figures start from.
func (r *run) startSampling() {
	ctx, stop := context.WithCancel(context.Background())
	r.stopSampling = stop
	r.onClose(stop)
	for _, p := range r.procs {
		s := &memorySampler{pid: p.PID()}
		r.samplers = append(r.samplers, s)
		go s.run(ctx, 100*time.Millisecond)
	}
	r.routerCPU0 = r.cpuOf()
	r.selfCPU0 = selfCPU()
}

// send posts webhooks for the warm-up and then the measured duration, in
// closed or open loop, and takes the figures at the moment sending ends.
func (r *run) send(ctx context.Context) []*posterStats {
	o := r.o
	r.t0 = time.Now()
	r.warmEnd = r.t0.Add(o.warmup)
	r.tr.mu.Lock()
	r.tr.t0 = r.t0
	r.tr.mu.Unlock()
	l := &loader{url: r.target, secret: []byte(r.secret), client: r.client, tmpls: r.tmpls, tr: r.tr, count: o.count,
		warmEnd: r.warmEnd, deadline: r.t0.Add(o.warmup + o.duration), lateAfter: 10 * time.Millisecond}
	if len(r.procs) > 1 {
		for _, p := range r.procs {
			l.urls = append(l.urls, p.URL("/webhook"))
		}
	}
	var stats []*posterStats
	if o.rate > 0 {
		stats = l.openLoop(ctx, o.concurrency, o.rate, r.t0)
	} else {
		stats = l.closedLoop(ctx, o.concurrency)
	}
	r.sendEnd = time.Now()
	r.routerCPU1 = r.cpuOf()
	r.selfCPU1 = selfCPU()
	r.backlogAtEnd = r.tr.backlog()
	for i, p := range r.procs {
		s, _ := scrapeRouter(context.Background(), r.client, p.URL(""))
		if v := viewOf("send_end", s); v != nil {
			rr := r.replicaReports()[i]
			rr.Pipeline = append(rr.Pipeline, *v)
		}
	}
	return stats
}

// measureIntake merges the posters' tallies into the report's intake
// figures.
func (r *run) measureIntake(stats []*posterStats) {
	rep := r.rep
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
	if measured := lastEnd.Sub(r.warmEnd); measured > 0 {
		rep.MeasuredS = round(measured.Seconds(), 3)
		rep.AcceptedPerS = round(float64(rep.AcceptedMeasured)/measured.Seconds(), 1)
		rep.QueuedPerS = round(float64(notifMeasured)/measured.Seconds(), 1)
	}
	if c := rep.Ceiling; c != nil && c.AcceptedPerS > 0 {
		c.RouterShare = round(rep.AcceptedPerS/c.AcceptedPerS, 3)
	}
	if loadWall := r.sendEnd.Sub(r.t0); loadWall > 0 {
		rep.ToolCPUCores = round((r.selfCPU1-r.selfCPU0).Seconds()/loadWall.Seconds(), 2)
		for i, rr := range r.replicaReports() {
			if i < len(r.routerCPU1) {
				rr.CPUCoresDuringLoad = round((r.routerCPU1[i]-r.routerCPU0[i]).Seconds()/loadWall.Seconds(), 2)
			}
		}
	}
}

// drain waits, up to --drain-timeout, for every notification of every
// accepted webhook to reach the fake sink.
func (r *run) drain(ctx context.Context) {
	if r.sink == nil {
		return
	}
	deadline := time.Now().Add(r.o.drainTimeout)
	for r.tr.backlog() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// measureDelivery fills in the report's delivery figures from what the
// fake sink received.
func (r *run) measureDelivery() {
	if r.sink == nil {
		return
	}
	rep, tr := r.rep, r.tr
	rep.BacklogAtSendEnd = r.backlogAtEnd
	tr.mu.Lock()
	rep.Backlog = tr.outstanding
	rep.Drained = tr.outstanding == 0
	rep.E2E = summarize(tr.e2e)
	var expected int64
	for _, rec := range tr.recs {
		if rec.accepted {
			expected += int64(rec.expected)
		}
	}
	rep.NotificationsExpected = expected
	rep.Delivered = int64(len(tr.seen))
	var inWindow int64
	lo, hi := r.warmEnd.Sub(r.t0), r.sendEnd.Sub(r.t0)
	for _, at := range tr.recvAt {
		if at >= lo && at <= hi {
			inWindow++
		}
	}
	if hi > lo {
		rep.DeliveredPerSDuringLoad = round(float64(inWindow)/(hi-lo).Seconds(), 1)
	}
	if !tr.last.IsZero() {
		if span := tr.last.Sub(r.t0); span > 0 {
			rep.DeliveredPerSOverall = round(float64(len(tr.recvAt))/span.Seconds(), 1)
		}
		if rep.Drained && tr.last.After(r.sendEnd) {
			rep.DrainS = round(tr.last.Sub(r.sendEnd).Seconds(), 3)
		}
	}
	tr.mu.Unlock()
	if rep.Accepted > 0 {
		rep.NotificationsPerWebhook = round(float64(expected)/float64(rep.Accepted), 3)
	}
	rep.BadSignatures = r.sink.BadSignatures()
	rep.Malformed = r.sink.Malformed()
	rep.Unknown = tr.unknown.Load()
	rep.Duplicates = tr.duplicates.Load()
	rep.Extra = tr.extra.Load()
	rep.E2EMeasured = true
}

// measureRouter takes every router's memory, CPU and final /metrics,
// then stops it and summarises its log; with several, the report's
// router is their sum.
func (r *run) measureRouter() {
	if len(r.procs) == 0 {
		return
	}
	r.stopSampling()
	reports := r.replicaReports()
	for i, p := range r.procs {
		r.measureOne(p, r.samplers[i], r.routerCPU0[i], reports[i])
	}
	if len(reports) > 1 {
		r.rep.Router = combined(reports)
	}
}

// measureOne fills rr with the figures of router p.
func (r *run) measureOne(p *e2etest.Process, sampler *memorySampler, cpu0 time.Duration, rr *routerReport) {
	pid := p.PID()
	rr.VMHWMKB, _ = procStatusKB(pid, "VmHWM")
	rss, _ := procStatusKB(pid, "VmRSS")
	rr.VMRSSEndKB = rss
	sampler.mu.Lock()
	rr.VMRSSMaxSampledKB = max(sampler.rssMax, rss)
	rr.RSSSamples = sampler.samples
	sampler.mu.Unlock()
	// The kernel folds RSS into VmHWM lazily, so a sample can exceed it.
	rr.PeakKB = max(rr.VMHWMKB, rr.VMRSSMaxSampledKB)
	if cpu, err := procCPU(pid); err == nil {
		rr.CPUSeconds = round((cpu - cpu0).Seconds(), 2)
	}
	s, _ := scrapeRouter(context.Background(), r.client, p.URL(""))
	if v := viewOf("end", s); v != nil {
		rr.Pipeline = append(rr.Pipeline, *v)
	}
	if r.o.metrics {
		rr.Metrics = s.lines
	}
	rr.Exit = stopSummary(p, stopGrace)
	rr.LogLines, rr.Warnings = logSummary(p, 10)
}

// combined adds the replicas' CPU and memory up: what the routers cost
// together. Peaks are summed though they need not coincide, so the
// memory is an upper bound.
func combined(reps []*routerReport) *routerReport {
	c := &routerReport{PID: reps[0].PID, Addr: fmt.Sprintf("%d replicas", len(reps)), LogLines: map[string]int{}}
	var exits []string
	for _, rr := range reps {
		c.PeakKB += rr.PeakKB
		c.VMHWMKB += rr.VMHWMKB
		c.VMRSSMaxSampledKB += rr.VMRSSMaxSampledKB
		c.VMRSSEndKB += rr.VMRSSEndKB
		c.RSSSamples += rr.RSSSamples
		c.CPUSeconds = round(c.CPUSeconds+rr.CPUSeconds, 2)
		c.CPUCoresDuringLoad = round(c.CPUCoresDuringLoad+rr.CPUCoresDuringLoad, 2)
		for k, v := range rr.LogLines {
			c.LogLines[k] += v
		}
		c.Warnings = append(c.Warnings, rr.Warnings...)
		exits = append(exits, rr.Exit)
	}
	c.Exit = strings.Join(exits, "; ")
	return c
}
