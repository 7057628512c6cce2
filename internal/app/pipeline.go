package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/delivery"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/metrics"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/postgres"
	"github.com/wabarouter/wabarouter/internal/webhook"
)

// intakeBatch is how many accepted webhooks the router takes per pass, in
// one transaction. Appends no longer share it (SQLite appends to its
// intake file, Postgres group-commits them on connections of their own),
// so a larger batch only spreads one commit over more webhooks; it was 16
// while each pass held up the appends waiting at that moment.
const intakeBatch = 64

// Housekeeping: expired fingerprints and dedup keys, and webhooks and sent
// notifications older than keepHistory, are deleted every gcEvery so the
// store does not grow without bound. keepHistory matches the redelivery
// window, long enough to look into what happened last week.
const (
	gcEvery     = time.Hour
	keepHistory = 7 * 24 * time.Hour
)

// Pipeline is the running router: durable intake, routing and delivery.
type Pipeline struct {
	cfg     *config.Config
	log     *slog.Logger
	store   store.Store
	router  *router.Router
	workers map[string]*delivery.Worker
	sinks   map[string]sinks.SinkCloser
	accept  chan struct{} // wakes the router after an append
	reg     *prometheus.Registry
	metrics *metrics.Metrics
	// stopping is set when shutdown begins, so /readyz turns away a load
	// balancer before the listener closes.
	stopping atomic.Bool
	// routedAt is when routing last moved (routed a webhook, or found
	// none due), in Unix nanoseconds, for /readyz.
	routedAt atomic.Int64
	// owner names this process's leases in the store.
	owner string
	// leaderUntil is, in Unix nanoseconds, until when this replica holds
	// the maintenance lease by its last renewal; zero when it does not.
	leaderUntil atomic.Int64
	// gained wakes the GC loop when this replica becomes the leader, so a
	// replica taking over runs housekeeping now rather than within the hour.
	gained chan struct{}
}

// The maintenance lease elects the one replica that runs what must happen
// once: housekeeping, incident timers and the outbox gauges. A leader
// renews it every leaderRenew; one that dies loses it leaderTTL after its
// last renewal, and another replica takes over at its next attempt, so
// within leaderTTL+leaderRenew (under 7 s). Three renewals fit in a TTL,
// so one slow round trip does not hand the lease over.
const (
	leaderLease = "maintenance"
	leaderTTL   = 5 * time.Second
	leaderRenew = 1500 * time.Millisecond
)

// Owner is the name this process leases outbox rows under: the host's
// name, so the next run on the same host takes back what a killed run
// left leased, and never what another replica holds.
func Owner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "wabarouter"
	}
	return host
}

// ReplicaOwner is the lease owner of a serve sharing its store with
// others: the host's name and the address it listens on, which two serve
// processes on one host cannot share. It stays the same across restarts,
// so a restarted replica takes back the rows it left leased, and only
// those: releasing by the host's name alone would free the leases of
// another replica on the same host while its sends are in flight.
// A port chosen by the system (:0, in tests) is not the same across
// restarts, nor is it known yet; the process id tells such replicas apart.
func ReplicaOwner(listen string) string {
	if _, port, err := net.SplitHostPort(listen); err != nil || port == "0" {
		return fmt.Sprintf("%s/pid-%d", Owner(), os.Getpid())
	}
	return Owner() + "/" + listen
}

// Registry is where the pipeline's parts register their metrics; it is
// served on /metrics.
func (p *Pipeline) Registry() *prometheus.Registry { return p.reg }

// NewPipeline opens the store and builds rules and sinks from cfg.
func NewPipeline(ctx context.Context, cfg *config.Config, set *rules.Set, log *slog.Logger) (*Pipeline, error) {
	built, err := BuildSinks(cfg)
	if err != nil {
		return nil, errors.Join(err, CloseSinks(built))
	}
	p, err := newPipeline(ctx, cfg, set, log, built)
	if err != nil {
		return nil, errors.Join(err, CloseSinks(built))
	}
	return p, nil
}

// newPipeline is NewPipeline once the sinks are built; the caller closes
// them if it fails.
func newPipeline(ctx context.Context, cfg *config.Config, set *rules.Set, log *slog.Logger, built map[string]sinks.SinkCloser) (*Pipeline, error) {
	st, err := OpenStore(ctx, cfg.Store, ForServing)
	if err != nil {
		return nil, err
	}
	// Rows a previous run here leased but did not finish (it crashed, or
	// stopped with sends in flight) go out now instead of after their lease
	// runs out.
	owner := Owner()
	if cfg.Store.IsPostgres() {
		owner = ReplicaOwner(cfg.Server.Listen)
	}
	released, err := st.ReleaseLeases(ctx, owner)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("resuming deliveries in store %s: %w", cfg.Store.Where(), err)
	}
	if released > 0 {
		log.InfoContext(ctx, "released the leases a previous run held; their rows go out now", "rows", released)
	}
	p := &Pipeline{cfg: cfg, log: log, store: st, sinks: built, workers: map[string]*delivery.Worker{},
		accept: make(chan struct{}, 1), reg: prometheus.NewRegistry(), owner: owner, gained: make(chan struct{}, 1)}
	p.routedAt.Store(time.Now().UnixNano())
	p.metrics = metrics.New(p.reg)
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&outboxCollector{store: st, sinks: cfg.SinkNames(), log: log, leader: p.isLeader}, metrics.NewBuildInfo())
	// Asked once before serving, so a lone router (and every SQLite one)
	// is the leader from its first scrape and its first timer pass.
	p.campaign(ctx)
	routing := SinkPolicies(cfg)
	for _, sc := range cfg.Sinks {
		policy := delivery.DefaultPolicy
		if n := defaultConcurrency(sc.Type); n > 0 {
			policy.Workers = n
		}
		if sc.Concurrency > 0 {
			policy.Workers = sc.Concurrency
		}
		if sc.Rate.Limited() {
			// Burst 1: a queue goes out at the rate from its first send,
			// which is what Slack's per-channel limit asks for.
			policy.Rate, policy.Burst = rate.Limit(float64(sc.Rate.N)/sc.Rate.Per.Seconds()), 1
		}
		policy.FallbackTo, policy.FallbackAfter = sc.Fallback.To, sc.Fallback.After
		policy.FallbackSkips = map[string][]notification.Transition{}
		for _, to := range sc.Fallback.To {
			policy.FallbackSkips[to] = routing[to].Skips
		}
		p.workers[sc.Name] = delivery.NewWorker(sc.Name, owner, built[sc.Name], st, policy, log.With("component", "delivery"), p.metrics)
	}
	if err := p.countResumed(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	p.initRuleMetrics(set)
	p.router = router.New(router.Config{Rules: set, Store: st, Log: log.With("component", "router"),
		Queued: p.wakeSinks, Metrics: p.metrics, Sinks: routing,
		SilenceReminder: router.SilenceReminder{Sinks: cfg.Silences.RemindTo, Before: cfg.Silences.RemindBefore}})
	return p, nil
}

// countResumed counts the notifications a previous run left in the outbox,
// so this run's counters add up: created + resumed = sent + skipped +
// suppressed + dead_lettered + pending.
func (p *Pipeline) countResumed(ctx context.Context) error {
	stats, err := p.store.Stats(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("reading the outbox left by the previous run: %w", err)
	}
	for sink, s := range stats {
		if _, configured := p.workers[sink]; !configured && s.Pending > 0 {
			// Not lost, but nobody will send them: say so loudly.
			p.log.WarnContext(ctx, "notifications are queued for a sink that is no longer configured; they wait until it is configured again",
				"sink", sink, "pending", s.Pending)
			continue
		}
		if s.Pending > 0 {
			p.metrics.Notifications.WithLabelValues(sink, metrics.Resumed).Add(float64(s.Pending))
			p.log.InfoContext(ctx, "resuming notifications queued by the previous run", "sink", sink, "pending", s.Pending)
		}
	}
	return nil
}

func (p *Pipeline) initRuleMetrics(set *rules.Set) {
	for _, r := range set.Rules {
		p.metrics.InitRule(r.Name)
	}
	p.metrics.SetRules(set.Checksum, len(set.Rules))
}

// webhookOptions configure the endpoint to answer 200 only once a body is
// stored.
func (p *Pipeline) webhookOptions() webhook.Options {
	secrets := make([]string, len(p.cfg.Server.AppSecrets))
	for i, s := range p.cfg.Server.AppSecrets {
		secrets[i] = s.Reveal()
	}
	return webhook.Options{
		VerifyToken:  p.cfg.Server.VerifyToken.Reveal(),
		AppSecrets:   secrets,
		MaxBodyBytes: p.cfg.Server.MaxBodyBytes,
		Validate:     PayloadValidator(p.cfg.Server.MaxChangesPerWebhook),
		Acceptor:     p,
		Logger:       p.log.With("component", "webhook"),
		Observe:      p.observeWebhook,
	}
}

// observeWebhook counts every POST as received and then accepted or
// rejected, so received = accepted + rejected always holds.
func (p *Pipeline) observeWebhook(o webhook.Outcome, err error) {
	p.metrics.WebhooksReceived.Inc()
	// The endpoint's outcomes are named as the reason label; two are told
	// apart further here.
	reason := string(o)
	switch o {
	case webhook.Accepted:
		p.metrics.WebhooksAccepted.Inc()
		return
	case webhook.Unavailable:
		reason = metrics.ReasonStoreUnavailable
	case webhook.Invalid:
		switch {
		case errors.Is(err, event.ErrNotJSON):
			reason = metrics.ReasonNotJSON
		case errors.Is(err, event.ErrWrongObject):
			reason = metrics.ReasonWrongObject
		case errors.Is(err, event.ErrTooManyChanges):
			reason = metrics.ReasonTooManyChanges
		default:
			reason = metrics.ReasonNotWebhook
		}
	}
	p.metrics.WebhooksRejected.WithLabelValues(reason).Inc()
}

// Accept stores a verified body durably; the router picks it up from there.
func (p *Pipeline) Accept(ctx context.Context, body []byte) error {
	if _, err := p.store.AppendWebhook(ctx, body, time.Now()); err != nil {
		return err
	}
	select {
	case p.accept <- struct{}{}:
	default:
	}
	return nil
}

// SetRules swaps the rules used for the next webhook.
func (p *Pipeline) SetRules(set *rules.Set) {
	p.initRuleMetrics(set)
	p.router.SetRules(set)
}

// readyTimeout bounds the store check of one /readyz request.
const readyTimeout = 2 * time.Second

// stalledAfter is how long routing may make no progress while webhooks
// wait before /readyz says it is stuck.
const stalledAfter = 30 * time.Second

// ready answers /readyz: 200 while the store takes writes, rules are
// loaded, routing moves and shutdown has not begun; 503 with the reason
// otherwise. Parked webhooks are reported but do not make the router
// unready: turning intake away would only add to them.
func (p *Pipeline) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fail := func(reason string) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, reason+"\n")
	}
	if p.stopping.Load() {
		fail("shutting down")
		return
	}
	set := p.router.Rules()
	if set == nil {
		fail("no rules loaded")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := p.store.Ping(ctx); err != nil {
		p.log.WarnContext(ctx, "readiness check: the store does not take writes", "err", err)
		fail("store does not take writes")
		return
	}
	stats, err := p.store.WebhookStats(ctx)
	if err != nil {
		p.log.WarnContext(ctx, "readiness check: reading the routing backlog failed", "err", err)
		fail("store unreadable")
		return
	}
	if idle := time.Since(time.Unix(0, p.routedAt.Load())); stats.Unrouted > 0 && idle > stalledAfter {
		fail(fmt.Sprintf("routing stalled: %d webhooks waiting, none routed for %s", stats.Unrouted, idle.Round(time.Second)))
		return
	}
	_, _ = io.WriteString(w, "ready\n")
	_, _ = fmt.Fprintf(w, "rules: %d, sha256 %s\n", len(set.Rules), set.Checksum)
	if stats.Parked > 0 {
		_, _ = fmt.Fprintf(w, "%d webhooks parked after failing to route; see wabarouter deadletter list\n", stats.Parked)
	}
}

// Run serves until ctx ends: stop intake first, then let routing and
// delivery finish what they hold, then close the sinks and the store.
func (p *Pipeline) Run(ctx context.Context) error {
	srv := NewServer(p.cfg.Server.Listen, webhook.NewHandler(p.webhookOptions()), p.log)
	srv.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{}))
	srv.Handle("/readyz", http.HandlerFunc(p.ready))
	p.registerAPI(srv)
	if err := p.registerConsole(srv); err != nil {
		return errors.Join(err, CloseSinks(p.sinks), p.store.Close())
	}
	stopWatch := context.AfterFunc(ctx, func() { p.stopping.Store(true) })
	defer stopWatch()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { p.routeLoop(workCtx) })
	wg.Go(func() { p.leaderLoop(workCtx) })
	wg.Go(func() { p.replicaLoop(workCtx) })
	wg.Go(func() { p.gcLoop(workCtx) })
	wg.Go(func() { p.timerLoop(workCtx) })
	for _, w := range p.workers {
		wg.Go(func() { w.Run(workCtx) })
	}
	if l, ok := p.store.(listener); ok {
		wg.Go(func() { l.Listen(workCtx, p.woken, p.listenLost) })
	}
	err := srv.Run(ctx)
	stopWork()
	wg.Wait()
	p.resign()
	return errors.Join(err, CloseSinks(p.sinks), p.store.Close())
}

// routeLoop routes accepted webhooks, oldest first and a batch per
// transaction, including those a previous run accepted but did not route.
// A webhook that fails waits for its retry, and is parked after a few
// attempts, without holding up the ones behind it.
func (p *Pipeline) routeLoop(ctx context.Context) {
	for ctx.Err() == nil {
		pending, err := p.store.PendingWebhooks(ctx, time.Now(), intakeBatch)
		if err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "reading accepted webhooks failed", "err", err)
		}
		results, err := p.router.RouteBatch(ctx, pending)
		if err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "routing failed; will retry", "err", err)
		}
		routed := 0
		for _, res := range results {
			if res.Err == nil {
				routed++
			}
		}
		if err == nil && (routed > 0 || len(pending) == 0) {
			p.routedAt.Store(time.Now().UnixNano())
		}
		// A full batch that made progress means more may be waiting. On
		// Postgres a short one may too: another replica may hold the rest
		// of a batch, and without wake-ups (poll_only) waiting for the
		// next poll held each replica to a batch a second. On SQLite this
		// process is the only router, and an append during the pass has
		// left its wake-up in accept, so a short batch was all there was:
		// passing again at once only read the store to find nothing. A
		// batch where nothing could be routed waits before trying again.
		if routed > 0 && (len(pending) == intakeBatch || p.cfg.Store.IsPostgres()) {
			continue
		}
		select {
		case <-ctx.Done():
		case <-p.accept:
		case <-time.After(time.Second):
		}
	}
}

// timerEvery is how often due incident timers are looked for: a
// restriction resolves within this long of its expiry.
const timerEvery = time.Second

// timerLoop fires due incident timers (a restriction's expiry, a
// reminder, a silence's or group's or threshold's timer), including those
// that came due while the router was down, on the leader only.
func (p *Pipeline) timerLoop(ctx context.Context) {
	tick := time.NewTicker(timerEvery)
	defer tick.Stop()
	for {
		if !p.isLeader() {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			continue
		}
		due, err := p.store.DueTimers(ctx, time.Now(), 64)
		if err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "reading due incident timers failed; will try again", "err", err)
		}
		for _, t := range due {
			if _, err := p.router.Fire(ctx, t); err != nil && ctx.Err() == nil {
				p.log.ErrorContext(ctx, "incident timer failed; will try again", "err", err)
			}
		}
		if len(due) == 64 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// gcLoop runs the store's housekeeping on the leader: when it becomes the
// leader (at start, for a lone router) and then every gcEvery.
func (p *Pipeline) gcLoop(ctx context.Context) {
	tick := time.NewTicker(gcEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-p.gained:
		}
		if !p.isLeader() {
			continue
		}
		if err := p.store.GC(ctx, time.Now(), keepHistory, p.cfg.Store.Retention); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "store housekeeping failed; will try again", "err", err)
		}
	}
}

// isLeader says whether this replica holds the maintenance lease now, by
// its last renewal: a renewal that failed (the store is down) does not
// extend it, so a leader cut off from the store stops its duties when
// its lease runs out, before another replica can take them over.
func (p *Pipeline) isLeader() bool {
	return time.Now().UnixNano() < p.leaderUntil.Load()
}

// leaderLoop asks for the maintenance lease every leaderRenew: a follower
// takes it once the leader's runs out, and the leader renews it.
func (p *Pipeline) leaderLoop(ctx context.Context) {
	tick := time.NewTicker(leaderRenew)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.campaign(ctx)
	}
}

// A replica says which rules it runs every replicaEvery, and counts as
// running while its last word is younger than three of those.
const (
	replicaEvery  = 5 * time.Second
	replicaWithin = 3 * replicaEvery
)

// replicaLoop records this replica's rules checksum in the store and
// compares it with the other replicas': a replica whose rules differ
// routes the same payload differently, so the difference is logged when
// it appears, changes or ends, and wabarouter_replicas_rules_differ
// counts the replicas that differ.
func (p *Pipeline) replicaLoop(ctx context.Context) {
	tick := time.NewTicker(replicaEvery)
	defer tick.Stop()
	var said string
	for {
		said = p.compareReplicas(ctx, said)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// compareReplicas does one round of replicaLoop; said is the difference
// logged last, and the one now is returned.
func (p *Pipeline) compareReplicas(ctx context.Context, said string) string {
	set := p.router.Rules()
	if set == nil {
		return said
	}
	seen, err := p.store.SeeReplica(ctx, p.owner, set.Checksum, time.Now(), replicaWithin)
	if err != nil {
		if ctx.Err() == nil {
			p.log.WarnContext(ctx, "comparing rules with the other replicas failed; will try again", "err", err)
		}
		return said
	}
	var differ []string
	for _, r := range seen {
		if r.Owner != p.owner && r.Rules != set.Checksum {
			differ = append(differ, r.Owner+" runs "+r.Rules)
		}
	}
	p.metrics.RulesDiffer.Set(float64(len(differ)))
	now := strings.Join(differ, "; ")
	switch now {
	case said:
	case "":
		p.log.InfoContext(ctx, "this replica's rules are the same as every other replica's again", "checksum", set.Checksum)
	default:
		p.log.WarnContext(ctx, "this replica's rules differ from other replicas': they route the same webhook differently; deploy the same rules to every replica",
			"checksum", set.Checksum, "differing", now)
	}
	return now
}

// resign gives up the maintenance lease on a clean stop, so another
// replica takes over at its next attempt rather than when the lease runs
// out.
func (p *Pipeline) resign() {
	if !p.isLeader() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if _, err := p.store.AcquireLeader(ctx, leaderLease, p.owner, time.Now(), 0); err != nil {
		p.log.WarnContext(ctx, "giving up the leader lease failed; another replica takes over when it runs out", "err", err)
	}
	p.leaderUntil.Store(0)
	p.metrics.Leader.Set(0)
}

// campaign takes or renews the maintenance lease once. The lease counts
// from before the request, so this replica never thinks it holds the
// lease for longer than the store does.
func (p *Pipeline) campaign(ctx context.Context) {
	was := p.isLeader()
	asked := time.Now()
	held, err := p.store.AcquireLeader(ctx, leaderLease, p.owner, asked, leaderTTL)
	if err != nil {
		if ctx.Err() == nil {
			p.log.WarnContext(ctx, "renewing the leader lease failed; will try again", "err", err, "leader", was)
		}
		held = false
	}
	switch {
	case held:
		p.leaderUntil.Store(asked.Add(leaderTTL).UnixNano())
	case err == nil:
		// Another replica holds it: we are a follower now whatever we
		// were.
		p.leaderUntil.Store(0)
	}
	// After a failed renewal leaderUntil is kept: the lease runs out
	// on its own, as it does in the store.
	now := p.isLeader()
	if now {
		p.metrics.Leader.Set(1)
	} else {
		p.metrics.Leader.Set(0)
	}
	if now && !was {
		p.log.InfoContext(ctx, "this replica is the leader: it runs housekeeping, incident timers and the outbox gauges", "owner", p.owner)
		select {
		case p.gained <- struct{}{}:
		default:
		}
	}
	if was && !now {
		p.log.InfoContext(ctx, "this replica is no longer the leader", "owner", p.owner)
	}
}

// woken is told of work another replica (or this one) committed to a
// shared store: its router or sink workers start on it now rather than
// at their next poll.
func (p *Pipeline) woken(w postgres.Wake) {
	switch {
	case w.Webhook:
		select {
		case p.accept <- struct{}{}:
		default:
		}
	case w.Sink != "":
		p.wakeSinks([]string{w.Sink})
	default:
		for _, wk := range p.workers {
			wk.Wake()
		}
	}
}

// listenLost logs a lost LISTEN connection; polling goes on meanwhile,
// and the listener reconnects.
func (p *Pipeline) listenLost(err error) {
	p.log.Warn("lost the store's wake-up connection; polling until it is back", "err", err)
}

func (p *Pipeline) wakeSinks(names []string) {
	for _, name := range names {
		if w, ok := p.workers[name]; ok {
			w.Wake()
		}
	}
}

// ValidatePayload refuses a body that is not a WABA webhook at all, or that
// holds more than event.DefaultMaxChanges changes; see PayloadValidator.
func ValidatePayload(body []byte) error {
	return PayloadValidator(0)(body)
}

// PayloadValidator refuses, with the reason the sender gets in its 400, a
// body that is not a WABA webhook at all or that holds more than
// maxChanges changes (not positive: event.DefaultMaxChanges). A body with
// one unreadable change is still accepted, so its siblings are routed, and
// so is a webhook with no changes at all: Meta retries a refusal for days.
// It reads the envelope without decoding the changes, which the router
// decodes once when it routes the body.
func PayloadValidator(maxChanges int) func(body []byte) error {
	parser := event.Parser{MaxChanges: maxChanges}
	return func(body []byte) error {
		err := parser.Check(body)
		if errors.Is(err, event.ErrTooManyChanges) {
			return fmt.Errorf("%w (server.max_changes_per_webhook)", err)
		}
		return err
	}
}
