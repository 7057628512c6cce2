package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// DefaultEventsURL is PagerDuty's Events API host; the client appends
// /v2/enqueue.
const DefaultEventsURL = "https://events.pagerduty.com"

const maxSummary = 1024

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
}

// New validates cfg; a nil httpClient means http.DefaultClient.
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
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	c := pd.NewClient("", pd.WithV2EventsAPIEndpoint(base))
	c.HTTPClient = recorder{inner: httpClient}
	return &Sink{routingKey: cfg.RoutingKey, eventsURL: base, client: c}, nil
}

// ManagerURL links to the WABA in WhatsApp Manager.
func ManagerURL(wabaID string) string {
	return "https://business.facebook.com/wa/manage/home/?waba_id=" + url.QueryEscape(wabaID)
}

// Event builds the Events API v2 event for n with routing key key.
func Event(key string, n notification.Notification) *pd.V2Event {
	if n.Action == notification.Resolve {
		return &pd.V2Event{RoutingKey: key, Action: "resolve", DedupKey: n.DedupKey}
	}
	ev := n.Event
	component := ev.PhoneNumber
	if component == "" {
		component = ev.TemplateName
	}
	class := ev.Event
	p := &pd.V2Payload{
		Summary:   sinks.Truncate(n.Title, maxSummary),
		Source:    "whatsapp-business-account/" + ev.WabaID,
		Severity:  n.Severity.String(),
		Component: component,
		Group:     ev.Field,
		Class:     class,
		Details:   ev,
	}
	if !ev.Time.IsZero() {
		p.Timestamp = ev.Time.UTC().Format(time.RFC3339)
	}
	return &pd.V2Event{
		RoutingKey: key,
		Action:     "trigger",
		DedupKey:   n.DedupKey,
		Client:     "wabarouter",
		Links: []any{map[string]string{
			"href": ManagerURL(ev.WabaID),
			"text": "Open in WhatsApp Manager",
		}},
		Payload: p,
	}
}

// Send triggers or resolves the incident for n. The receipt's Ref is the
// dedup_key PagerDuty answered with.
func (s *Sink) Send(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	if n.DedupKey == "" && n.Action == notification.Resolve {
		return sinks.Receipt{}, sinks.Permanent(errors.New("pagerduty sink: resolve without dedup_key"))
	}
	rec := &recording{}
	resp, err := s.client.ManageEventWithContext(context.WithValue(ctx, recordingKey{}, rec), Event(s.routingKey, n))
	if err != nil {
		return sinks.Receipt{}, s.classify(rec, err)
	}
	detail := strings.TrimSpace(resp.Status + ": " + resp.Message)
	return sinks.Receipt{Ref: resp.DedupKey, Detail: detail}, nil
}

// classify turns what the call left behind into a classified error,
// preferring the recorded transport error or HTTP answer to the library's
// error, which drops the Events API's error text and Retry-After.
func (s *Sink) classify(rec *recording, err error) error {
	where := "pagerduty sink: POST " + sinks.RedactURL(s.eventsURL)
	if rec.err != nil {
		return fmt.Errorf("%s: %w", where, redactErr(rec.err))
	}
	if rec.status != 0 && (rec.status < 200 || rec.status > 299) {
		text := errorText(rec.body)
		cerr := sinks.ClassifyHTTP(rec.status, rec.header, []byte(text))
		return fmt.Errorf("%s: %w", where, cerr)
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

type recordingKey struct{}

// recording is what one call's HTTP exchange looked like.
type recording struct {
	err    error
	status int
	header http.Header
	body   []byte
}

// recorder wraps the HTTP client to keep each call's status, headers and
// body in the recording carried by the request's context.
type recorder struct{ inner *http.Client }

func (r recorder) Do(req *http.Request) (*http.Response, error) {
	rec, _ := req.Context().Value(recordingKey{}).(*recording)
	resp, err := r.inner.Do(req)
	if rec == nil {
		return resp, err
	}
	if err != nil {
		rec.err = err
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if rerr != nil {
		rec.err = rerr
		return nil, rerr
	}
	rec.status, rec.header, rec.body = resp.StatusCode, resp.Header, b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// redactErr strips the URL that net/http puts in *url.Error.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
