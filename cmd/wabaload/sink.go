package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sinkSignatureHeader is what the router's webhook sink signs with.
const sinkSignatureHeader = "X-Wabarouter-Signature"

// sign returns "sha256=<hex HMAC-SHA256 of body>", the form of both Meta's
// X-Hub-Signature-256 and the webhook sink's X-Wabarouter-Signature.
func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

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
// every event the sink receives names the webhook it came from.
type tracker struct {
	base, stride int64
	t0           time.Time
	secret       []byte

	mu          sync.Mutex
	recs        map[int64]*record
	seen        map[string]struct{} // notification ids delivered
	outstanding int64               // notifications of accepted webhooks not yet delivered
	e2e         []time.Duration     // sent -> received, warm-up excluded
	recvAt      []time.Duration     // receive times since t0, every matched delivery
	last        time.Time           // last matched delivery

	badSig, malformed, unknown, duplicates, extra atomic.Int64
}

func newTracker(base, stride int64, secret []byte) *tracker {
	return &tracker{base: base, stride: stride, secret: secret,
		recs: map[int64]*record{}, seen: map[string]struct{}{}}
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

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP is the fake sink: check the signature, find the ids, answer
// 200 at once.
func (t *tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if _, err := io.Copy(buf, io.LimitReader(r.Body, 16<<20)); err != nil {
		t.malformed.Add(1)
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	body := buf.Bytes()
	got := r.Header.Get(sinkSignatureHeader)
	if !hmac.Equal([]byte(got), []byte(sign(t.secret, body))) {
		t.badSig.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n struct {
		ID    string `json:"id"`
		Event struct {
			WabaID string `json:"waba_id"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &n); err != nil || n.ID == "" {
		t.malformed.Add(1)
		http.Error(w, "no notification id", http.StatusBadRequest)
		return
	}
	t.delivered(n.ID, n.Event.WabaID, now)
	w.WriteHeader(http.StatusOK)
}
