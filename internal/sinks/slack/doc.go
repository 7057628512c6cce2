// Package slack implements the "slack" sink type with slack-go: either an
// incoming webhook URL or a bot token plus channel (the Web API).
//
// A bot keeps one root message per incident: the first send posts it
// (chat.postMessage) and returns it as the receipt's Thread, and every
// later transition updates it in place (chat.update: state, severity,
// count, last seen, green once resolved) and replies in its thread with
// what changed. An incoming webhook can neither update nor thread, so
// each later transition is a message of its own naming the incident it
// follows.
//
// It renders a notification as top-level Block Kit blocks (see Root): the
// title once in the header, the severity in words, the incident's state
// and count, whom it is about as the accounts directory names it, Meta's
// own description in full as far as Slack's limits allow, times in each
// reader's zone and buttons to WhatsApp Manager and the runbook; an
// attachment coloured by severity holds the event's details with their
// raw ids. Every string Meta relays is escaped (see Text). It
// classifies Slack's answers: rate limits and 5xx are retryable
// (honouring Retry-After), configuration mistakes such as
// channel_not_found or invalid_auth are permanent with a message saying
// what to fix. Tokens and webhook URLs never appear in errors. Sinks know
// nothing of rules.
package slack
