// Package webhook implements the "webhook" sink type: a JSON POST of the
// whole notification (event included) to a URL, with optional extra
// headers and, when a secret is set, an X-Wabarouter-Signature header
// "sha256=<hex HMAC-SHA256 of the body>". Answers are classified with
// sinks.ClassifyHTTP. Sinks know nothing of rules.
package webhook
