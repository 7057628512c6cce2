package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Fingerprint identifies a change across redeliveries: its WABA, field,
// event and time and its canonical value, plus what tells apart the events
// one messages change yields (message id and status). encoding/json sorts
// map keys, which makes the value canonical. The hash is the one the router
// has always stored, so fingerprints kept in a store stay valid.
//
// It fails only for an event the parser would not build (a time outside
// the years json can write); the error says so rather than letting such
// events share one fingerprint.
func Fingerprint(ev Event) (string, error) {
	key, err := json.Marshal(struct {
		WabaID, Field, Event, MessageID, Status string
		Time                                    time.Time
		Value                                   map[string]any
	}{ev.WabaID, ev.Field, ev.Event, ev.MessageID, ev.Status, ev.Time, ev.Value})
	if err != nil {
		return "", fmt.Errorf("fingerprinting %s/%s event of WABA %q: %w", ev.Field, ev.Event, ev.WabaID, err)
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:]), nil
}
