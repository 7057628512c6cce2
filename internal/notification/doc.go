// Package notification owns what flows from the rules to the sinks: a
// Notification (what happened, how loud, to be deduplicated under which key)
// and its Severity. It imports only the event type, so sinks can render a
// notification without knowing anything about rules.
package notification
