// Package webhook owns the HTTP endpoint Meta calls: the GET subscription
// handshake and authenticated POST delivery.
//
// It deliberately holds no payload logic. A POST is authenticated against
// the raw bytes (the signature covers exactly what Meta sent, so nothing may
// be decoded first), then handed to a caller-supplied Validate function and
// Acceptor. Status codes are chosen for Meta's retry behaviour: 200 only
// once the Acceptor has taken the body, 503 when it could not so Meta
// retries, and 4xx for requests a retry would not fix.
package webhook
