// Package silences owns making, listing, ending and previewing silences,
// the same way for the silence command and the HTTP API: what a silence
// needs (an author, a comment, a condition that compiles as a rule's
// when, an end after its start), the ids it gets, and what ending one
// early must also do (set its timer, so the router releases at once what
// it hid).
//
// It writes silences to the store and reads the decision log; hiding
// notifications is the router's stage, not this package's.
package silences
