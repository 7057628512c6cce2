// Package email implements the "email" sink type with go-mail: a
// multipart plain-text and HTML message per notification, its subject
// tagged with the severity ("[CRITICAL] ..."), Importance and X-Priority
// set by severity, and In-Reply-To/References derived from the dedup key
// so repeats of one incident thread together while each Message-ID stays
// unique. SMTP 5xx replies (including 535 authentication failures) are
// permanent, 4xx replies and connection errors retryable. The password is
// never printed. Sinks know nothing of rules.
package email
