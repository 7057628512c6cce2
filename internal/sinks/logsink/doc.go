// Package logsink implements the "log" sink type: one JSON line per
// notification, written to the process's standard output or error or
// appended to a file. It knows nothing
// of rules; it writes whatever notification it is handed.
package logsink
