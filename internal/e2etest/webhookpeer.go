package e2etest

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxPeerBody bounds what a peer reads of one request.
const maxPeerBody = 16 << 20

// SinkNotification is the part of the webhook sink's JSON body that tests
// and the load tool look at; WebhookDelivery.Body has all of it.
type SinkNotification struct {
	ID       string `json:"id"`
	Sink     string `json:"sink"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Action   string `json:"action"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	DedupKey string `json:"dedup_key"`
	Test     bool   `json:"test"`
	Event    struct {
		WabaID  string `json:"waba_id"`
		Field   string `json:"field"`
		Event   string `json:"event"`
		Account struct {
			Name string `json:"name"`
			Team string `json:"team"`
		} `json:"account"`
	} `json:"event"`
	// Message is what the sink writes for people to read.
	Message struct {
		Who        string `json:"who"`
		Severity   string `json:"severity"`
		ManagerURL string `json:"manager_url"`
	} `json:"message"`
	// Incident is the incident the notification reports a transition
	// of; nil for one outside any (notify-test).
	Incident *SinkIncident `json:"incident"`
}

// SinkIncident is the part of a notification's incident that tests look
// at: which incident and episode, the transition, its state and its place
// in the episode's order.
type SinkIncident struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Episode    int    `json:"episode"`
	Transition string `json:"transition"`
	State      string `json:"state"`
	Seq        int    `json:"seq"`
	Count      int    `json:"count"`
}

// WebhookDelivery is one notification a WebhookReceiver accepted.
type WebhookDelivery struct {
	// At is when the request arrived.
	At time.Time
	// Header is the request's header.
	Header http.Header
	// Body is the request's body. Given to an Observe function, it is
	// valid only during the call.
	Body []byte
	// Notification is Body decoded.
	Notification SinkNotification
}

// Contains reports whether the body contains every one of parts.
func (d WebhookDelivery) Contains(parts ...string) bool {
	return containsAll(string(d.Body), parts)
}

// String describes the delivery in reports.
func (d WebhookDelivery) String() string {
	n := d.Notification
	return fmt.Sprintf("id=%s rule=%s severity=%s action=%s waba=%s dedup_key=%q title=%q",
		n.ID, n.Rule, n.Severity, n.Action, n.Event.WabaID, n.DedupKey, n.Title)
}

// WebhookReceiverOptions change how a WebhookReceiver answers and what it
// keeps.
type WebhookReceiverOptions struct {
	// Respond decides the answer to each well-signed notification; nil
	// answers 200 at once. Only notifications answered 2xx are recorded.
	Respond Responder[WebhookDelivery]
	// Observe, when set, is given every notification answered 2xx instead
	// of the Collector, which then stays empty: for the load tool, which
	// counts hundreds of thousands and keeps none.
	Observe func(WebhookDelivery)
}

// WebhookReceiver stands in for the service behind a webhook sink: it
// checks the X-Wabarouter-Signature of every request against the sink's
// secret (none when the secret is empty), decodes the notification and
// records it. A request with a bad signature or a body that is not a
// notification is answered 401 or 400 and recorded as refused, which fails
// Check.
type WebhookReceiver struct {
	*Collector[WebhookDelivery]
	secret []byte
	opts   WebhookReceiverOptions
	url    string

	attempts, badSignatures, malformed atomic.Int64
}

// NewWebhookReceiver returns a receiver to serve on a listener of the
// caller's; ServeWebhookReceiver serves one for a test.
func NewWebhookReceiver(secret string, opts WebhookReceiverOptions) *WebhookReceiver {
	return &WebhookReceiver{
		Collector: NewCollector("webhook receiver", WebhookDelivery.String),
		secret:    []byte(secret), opts: opts,
	}
}

// ServeWebhookReceiver serves a new receiver on a loopback port until t
// ends; its URL goes in the webhook sink's url.
func ServeWebhookReceiver(t TB, secret string, opts WebhookReceiverOptions) *WebhookReceiver {
	r := NewWebhookReceiver(secret, opts)
	r.url = serve(t, r).URL + "/notify"
	return r
}

// URL is where ServeWebhookReceiver serves the receiver.
func (r *WebhookReceiver) URL() string { return r.url }

// Attempts counts the well-signed notifications received, whatever they
// were answered, retries included.
func (r *WebhookReceiver) Attempts() int64 { return r.attempts.Load() }

// BadSignatures counts the requests refused for their signature.
func (r *WebhookReceiver) BadSignatures() int64 { return r.badSignatures.Load() }

// Malformed counts the requests refused because their body was not a
// notification.
func (r *WebhookReceiver) Malformed() int64 { return r.malformed.Load() }

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP receives one notification.
func (r *WebhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	d := WebhookDelivery{At: time.Now(), Header: req.Header}
	var body []byte
	if r.opts.Observe != nil {
		// Observed bodies are not kept, so their buffers are reused: the
		// load tool receives thousands a second.
		buf := bodyPool.Get().(*bytes.Buffer)
		defer bodyPool.Put(buf)
		buf.Reset()
		if _, err := io.Copy(buf, io.LimitReader(req.Body, maxPeerBody)); err != nil {
			r.refuse(w, &r.malformed, http.StatusBadRequest, "reading the body: "+err.Error())
			return
		}
		body = buf.Bytes()
	} else {
		var err error
		if body, err = io.ReadAll(io.LimitReader(req.Body, maxPeerBody)); err != nil {
			r.refuse(w, &r.malformed, http.StatusBadRequest, "reading the body: "+err.Error())
			return
		}
	}
	d.Body = body
	if len(r.secret) > 0 {
		got := req.Header.Get(SinkSignatureHeader)
		if !hmac.Equal([]byte(got), []byte(Sign(r.secret, body))) {
			r.refuse(w, &r.badSignatures, http.StatusUnauthorized, fmt.Sprintf("bad %s %q on %.80s", SinkSignatureHeader, got, body))
			return
		}
	}
	if err := json.Unmarshal(body, &d.Notification); err != nil || d.Notification.ID == "" {
		r.refuse(w, &r.malformed, http.StatusBadRequest, fmt.Sprintf("not a notification with an id (%v): %.200s", err, body))
		return
	}
	r.attempts.Add(1)
	a := Answer{}
	if r.opts.Respond != nil {
		a = r.opts.Respond(req.Context(), d)
	}
	if a.success() {
		if r.opts.Observe != nil {
			r.opts.Observe(d)
		} else {
			r.Add(d)
		}
	}
	a.write(w, http.StatusOK, "text/plain; charset=utf-8", "ok")
}

func (r *WebhookReceiver) refuse(w http.ResponseWriter, counter *atomic.Int64, status int, reason string) {
	counter.Add(1)
	r.Refuse(strings.ToValidUTF8(reason, "?"))
	http.Error(w, reason, status)
}
