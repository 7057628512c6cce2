// Package router owns the middle of the pipeline: it turns an accepted
// webhook into queued notifications. For each event it drops redeliveries
// (a change fingerprint seen within the window), runs the rules, applies
// each rule's dedup, and enqueues one outbox row per notification and sink,
// all in one store transaction, so a crash leaves either all of a webhook's
// notifications queued or none. It knows nothing of HTTP or of how a sink
// sends.
package router
