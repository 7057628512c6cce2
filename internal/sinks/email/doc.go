// Package email implements the "email" sink type with go-mail: a
// multipart plain-text and HTML message per notification, made to be
// acted on from a phone at night. The HTML part is one column of at most
// 600 pixels that wraps long tokens, with the severity as a word in a
// badge as well as a colour, the account as sinks.Who names it, the
// incident's state and count, Meta's own description in full, WhatsApp
// Manager and runbook buttons and the facts (raw ids included); the text
// part says the same on its own. A change (good news outside any
// incident) reads as an information. HTMLBody and TextBody are exactly
// what the sink sends, for the docs' pictures.
//
// The subject is tagged with the severity ("[CRITICAL] ..."), at most 200
// characters, folded by the sink into lines within 78 that decode to it
// exactly; Importance and X-Priority follow the incident's severity and
// every mail is Auto-Submitted (RFC 3834). The first mail about an
// incident returns its Message-ID and subject as the receipt's Thread;
// every follow-up and the resolve reply to it (In-Reply-To, References)
// under "Re: " and that subject, opening with what changed, so mail
// clients file the incident as one conversation while each Message-ID
// stays unique. SMTP 5xx replies (including 535 authentication failures)
// are permanent, 4xx replies and connection errors retryable. The
// password is never printed. Sinks know nothing of rules.
package email
