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
	"github.com/wabarouter/wabarouter/internal/words"
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
// with the new severity and summary and the resolve closes it. A
// trigger's summary names the account (see Summary), its custom_details
// say what happened, to which account, by which rule and with which
// incident (see Details), and its links and client_url lead to WhatsApp
// Manager and the runbook. The event fits MaxEventBytes (see fitDetails).
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
		Summary:   Summary(n),
		Source:    source(n),
		Severity:  n.Severity.String(),
		Timestamp: timestamp(n),
		Component: sinks.Truncate(component, maxPayloadField),
		Group:     sinks.Truncate(ev.Field, maxPayloadField),
		Class:     sinks.Truncate(ev.Event, maxPayloadField),
	}
	var links []any
	for _, l := range sinks.Links(n) {
		links = append(links, map[string]string{"href": l.URL, "text": l.Label})
	}
	e := &pd.V2Event{
		RoutingKey: key,
		Action:     "trigger",
		DedupKey:   DedupKey(n.DedupKey),
		Client:     "wabarouter",
		ClientURL:  sinks.ManagerURL(n),
		Links:      links,
		Payload:    p,
	}
	p.Details = fitDetails(Details(n), func(d map[string]any) int {
		p.Details = d
		return size(e)
	})
	return e
}

// ChangeEvent builds the change event for n, good news outside any
// incident (n.Action is notification.Change), with routing key key: the
// summary, source, timestamp and custom_details a trigger would carry
// and the same links, in the shape PagerDuty documents for
// /v2/change/enqueue. A change has no severity and no dedup_key. It fits
// MaxEventBytes as a trigger does.
func ChangeEvent(key string, n notification.Notification) *pd.ChangeEvent {
	e := &pd.ChangeEvent{
		RoutingKey: key,
		Payload: pd.ChangeEventPayload{
			Summary:   Summary(n),
			Source:    source(n),
			Timestamp: timestamp(n),
		},
	}
	for _, l := range sinks.Links(n) {
		e.Links = append(e.Links, pd.ChangeEventLink{Href: l.URL, Text: l.Label})
	}
	e.Payload.CustomDetails = fitDetails(Details(n), func(d map[string]any) int {
		e.Payload.CustomDetails = d
		return size(e)
	})
	return e
}

// Summary is n's title as PagerDuty's summary, free of bidi controls and
// at most 1024 characters. A title that does not name the account is
// prefixed with the directory's name for it, or else with its WABA id,
// so that a page names whose number or template is in trouble even in
// a list of incidents that shows nothing else.
func Summary(n notification.Notification) string {
	title := strings.TrimSpace(sinks.StripBidi(n.Title))
	if title == "" {
		return sinks.Truncate(sinks.Who(n), maxSummary)
	}
	if who := accountPrefix(n, title); who != "" {
		title = who + ": " + title
	}
	return sinks.Truncate(title, maxSummary)
}

// accountPrefix is what Summary puts before title: "" when title names
// the account already (by its directory name, or without one by its
// WABA id or phone number) or nothing names it.
func accountPrefix(n notification.Notification, title string) string {
	ev := n.Event
	if name := strings.TrimSpace(sinks.StripBidi(ev.Account.Name)); name != "" {
		if strings.Contains(title, name) {
			return ""
		}
		return name
	}
	if ev.WabaID == "" || strings.Contains(title, ev.WabaID) {
		return ""
	}
	if ev.PhoneNumber != "" && (strings.Contains(title, ev.PhoneNumber) || strings.Contains(title, words.Phone(ev.PhoneNumber))) {
		return ""
	}
	return "WABA " + ev.WabaID
}

// source is the payload's source: the WABA, which is what PagerDuty
// groups an account's alerts and changes under.
func source(n notification.Notification) string {
	return sinks.Truncate("whatsapp-business-account/"+n.Event.WabaID, maxPayloadField)
}

// timestamp is when Meta says the event happened, or else when the
// router made the notification, in ISO 8601; "" if neither is known.
func timestamp(n notification.Notification) string {
	t := n.Event.Time
	if t.IsZero() {
		t = n.CreatedAt
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// The custom_details keys that hold the texts people read; fitDetails
// keeps them whole where it can.
const (
	keyBody        = "body"
	keyDescription = "description"
)

// Details are the custom_details of n's trigger or change event, what an
// on-call person reads in the alert: the readable body and Meta's own
// description in full, the account (its name as sinks.Who gives it, the
// raw WABA id, the owning team), the rule, what the transition changed
// and the incident (id, transition, state, count, opened_at, ...), the
// event's name and the whole event, raw value included, under "event";
// for a group, its items, one line each, under "items". Keys with
// nothing to say are left out.
func Details(n notification.Notification) map[string]any {
	ev := n.Event
	d := map[string]any{
		"notification_id": n.ID,
		"account":         sinks.Who(n),
		"waba_id":         ev.WabaID,
		"rule":            n.Rule,
		"event":           ev,
	}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			d[k] = v
		}
	}
	set(keyBody, sinks.StripBidi(n.Body))
	set(keyDescription, sinks.Description(n))
	set("team", ev.Account.Team)
	set("rule_description", n.RuleDescription)
	set("runbook", n.Runbook)
	name := ev.Field
	if ev.Event != "" {
		name += "/" + ev.Event
	}
	set("event_type", name)
	if n.Suppressed > 0 {
		s := fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			s += " since " + words.UTC(n.SuppressedSince)
		}
		d["suppressed"] = s
	}
	if n.Incident != nil {
		set("change", sinks.Change(n))
		d["incident"] = n.Incident
	}
	if n.Group != nil {
		// The items, one line each, for the person reading the alert;
		// the group's keys and counts for whoever reads it by machine.
		items := sinks.GroupLines(n)
		if more := sinks.GroupMore(n, 0); more != "" {
			items = append(items, more)
		}
		d["items"] = items
		d["group"] = map[string]any{"key": n.Group.Key, "by": n.Group.By, "values": n.Group.Values,
			"total": n.Group.Total, "open": n.Group.Open}
	}
	if n.Test {
		d["test"] = true
	}
	return d
}

// dropPaths are what fitDetails replaces by a note first: the event's
// raw value, and the event's copies of what "description" carries.
var dropPaths = [][]string{{"event", "value"}, {"event", "alert_description"}, {"event", "other_info"}}

// minRest is the least room fitDetails leaves the rest of the details
// when it keeps the readable texts whole: below it the account, rule and
// incident would be cut to nothing, so the texts are cut with the rest.
const minRest = 16 << 10

// fitDetails returns details, or a cut copy of them, such that eventSize
// (the size of the event's JSON with the given details) is at most
// MaxEventBytes. It keeps the description and the body whole where they
// leave the rest minRest bytes, then the description alone, and cuts the
// rest with sinks.Fit (raw value first); the cut copy says so under
// sinks.TruncatedKey. eventSize may set the event's details as it
// measures; fitDetails' result is what the event must carry.
func fitDetails(details map[string]any, eventSize func(map[string]any) int) map[string]any {
	whole := eventSize(details)
	if whole <= MaxEventBytes {
		return details
	}
	budget := MaxEventBytes - (whole - size(details))
	b, err := json.Marshal(details)
	if err != nil {
		return map[string]any{sinks.TruncatedKey: "custom_details could not be encoded: " + err.Error()}
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return map[string]any{sinks.TruncatedKey: "custom_details could not be decoded: " + err.Error()}
	}
	const why = "PagerDuty's 512 KB event limit"
	for _, keep := range [][]string{{keyDescription, keyBody}, {keyDescription}} {
		kept, rest := map[string]any{}, map[string]any{}
		for k, v := range doc {
			rest[k] = v
		}
		for _, k := range keep {
			if v, ok := rest[k]; ok {
				kept[k] = v
				delete(rest, k)
			}
		}
		room := budget - size(kept)
		if len(kept) == 0 || room < minRest {
			continue
		}
		cut, _ := sinks.Fit(rest, room, why, dropPaths...)
		for k, v := range kept {
			cut[k] = v
		}
		if eventSize(cut) <= MaxEventBytes {
			return cut
		}
	}
	cut, _ := sinks.Fit(doc, budget, why, dropPaths...)
	return cut
}

// size is the length of v's JSON; unencodable counts as too large.
func size(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return MaxEventBytes + 1
	}
	return len(b)
}

// Send triggers or resolves the incident for n, or records good news
// outside any incident as a change event. The receipt's Ref is the
// dedup_key PagerDuty answered with; a change event has none.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	if n.Action == notification.Change {
		return s.change(ctx, n)
	}
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

// change posts n's change event to /v2/change/enqueue, where PagerDuty
// answers 202; its errors are classified as a trigger's are (429 and 5xx
// retryable, other 4xx permanent). A change has no dedup_key, so one
// sent again after a lost answer shows twice among the service's recent
// changes: harmless, unlike a change never recorded.
func (s *Sink) change(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	ctx, ex := sinks.Recording(ctx)
	resp, err := s.client.CreateChangeEventWithContext(ctx, *ChangeEvent(s.routingKey, n))
	if err != nil && !ex.Failed() && ex.Status != 0 {
		// A 2xx whose answer did not decode: PagerDuty took the change,
		// and sending it again would record it twice.
		return sinks.Receipt{Detail: fmt.Sprintf("HTTP %d, answer not understood", ex.Status)}, nil
	}
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err))
	}
	detail := strings.TrimSpace(resp.Status + ": " + resp.Message)
	return sinks.Receipt{Detail: s.secrets.Redact(strings.TrimSuffix(detail, ":"))}, nil
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
