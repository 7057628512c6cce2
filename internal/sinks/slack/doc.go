// Package slack implements the "slack" sink type with slack-go: either an
// incoming webhook URL or a bot token plus channel (chat.postMessage).
// It renders a notification as Block Kit inside an attachment coloured by
// severity, and classifies Slack's answers: rate limits and 5xx are
// retryable (honouring Retry-After), configuration mistakes such as
// channel_not_found or invalid_auth are permanent with a message saying
// what to fix. Tokens and webhook URLs never appear in errors. Sinks know
// nothing of rules.
package slack
