// Package logsink implements the "log" sink type: one JSON line per
// notification (the webhook's JSON, incident included), for every
// transition of every incident, written to the process's standard output
// or error or appended to a file. It knows nothing of rules; it writes
// whatever notification it is handed.
package logsink
