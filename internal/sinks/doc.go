// Package sinks defines what every notification destination implements:
// the Sink interface, the Receipt a delivery returns, and the error
// classification (permanent or retryable, with Retry-After) that the
// delivery queue uses to decide whether to try again.
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
package sinks
