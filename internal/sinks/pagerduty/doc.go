// Package pagerduty implements the "pagerduty" sink type with PagerDuty's
// Events API v2 (github.com/PagerDuty/go-pagerduty): a trigger carries the
// notification's severity, a summary naming the account, the WABA as
// source, custom_details a person can act on (the body, Meta's own
// description, the account, the rule, the incident and the whole event),
// and links to WhatsApp Manager and the runbook, under the incident
// episode's dedup_key, so an escalation triggers again under the same key
// and the resolve closes it. Good news outside any incident
// (notification.Change) is a change event (/v2/change/enqueue) with the
// same summary, details and links. 429 and 5xx answers are retryable,
// other 4xx permanent with PagerDuty's own error text. The routing key is
// never printed. Sinks know nothing of rules.
package pagerduty
