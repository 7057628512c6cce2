// Package accounts owns the accounts directory: the names, teams and tags
// people know each WhatsApp Business Account by, and the labels of its
// phone numbers. The router looks every event's account up in it before
// the rules run, so rules can route by team and every message can say
// "Acme Retail EU" where Meta sent "102290129340398".
//
// It reads the directory's CSV form itself; the YAML form, inline in the
// config or in a file of its own, is read by the config package, which
// owns YAML positions and messages. It knows nothing of rules, routing or
// sinks.
package accounts
