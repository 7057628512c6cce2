// Package e2etest is the end-to-end harness shared by the tests under
// test/e2e and the load tool (internal/load, cmd/wabaload). It owns
// everything that drives a real wabarouter binary from outside:
//
//   - building the binary once per process (Binary, BuildBinary);
//   - an installation (Router: a folder, a config file, an environment)
//     and its serve processes (Process), started, stopped with SIGTERM,
//     killed with SIGKILL and restarted on the same config and store,
//     with their stderr kept line by line and their listening address
//     read from the "msg=listening addr=" log line;
//   - running the other subcommands (check, route, deadletter, …) on the
//     same config and environment (Router.Run, Router.Command);
//   - Meta's request signature (Sign, MetaSignatureHeader);
//   - a /metrics scraper (Scrape, Metrics) and the drain condition the
//     tests wait for before they assert that nothing else arrived
//     (Metrics.Drained, Process.WaitDrained);
//   - recording protocol peers whose expectations are declared and then
//     checked, after the model of Alertmanager's test Collector
//     (Collector with Want, Await and Check): a signed webhook-sink
//     receiver, a PagerDuty Events API v2 fake, a Slack fake (incoming
//     webhook, and the Web API's chat.postMessage with thread replies
//     and chat.update, whose updates it records apart) and an SMTP
//     server.
//
// It is an ordinary package rather than a _test file so that the load tool
// can use it; it does not import package testing, and takes a TB (which
// *testing.T satisfies) where a failure should end a test.
//
// The peers implement the protocols themselves (the HMAC check, the Events
// API's validation) instead of calling the router's own code, so a bug
// shared by both sides cannot pass unnoticed.
package e2etest
