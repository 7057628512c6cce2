// Package console is the router's web console, served at /console/ by
// serve when the config has a console section: incidents with their
// timelines, recent events with their decision traces, the loaded rules
// with what they matched over the last day, a playground that runs a
// rule written in the browser through the router's own stages (the dry
// run route uses), silences, and the sinks' backlogs and dead letters.
//
// The pages are html/template, server-rendered, with a little vanilla
// JavaScript for the playground and nothing loaded from elsewhere: the
// assets are embedded. Users and their roles (viewer, editor) come from
// the config; passwords are bcrypt hashes; a session is an HMAC-signed
// cookie; every POST carries a CSRF token derived from the session. Every
// write (a silence added or expired, a test notification, a dead letter
// replayed) is recorded in the decision log, field "console", with the
// user who made it, in the same transaction as the write where the store
// allows it.
//
// The console writes no rule file: rules stay in files under review. The
// playground hands its rule over as YAML to copy and a test file to
// download for `wabarouter test`.
package console
