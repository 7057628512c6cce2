package load

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// record is one webhook the tool sent.
type record struct {
	sent      time.Time // when it was sent (scheduled, in open loop)
	expected  int32     // notifications it should yield
	delivered int32     // distinct notifications the fake sink got for it
	accepted  bool      // answered 200
	warm      bool      // sent during warm-up: not in rates or percentiles
}

// tracker matches what the fake sink receives with what was sent. Webhook
// seq writes ids base+seq*stride+entry into its entries, so the waba_id of
// every event the sink receives names the webhook it came from. The fake
// sink itself is the harness's webhook receiver (e2etest), which checks
// each notification's signature and hands it to delivered.
type tracker struct {
	base, stride int64
	t0           time.Time

	mu          sync.Mutex
	recs        map[int64]*record
	seen        map[string]struct{} // notification ids delivered
	outstanding int64               // notifications of accepted webhooks not yet delivered
	e2e         []time.Duration     // sent -> received, warm-up excluded
	recvAt      []time.Duration     // receive times since t0, every matched delivery
	last        time.Time           // last matched delivery

	unknown, duplicates, extra atomic.Int64
}

func newTracker(base, stride int64) *tracker {
	return &tracker{base: base, stride: stride, recs: map[int64]*record{}, seen: map[string]struct{}{}}
}

func (t *tracker) register(seq int64, expected int, sent time.Time, warm bool) {
	t.mu.Lock()
	t.recs[seq] = &record{sent: sent, expected: int32(expected), warm: warm}
	t.mu.Unlock()
}

// answered records the router's answer to webhook seq.
func (t *tracker) answered(seq int64, ok bool) {
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recs[seq]
	r.accepted = true
	t.outstanding += int64(r.expected - min(r.delivered, r.expected))
}

// delivered records one notification received at now.
func (t *tracker) delivered(id, wabaID string, now time.Time) {
	n, err := strconv.ParseInt(wabaID, 10, 64)
	if err != nil || n < t.base {
		t.unknown.Add(1)
		return
	}
	seq := (n - t.base) / t.stride
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.recs[seq]
	if !ok {
		t.unknown.Add(1)
		return
	}
	if _, dup := t.seen[id]; dup {
		t.duplicates.Add(1)
		return
	}
	t.seen[id] = struct{}{}
	r.delivered++
	if r.delivered > r.expected {
		t.extra.Add(1)
	} else if r.accepted {
		t.outstanding--
	}
	if !r.warm {
		t.e2e = append(t.e2e, now.Sub(r.sent))
	}
	t.recvAt = append(t.recvAt, now.Sub(t.t0))
	t.last = now
}

func (t *tracker) backlog() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.outstanding
}
