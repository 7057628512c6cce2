// Package delivery owns getting each queued notification to its sink: per
// sink workers lease rows from the durable outbox, send them, and record the
// outcome (sent with its receipt, retried with backoff and jitter honouring
// Retry-After, or dead-lettered once retrying cannot help or has gone on too
// long). Each sink has its own workers, so one sink's outage never delays
// another. It knows nothing of rules or of HTTP intake.
package delivery
