// Package logsink implements the "log" sink type: one JSON line per
// notification, written to stdout or appended to a file. It knows nothing
// of rules; it writes whatever notification it is handed.
package logsink
