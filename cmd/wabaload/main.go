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
//
// The tool is internal/load; this is its main.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wabarouter/wabarouter/internal/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := load.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
