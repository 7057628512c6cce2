// Package load is the loopback load tool behind cmd/wabaload: its flags,
// the webhooks it sends (payload templates with unique ids), the posters
// (closed and open loop), the matching of what the fake sink receives
// with what was sent, and the report. The router process, the fake sink
// (a signed webhook receiver), Meta's signature and the /metrics scraper
// are the end-to-end harness's (internal/e2etest), shared with the e2e
// tests.
//
// A run goes through its stages in order (see execute): start the fake
// sink, start the router, send (the warm-up, then the measured part),
// measure intake, drain, measure delivery, measure and stop the router.
package load
