// Package audittest builds a store to ask questions of: real payloads
// routed by the real router into a SQLite file, and delivery outcomes
// recorded through the store as the delivery workers record them. The
// tests of audit, of the incidents and why commands and of the API use it.
package audittest
