// Package pagerduty implements the "pagerduty" sink type with PagerDuty's
// Events API v2 (github.com/PagerDuty/go-pagerduty): a trigger carries the
// notification's severity, summary, WABA source and the whole event (and
// its incident) as custom_details under the incident episode's dedup_key,
// so an escalation triggers again under the same key and the resolve
// closes it. 429 and 5xx answers are retryable, other 4xx permanent with
// PagerDuty's own error text. The routing key is never printed. Sinks
// know nothing of rules.
package pagerduty
