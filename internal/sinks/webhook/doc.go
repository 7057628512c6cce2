// Package webhook implements the "webhook" sink type: a JSON POST of the
// whole notification (event and incident included, see
// sinks.NotificationJSON) to a URL for every transition of every
// incident, with optional extra headers and, when a secret is set, an
// X-Wabarouter-Signature header "sha256=<hex HMAC-SHA256 of the body>".
// Answers are classified with sinks.ClassifyHTTP. Sinks know nothing of
// rules.
package webhook
