package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wabarouter/wabarouter/internal/store"
)

// statsTimeout bounds the store query behind one scrape.
const statsTimeout = 5 * time.Second

var (
	outboxPendingDesc = prometheus.NewDesc("wabarouter_outbox_pending",
		"Notifications waiting to be delivered (including those in retry), per sink.", []string{"sink"}, nil)
	outboxOldestDesc = prometheus.NewDesc("wabarouter_outbox_oldest_pending_age_seconds",
		"Age of the oldest notification waiting for a sink; 0 when none waits.", []string{"sink"}, nil)
	unroutedDesc = prometheus.NewDesc("wabarouter_webhooks_unrouted",
		"Accepted webhooks not routed yet, parked ones not included.", nil, nil)
	unroutedAgeDesc = prometheus.NewDesc("wabarouter_webhooks_oldest_unrouted_age_seconds",
		"Age of the oldest accepted webhook not routed yet; 0 when none waits.", nil, nil)
	parkedDesc = prometheus.NewDesc("wabarouter_webhooks_parked",
		"Webhooks parked because their routing kept failing; wabarouter deadletter list shows them.", nil, nil)
)

// outboxCollector reads the outbox depth from the store at scrape time, so
// the figure is the store's truth rather than a counter that could drift.
type outboxCollector struct {
	store store.Store
	sinks []string
	log   *slog.Logger
	// leader says whether this replica reports the gauges: they are the
	// shared store's, so only the leader does, and a sum over replicas
	// stays the store's figure.
	leader func() bool
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxOldestDesc
	ch <- unroutedDesc
	ch <- unroutedAgeDesc
	ch <- parkedDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	if c.leader != nil && !c.leader() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	now := time.Now()
	stats, err := c.store.Stats(ctx, now)
	if err != nil {
		// An invalid metric fails the scrape loudly rather than showing
		// an empty outbox that is not.
		c.log.WarnContext(ctx, "reading outbox stats for /metrics failed", "err", err)
		ch <- prometheus.NewInvalidMetric(outboxPendingDesc, err)
		return
	}
	for _, sink := range c.sinks {
		st := stats[sink]
		age := 0.0
		if st.Pending > 0 && !st.OldestPending.IsZero() {
			age = max(now.Sub(st.OldestPending).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(st.Pending), sink)
		ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age, sink)
	}
	ws, err := c.store.WebhookStats(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "reading webhook stats for /metrics failed", "err", err)
		ch <- prometheus.NewInvalidMetric(unroutedDesc, err)
		return
	}
	age := 0.0
	if ws.Unrouted > 0 && !ws.OldestUnrouted.IsZero() {
		age = max(now.Sub(ws.OldestUnrouted).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(unroutedDesc, prometheus.GaugeValue, float64(ws.Unrouted))
	ch <- prometheus.MustNewConstMetric(unroutedAgeDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, float64(ws.Parked))
}
