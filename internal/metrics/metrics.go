package metrics

import (
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
)

// Rejection reasons of the webhook endpoint, the reason label of
// wabarouter_webhooks_rejected_total.
const (
	ReasonMissingSignature = "missing_signature"
	ReasonBadSignature     = "bad_signature"
	ReasonTooLarge         = "too_large"
	ReasonUnreadable       = "unreadable"
	ReasonNotJSON          = "not_json"
	ReasonNotWebhook       = "not_webhook"
	ReasonWrongObject      = "wrong_object"
	ReasonTooManyChanges   = "too_many_changes"
	ReasonBadMethod        = "bad_method"
	ReasonStoreUnavailable = "store_unavailable"
)

// Notification outcomes, the outcome label of
// wabarouter_notifications_total. Counters start at zero with each run, so
// resumed counts what this run took over from the previous one; then
// created + resumed = sent + skipped + suppressed + silenced + dead_lettered + what
// is still pending (wabarouter_outbox_pending). Retried counts attempts,
// not notifications.
const (
	Created      = "created"
	Resumed      = "resumed"
	Suppressed   = "suppressed"
	Sent         = "sent"
	Skipped      = "skipped"
	Silenced     = "silenced"
	Retried      = "retried"
	DeadLettered = "dead_lettered"
	// Fallback counts, on a fallback sink, the notifications another
	// sink handed to it; each is a row of its own, so for that sink
	// created + resumed + fallback = sent + skipped + suppressed +
	// dead_lettered + pending.
	Fallback = "fallback"
)

var reasons = []string{ReasonMissingSignature, ReasonBadSignature, ReasonTooLarge, ReasonUnreadable,
	ReasonNotJSON, ReasonNotWebhook, ReasonWrongObject, ReasonTooManyChanges, ReasonBadMethod, ReasonStoreUnavailable}

var outcomes = []string{Created, Resumed, Suppressed, Sent, Skipped, Silenced, Retried, DeadLettered, Fallback}

// Metrics are the counters and histograms the pipeline's stages update.
type Metrics struct {
	WebhooksReceived prometheus.Counter
	WebhooksAccepted prometheus.Counter
	WebhooksRejected *prometheus.CounterVec // reason
	Events           *prometheus.CounterVec // field, event
	Redeliveries     prometheus.Counter
	RuleMatches      *prometheus.CounterVec // rule
	RuleErrors       *prometheus.CounterVec // rule
	Notifications    *prometheus.CounterVec // sink, outcome
	DeliveryLatency  *prometheus.HistogramVec
	InFlight         *prometheus.GaugeVec // sink
	WebhooksParked   prometheus.Counter
	RoutingFailures  prometheus.Counter
	// IncidentTransitions counts incidents opened, updated, escalated,
	// reminded and resolved.
	IncidentTransitions *prometheus.CounterVec // transition
	// RulesLoaded is 1 for the checksum of the rules in force, so that
	// replicas whose rules differ show it side by side.
	RulesLoaded *prometheus.GaugeVec // checksum
	// RulesDiffer counts the other running replicas whose rules'
	// checksum is not this one's.
	RulesDiffer prometheus.Gauge
	// Leader is 1 while this replica holds the maintenance lease and runs
	// what must happen once (housekeeping, timers, the outbox gauges).
	Leader prometheus.Gauge
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		WebhooksReceived: prometheus.NewCounter(prometheus.CounterOpts{Name: "wabarouter_webhooks_received_total",
			Help: "Webhook POSTs received; each is then accepted or rejected."}),
		WebhooksAccepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "wabarouter_webhooks_accepted_total",
			Help: "Webhooks verified, stored durably and answered 200."}),
		WebhooksRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_webhooks_rejected_total",
			Help: "Webhooks refused, by reason; store_unavailable is answered 503 so Meta retries."}, []string{"reason"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_events_total",
			Help: "Events parsed from accepted webhooks and routed, by field and event (redeliveries excluded)."}, []string{"field", "event"}),
		Redeliveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "wabarouter_redeliveries_total",
			Help: "Changes ignored because the same change was already routed within the redelivery window."}),
		RuleMatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_rule_matches_total",
			Help: "Events a rule matched."}, []string{"rule"}),
		RuleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_rule_errors_total",
			Help: "Events on which a rule failed at run time (the other rules still ran)."}, []string{"rule"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_notifications_total",
			Help: "Notifications per sink by outcome: created, resumed (queued by a previous run), suppressed (dedup), sent, skipped (below min_severity), retried (attempts), dead_lettered, fallback (handed over by a sink that could not deliver it)."},
			[]string{"sink", "outcome"}),
		DeliveryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wabarouter_delivery_latency_seconds",
			Help: "Time from a webhook's acceptance to the sink's success, per sink.",
			// From a loopback sink's milliseconds to retries after an outage.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600}},
			[]string{"sink"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wabarouter_deliveries_in_flight",
			Help: "Notifications leased by this process and being sent, per sink."}, []string{"sink"}),
		WebhooksParked: prometheus.NewCounter(prometheus.CounterOpts{Name: "wabarouter_webhooks_parked_total",
			Help: "Webhooks parked because their routing kept failing; see wabarouter_webhooks_parked and deadletter list."}),
		RoutingFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "wabarouter_routing_failures_total",
			Help: "Failed attempts to route a webhook; it is retried later and parked after a few."}),
		IncidentTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wabarouter_incident_transitions_total",
			Help: "Incident transitions: opened, updated, escalated, reminded, resolved."}, []string{"transition"}),
		RulesLoaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wabarouter_rules_loaded_info",
			Help: "1 for the SHA-256 of the rules in force (files and inline rules, not their paths): replicas with the same rules show the same checksum."}, []string{"checksum", "rules"}),
		RulesDiffer: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wabarouter_replicas_rules_differ",
			Help: "Other replicas on this store, seen in the last 15 s, whose rules' checksum differs from this one's: 0 when every replica runs the same rules."}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wabarouter_leader",
			Help: "1 while this replica holds the maintenance lease: it alone runs housekeeping and incident timers and reports the outbox gauges; 0 otherwise."}),
	}
	for _, t := range []string{"opened", "updated", "escalated", "reminded", "resolved"} {
		m.IncidentTransitions.WithLabelValues(t)
	}
	for _, r := range reasons {
		m.WebhooksRejected.WithLabelValues(r)
	}
	reg.MustRegister(m.WebhooksReceived, m.WebhooksAccepted, m.WebhooksRejected, m.Events, m.Redeliveries,
		m.RuleMatches, m.RuleErrors, m.Notifications, m.DeliveryLatency, m.InFlight, m.WebhooksParked, m.RoutingFailures, m.IncidentTransitions, m.RulesLoaded, m.RulesDiffer, m.Leader)
	return m
}

// SetRules shows checksum as the rules in force, n of them, and no other.
func (m *Metrics) SetRules(checksum string, n int) {
	m.RulesLoaded.Reset()
	m.RulesLoaded.WithLabelValues(checksum, fmt.Sprint(n)).Set(1)
}

// Discard returns metrics registered nowhere, for tests and tools that do
// not serve /metrics.
func Discard() *Metrics { return New(prometheus.NewRegistry()) }

// InitSink makes every outcome of sink visible at zero, so a dashboard or
// alert sees the series before the first notification.
func (m *Metrics) InitSink(sink string) {
	for _, o := range outcomes {
		m.Notifications.WithLabelValues(sink, o)
	}
	m.DeliveryLatency.WithLabelValues(sink)
	m.InFlight.WithLabelValues(sink)
}

// InitRule makes a rule's match and error counters visible at zero.
func (m *Metrics) InitRule(rule string) {
	m.RuleMatches.WithLabelValues(rule)
	m.RuleErrors.WithLabelValues(rule)
}
