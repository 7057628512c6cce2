package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// DefaultEventsURL is PagerDuty's Events API host; the client appends
// /v2/enqueue.
const DefaultEventsURL = "https://events.pagerduty.com"

// The Events API v2's limits: it refuses an event over 512 KB with a 400
// (which dead-letters it), and documents a summary of at most 1024
// characters and a dedup_key of at most 255.
const (
	// MaxEventBytes bounds the JSON of one event: 512 KB, read as the
	// smaller 512,000 bytes.
	MaxEventBytes = 512_000
	maxSummary    = 1024
	// maxDedupKey is the longest dedup_key PagerDuty keeps whole.
	maxDedupKey = 255
	// maxPayloadField bounds source, component, group and class, which
	// the API documents no limit for, at the summary's.
	maxPayloadField = 1024
)

// Config is a PagerDuty sink's settings.
type Config struct {
	// RoutingKey is the integration key of an Events API v2 service. It
	// is a secret and never printed.
	RoutingKey string
	// EventsURL overrides DefaultEventsURL (tests, EU region). A trailing
	// /v2/enqueue is accepted and dropped.
	EventsURL string
}

// Sink sends notifications as Events API v2 events.
type Sink struct {
	routingKey string
	eventsURL  string
	client     *pd.Client
	http       *http.Client
	secrets    sinks.Secrets
}

// New validates cfg; a nil httpClient means a client of the sink's own
// (sinks.NewHTTPClient).
func New(cfg Config, httpClient *http.Client) (*Sink, error) {
	if strings.TrimSpace(cfg.RoutingKey) == "" {
		return nil, errors.New("pagerduty sink: routing_key is empty")
	}
	base := cfg.EventsURL
	if base == "" {
		base = DefaultEventsURL
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/v2/enqueue")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty sink: events_url %s must be an absolute http(s) URL", sinks.RedactURL(cfg.EventsURL))
	}
	secrets := sinks.NewSecrets(cfg.RoutingKey)
	c := pd.NewClient("", pd.WithV2EventsAPIEndpoint(base))
	// Record each exchange so errors can carry the Events API's error
	// text and Retry-After, which go-pagerduty drops, with the routing
	// key cut out: the API may echo the request in its answer.
	rec := sinks.RecordingClient(httpClient, secrets)
	c.HTTPClient = rec
	return &Sink{routingKey: cfg.RoutingKey, eventsURL: base, client: c, http: rec, secrets: secrets}, nil
}

// Close gives back the sink's idle connections.
func (s *Sink) Close() error {
	s.http.CloseIdleConnections()
	return nil
}

// ManagerURL links to the WABA in WhatsApp Manager.
func ManagerURL(wabaID string) string {
	return "https://business.facebook.com/wa/manage/home/?waba_id=" + url.QueryEscape(wabaID)
}

// DedupKey is the dedup_key sent for a notification's key: the key
// itself when PagerDuty keeps it whole, or else its first runes and a
// hash of all of it, so a resolve still names the incident its trigger
// opened and two long keys sharing a beginning stay apart.
func DedupKey(key string) string {
	if utf8.RuneCountInString(key) <= maxDedupKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	suffix := "~" + hex.EncodeToString(sum[:8])
	r := []rune(key)
	return string(r[:maxDedupKey-len(suffix)]) + suffix
}

// Event builds the Events API v2 event for n with routing key key: a
// trigger, or for a resolve a resolve, under the dedup_key of n's
// incident episode, so that an escalation triggers again under its key
// with the new severity and summary and the resolve closes it. The
// custom_details are every event field and, for a notification of an
// incident, the incident (transition, count, what changed). The event
// fits MaxEventBytes: custom_details loses the raw value first and then
// the ends of its longest strings, and then says so under "truncated"
// (see sinks.Fit).
func Event(key string, n notification.Notification) *pd.V2Event {
	if n.Action == notification.Resolve {
		return &pd.V2Event{RoutingKey: key, Action: "resolve", DedupKey: DedupKey(n.DedupKey)}
	}
	ev := n.Event
	component := ev.PhoneNumber
	if component == "" {
		component = ev.TemplateName
	}
	p := &pd.V2Payload{
		Summary:   sinks.Truncate(sinks.StripBidi(n.Title), maxSummary),
		Source:    sinks.Truncate("whatsapp-business-account/"+ev.WabaID, maxPayloadField),
		Severity:  n.Severity.String(),
		Component: sinks.Truncate(component, maxPayloadField),
		Group:     sinks.Truncate(ev.Field, maxPayloadField),
		Class:     sinks.Truncate(ev.Event, maxPayloadField),
		Details:   details(n),
	}
	if !ev.Time.IsZero() {
		p.Timestamp = ev.Time.UTC().Format(time.RFC3339)
	}
	e := &pd.V2Event{
		RoutingKey: key,
		Action:     "trigger",
		DedupKey:   DedupKey(n.DedupKey),
		Client:     "wabarouter",
		Links: []any{map[string]string{
			"href": ManagerURL(ev.WabaID),
			"text": "Open in WhatsApp Manager",
		}},
		Payload: p,
	}
	fitDetails(e)
	return e
}

// details are the custom_details of n's trigger: its event's fields and,
// when n belongs to an incident, the incident under "incident".
func details(n notification.Notification) any {
	if n.Incident == nil {
		return n.Event
	}
	b, err := json.Marshal(n.Event)
	if err != nil {
		return n.Event
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return n.Event
	}
	doc["incident"] = n.Incident
	return doc
}

// fitDetails cuts e's custom_details until e fits MaxEventBytes.
func fitDetails(e *pd.V2Event) {
	whole, err := json.Marshal(e)
	if err != nil || len(whole) <= MaxEventBytes {
		return
	}
	details, err := json.Marshal(e.Payload.Details)
	if err != nil {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(details, &doc); err != nil {
		return
	}
	// What the event takes without its details; the details get the rest.
	budget := MaxEventBytes - (len(whole) - len(details))
	e.Payload.Details, _ = sinks.Fit(doc, budget, "PagerDuty's 512 KB event limit", []string{"value"})
}

// Send triggers or resolves the incident for n. The receipt's Ref is the
// dedup_key PagerDuty answered with.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	if n.DedupKey == "" && n.Action == notification.Resolve {
		return sinks.Receipt{}, sinks.Permanent(errors.New("pagerduty sink: resolve without dedup_key"))
	}
	ctx, ex := sinks.Recording(ctx)
	resp, err := s.client.ManageEventWithContext(ctx, Event(s.routingKey, n))
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err))
	}
	detail := strings.TrimSpace(resp.Status + ": " + resp.Message)
	return sinks.Receipt{Ref: resp.DedupKey, Detail: s.secrets.Redact(detail)}, nil
}

// classify turns what the call left behind into a classified error,
// preferring the recorded transport error or HTTP answer to the library's
// error, which drops the Events API's error text and Retry-After.
func (s *Sink) classify(ex *sinks.Exchange, err error) error {
	where := "pagerduty sink: POST " + sinks.RedactURL(s.eventsURL)
	if ex.Err != nil {
		return fmt.Errorf("%s: %w", where, ex.Err)
	}
	if ex.Failed() {
		text := errorText(ex.Body)
		return fmt.Errorf("%s: %w", where, sinks.ClassifyHTTP(ex.Status, ex.Header, []byte(text)))
	}
	var ae pd.APIError
	if errors.As(err, &ae) && ae.StatusCode != 0 {
		return fmt.Errorf("%s: %w", where, sinks.ClassifyHTTP(ae.StatusCode, nil, nil))
	}
	var ee pd.EventsAPIV2Error
	if errors.As(err, &ee) && ee.StatusCode != 0 {
		return fmt.Errorf("%s: %w", where, sinks.ClassifyHTTP(ee.StatusCode, nil, nil))
	}
	// A 2xx that did not decode: PagerDuty may have taken the event, and
	// retrying a trigger with the same dedup_key is harmless.
	return fmt.Errorf("%s: %w", where, err)
}

// errorText renders an Events API error body
// {"status":..,"message":..,"errors":[..]} as one line, or returns the
// body as is when it is not that shape.
func errorText(body []byte) string {
	var e struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Status == "" && e.Message == "") {
		return string(body)
	}
	parts := []string{}
	for _, p := range []string{e.Status, e.Message} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	text := strings.Join(parts, ": ")
	if len(e.Errors) > 0 {
		text += " (" + strings.Join(e.Errors, "; ") + ")"
	}
	return text
}
