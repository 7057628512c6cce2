// Package store owns wabarouter's durable state: the webhook intake log
// (raw verified bodies, appended before the HTTP 200 so Meta's retries are
// never the only copy), the change fingerprints that recognise Meta
// redeliveries, the dedup keys that hold back repeated alerts, and the
// per-sink outbox that delivery workers lease, ack, retry and dead-letter.
//
// The Store interface is the contract; implementations live in
// subpackages (sqlite) and must pass storetest.Run unchanged.
package store
