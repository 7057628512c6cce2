// Package email implements the "email" sink type with go-mail: a
// multipart plain-text and HTML message per notification, its subject
// tagged with the severity ("[CRITICAL] ..."), Importance and X-Priority
// set by the incident's severity. The first mail about an incident
// returns its Message-ID and subject as the receipt's Thread; every
// follow-up and the resolve reply to it (In-Reply-To, References) under
// "Re: " and that subject, opening with what changed, so mail clients
// file the incident as one conversation while each Message-ID stays
// unique. SMTP 5xx replies (including 535 authentication failures) are
// permanent, 4xx replies and connection errors retryable. The password is
// never printed. Sinks know nothing of rules.
package email
