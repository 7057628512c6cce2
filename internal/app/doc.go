// Package app owns the HTTP server's lifecycle: binding, serving the webhook
// and health routes (and, with api.token, the read-only API of api.go), and
// shutting down gracefully when its context ends.
//
// The server is bound with net.Listen before serving so that port 0 works
// and the real address can be logged and read via Addr; tests and the
// end-to-end harness discover the port from the "listening" log line.
// Shutdown lets in-flight deliveries finish, because a delivery cut off
// after Meta sent it would only be retried, never lost, but finishing it is
// cheaper than the retry.
//
// It also wires the pipeline: it builds each configured sink through its
// type in internal/sinks/registry, tells routing which transitions each
// sink takes from the type's capabilities, and closes the sinks once
// delivery has stopped.
package app
