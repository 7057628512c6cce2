// Package sinks defines what every notification destination implements:
// the Sink interface (and SinkCloser, a built sink that gives back what
// it holds), the Delivery it is handed and the Receipt it returns, and
// the error classification (permanent or retryable, with Retry-After)
// that the delivery queue uses to decide whether to try again.
//
// It also defines Type, what a sink type's package declares about itself
// (its settings, its constructor, its capabilities), so that the config,
// the wiring and routing need no knowledge of any one type; package
// registry lists the types.
//
// Sinks know nothing of rules: they receive a finished
// notification.Notification and only render and deliver it. Subpackages
// implement the concrete sinks (slack, pagerduty, email, webhook, log).
//
// It also owns the steps every sink shares, so each is written once:
//   - Secrets: a sink's errors and receipts never carry its secrets, also
//     when a service echoes the request back; RecordingClient keeps each
//     HTTP answer (status, Retry-After, body) with the secrets already cut
//     out, and RedactURL and StripURL keep tokens in URLs out of messages.
//   - WithoutCustomerData and WithCustomerDataWithheld: what customers
//     wrote and who they are stays out of what sinks send, unless a sink
//     opts in.
//   - StripBidi: no title reaches a person with bidi overrides in it.
//   - Fit and NotificationJSON: a JSON document is cut to what its
//     destination accepts, saying so.
//   - Change, Body and IncidentFacts: what a transition did to its
//     incident and where the incident stands, said once for every sink
//     that writes for people.
//   - NewHTTPClient: each sink's own HTTP client.
package sinks
