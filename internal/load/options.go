package load

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"time"
)

// options are the tool's flags.
type options struct {
	routerBin    string
	pollOnly     bool
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
	ceiling      bool
	// replicas is how many routers to start on one store; more than one
	// needs storeURL, a Postgres database they share.
	replicas int
	storeURL string
	// sweep, when set, runs these loads one after the other instead of
	// the one --concurrency or --rate describe; repeat times each.
	sweep  []step
	repeat int
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
	fs.BoolVar(&o.ceiling, "ceiling", true, "first measure the machine's durable limit under the same load (a bare HMAC check and group-committed fsync'd append), and report the router's intake as a share of it")
	fs.IntVar(&o.replicas, "replicas", 1, "start this many routers on one store and spread the posters round-robin across them (more than 1 needs --store-url)")
	fs.BoolVar(&o.pollOnly, "poll-only", false, "with --store-url: the routers' store.poll_only (no LISTEN/NOTIFY; replicas find each other's work by polling)")
	fs.StringVar(&o.storeURL, "store-url", "", "a Postgres database on this machine (postgres://user@127.0.0.1:5432/db) for the routers' store, in a schema of the run's own dropped at the end (default: SQLite in the temporary folder)")
	sweepList := fs.String("sweep", "", "run several loads one after the other, each on a fresh router with its own ceiling measurement, and end with a table of them: a comma-separated list of posters (closed loop) and rates (open loop), such as 1,16,64,500/s,2000/s,5000/s")
	fs.IntVar(&o.repeat, "repeat", 1, "with --sweep: run each load this many times and put the median of each figure in the table")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *sweepList != "" {
		steps, err := parseSweep(*sweepList)
		if err != nil {
			return nil, err
		}
		o.sweep = steps
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
	case o.replicas < 1 || o.replicas > 16:
		return nil, errors.New("--replicas must be 1..16")
	case o.replicas > 1 && o.storeURL == "":
		return nil, errors.New("--replicas above 1 needs --store-url, a Postgres database they share (SQLite is one process's)")
	case o.storeURL != "" && o.routerBin == "":
		return nil, errors.New("--store-url needs --router-bin: it is the store of the routers the tool starts")
	case o.sweep != nil && o.url != "":
		return nil, errors.New("--sweep needs --router-bin: each of its loads starts a fresh router")
	case o.repeat < 1 || o.repeat > 20:
		return nil, errors.New("--repeat must be 1..20")
	case o.repeat > 1 && o.sweep == nil:
		return nil, errors.New("--repeat needs --sweep (one load repeated is --sweep with one load)")
	case o.sweep != nil && o.rate > 0:
		return nil, errors.New("--sweep gives each load's rate itself; drop --rate")
	case o.pollOnly && o.storeURL == "":
		return nil, errors.New("--poll-only needs --store-url: it is a Postgres store's setting")
	}
	if o.storeURL != "" {
		if err := postgresURL(o.storeURL); err != nil {
			return nil, err
		}
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

// postgresURL accepts a postgres:// URL of a server on this machine.
func postgresURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("--store-url must be a postgres://user@127.0.0.1:5432/db URL, got %q", redactURL(raw))
	}
	if err := loopbackHost(u.Host); err != nil {
		return fmt.Errorf("--store-url: %w", err)
	}
	return nil
}

// redactURL hides a URL's password, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
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
