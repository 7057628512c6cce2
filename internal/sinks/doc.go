// Package sinks defines what every notification destination implements:
// the Sink interface, the Receipt a delivery returns, and the error
// classification (permanent or retryable, with Retry-After) that the
// delivery queue uses to decide whether to try again.
//
// Sinks know nothing of rules: they receive a finished
// notification.Notification and only render and deliver it. Subpackages
// implement the concrete sinks (slack, pagerduty, email, webhook, log).
// Errors never carry secrets: URLs go through RedactURL and tokens,
// routing keys and passwords are never formatted into messages.
package sinks
