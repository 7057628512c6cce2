// Package audit owns the answers to "what is open?" and "why was this
// sent, or not?": the incidents and the decision log, read from the store
// and told as the incidents and why commands print them and as the
// read-only /api/v1/ API serves them. The JSON shapes of this package are
// that API's and the commands' --format json lines, one type each, so the
// two cannot drift apart.
//
// It only reads: a Reader is the store's read methods, which a store
// opened read-only beside a running serve provides.
package audit
