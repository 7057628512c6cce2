package load

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

type latencySummary struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	slices.Sort(d)
	return latencySummary{N: len(d), P50: ms(percentile(d, 0.50)), P99: ms(percentile(d, 0.99)), Max: ms(d[len(d)-1])}
}

// percentile is the nearest-rank percentile of sorted d.
func percentile(d []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

type routerReport struct {
	PID                int            `json:"pid"`
	Addr               string         `json:"addr"`
	PeakKB             int64          `json:"peak_kb"`
	VMHWMKB            int64          `json:"vm_hwm_kb"`
	VMRSSMaxSampledKB  int64          `json:"vm_rss_max_sampled_kb"`
	VMRSSEndKB         int64          `json:"vm_rss_end_kb"`
	RSSSamples         int            `json:"rss_samples"`
	CPUSeconds         float64        `json:"cpu_s"`
	CPUCoresDuringLoad float64        `json:"cpu_cores_during_load"`
	Exit               string         `json:"exit"`
	LogLines           map[string]int `json:"log_lines"`
	Warnings           []string       `json:"warnings,omitempty"`
	Pipeline           []pipelineView `json:"pipeline,omitempty"`
	Metrics            []string       `json:"metrics,omitempty"`
}

type report struct {
	Mode        string   `json:"mode"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate,omitempty"`
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	CountBound  int64    `json:"count_bound,omitempty"`
	Payloads    int      `json:"payloads"`
	Skipped     []string `json:"skipped_payloads,omitempty"`
	ElapsedS    float64  `json:"elapsed_s"`
	MeasuredS   float64  `json:"measured_s"`

	Sent             int64            `json:"sent"`
	Accepted         int64            `json:"accepted"`
	AcceptedMeasured int64            `json:"accepted_measured"`
	AcceptedPerS     float64          `json:"accepted_per_s"`
	Latency          latencySummary   `json:"accept_latency"`
	Non200           map[string]int64 `json:"non_200"`
	Late             int64            `json:"late_sends,omitempty"`
	MaxScheduleLagMS float64          `json:"max_schedule_lag_ms,omitempty"`
	ToolCPUCores     float64          `json:"tool_cpu_cores_during_load"`

	E2EMeasured             bool           `json:"e2e_measured"`
	NotificationsPerWebhook float64        `json:"notifications_per_webhook"`
	NotificationsExpected   int64          `json:"notifications_expected"`
	QueuedPerS              float64        `json:"notifications_accepted_per_s"`
	Delivered               int64          `json:"delivered"`
	DeliveredPerSDuringLoad float64        `json:"delivered_per_s_during_load"`
	DeliveredPerSOverall    float64        `json:"delivered_per_s_overall"`
	E2E                     latencySummary `json:"e2e_latency"`
	Drained                 bool           `json:"drained"`
	BacklogAtSendEnd        int64          `json:"backlog_at_send_end"`
	Backlog                 int64          `json:"backlog"`
	DrainS                  float64        `json:"drain_s"`
	BadSignatures           int64          `json:"bad_signatures"`
	Malformed               int64          `json:"malformed"`
	Unknown                 int64          `json:"unknown"`
	Duplicates              int64          `json:"duplicates"`
	Extra                   int64          `json:"extra"`

	// Router is the router's figures; with several replicas, their sum,
	// each replica's in Replicas.
	Router   *routerReport   `json:"router,omitempty"`
	Replicas []*routerReport `json:"replicas,omitempty"`
	// Store is the routers' store: sqlite or postgres.
	Store string `json:"store,omitempty"`
	// Ceiling is the machine's durable limit under the same load.
	Ceiling *ceilingReport `json:"ceiling,omitempty"`
}

func (r *report) writeText(w io.Writer, metrics bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	load := fmt.Sprintf("closed loop, %d posters", r.Concurrency)
	if r.Mode == "open" {
		load = fmt.Sprintf("open loop, %.0f webhooks/s on %d workers (latencies from the scheduled time)", r.Rate, r.Concurrency)
	}
	p("load        %s; warm-up %gs excluded, measured %.2fs; %d payload templates", load, r.WarmupS, r.MeasuredS, r.Payloads)
	for _, s := range r.Skipped {
		p("            skipped %s", s)
	}
	p("intake      sent %d, accepted %d (%d measured) = %.0f/s", r.Sent, r.Accepted, r.AcceptedMeasured, r.AcceptedPerS)
	p("            200 latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.Latency.P50, r.Latency.P99, r.Latency.Max)
	if len(r.Non200) > 0 {
		keys := make([]string, 0, len(r.Non200))
		for k := range r.Non200 {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, r.Non200[k]))
		}
		p("            non-200: %s", strings.Join(parts, ", "))
	} else {
		p("            non-200: none")
	}
	if r.Mode == "open" {
		p("            sends >10ms behind schedule %d, max lag %.2f ms", r.Late, r.MaxScheduleLagMS)
	}
	if c := r.Ceiling; c != nil {
		p("ceiling     HMAC + group-commit fsync'd append, same load: %.0f/s, p50 %.2f ms, p99 %.2f ms; the router took %.0f%% of it",
			c.AcceptedPerS, c.Latency.P50, c.Latency.P99, 100*c.RouterShare)
	}
	if r.E2EMeasured {
		p("delivery    %.3f notifications/webhook; %d expected, %d delivered", r.NotificationsPerWebhook, r.NotificationsExpected, r.Delivered)
		p("            queued %.0f/s, delivered %.0f/s during load, %.0f/s first send → last delivery", r.QueuedPerS, r.DeliveredPerSDuringLoad, r.DeliveredPerSOverall)
		switch {
		case r.E2E.N == 0:
			p("            end-to-end: no notification of a measured (post-warm-up) webhook arrived")
		case r.Drained:
			p("            end-to-end p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d notifications)", r.E2E.P50, r.E2E.P99, r.E2E.Max, r.E2E.N)
		default:
			p("            end-to-end p50 %.2f ms, p99 %.2f ms, max %.2f ms over the %d that arrived; the rest never did, so the true figures are worse",
				r.E2E.P50, r.E2E.P99, r.E2E.Max, r.E2E.N)
		}
		drained := "no"
		if r.Drained {
			drained = fmt.Sprintf("yes, %.2fs after sending stopped", r.DrainS)
		}
		p("            backlog when sending stopped %d; drained: %s; backlog now %d", r.BacklogAtSendEnd, drained, r.Backlog)
		p("            bad signatures %d, malformed %d, unknown ids %d, duplicates %d, extra %d", r.BadSignatures, r.Malformed, r.Unknown, r.Duplicates, r.Extra)
	} else {
		p("delivery    not measured (no fake sink; see --sink-listen)")
	}
	p("cpu         tool %.2f cores during load", r.ToolCPUCores)
	if r.Store != "" {
		p("store       %s", r.Store)
	}
	for i, rr := range r.Replicas {
		p("replica %-3d pid %d: %.2f cores during load, %.1f CPU-s in all, peak memory %.1f MiB",
			i+1, rr.PID, rr.CPUCoresDuringLoad, rr.CPUSeconds, float64(rr.PeakKB)/1024)
		for _, v := range rr.Pipeline {
			p("            /metrics at %s: %.0f webhooks accepted, %.0f notifications created (routed), %.0f sent, %.0f in the outbox",
				strings.ReplaceAll(v.At, "_", " "), v.WebhooksAccepted, v.NotificationsCreated, v.NotificationsSent, v.OutboxPending)
		}
	}
	if rr := r.Router; rr != nil && len(r.Replicas) > 0 {
		p("routers     %d replicas together: %.2f cores during load, %.1f CPU-s in all", len(r.Replicas), rr.CPUCoresDuringLoad, rr.CPUSeconds)
		p("            peak memory %.1f MiB summed (VmHWM %.1f MiB, at end %.1f MiB)",
			float64(rr.PeakKB)/1024, float64(rr.VMHWMKB)/1024, float64(rr.VMRSSEndKB)/1024)
		p("            stop: %s; log lines %v", rr.Exit, rr.LogLines)
		for _, l := range rr.Warnings {
			p("            %s", l)
		}
	} else if rr != nil {
		p("router      pid %d: %.2f cores during load, %.1f CPU-s in all", rr.PID, rr.CPUCoresDuringLoad, rr.CPUSeconds)
		p("            peak memory %.1f MiB (VmHWM %.1f MiB, VmRSS max of %d samples %.1f MiB, at end %.1f MiB)",
			float64(rr.PeakKB)/1024, float64(rr.VMHWMKB)/1024, rr.RSSSamples, float64(rr.VMRSSMaxSampledKB)/1024, float64(rr.VMRSSEndKB)/1024)
		for _, v := range rr.Pipeline {
			p("            /metrics at %s: %.0f webhooks accepted, %.0f notifications created (routed), %.0f sent, %.0f in the outbox",
				strings.ReplaceAll(v.At, "_", " "), v.WebhooksAccepted, v.NotificationsCreated, v.NotificationsSent, v.OutboxPending)
		}
		p("            stop: %s; log lines %v", rr.Exit, rr.LogLines)
		for _, l := range rr.Warnings {
			p("            %s", l)
		}
		if metrics {
			for _, m := range rr.Metrics {
				p("            %s", m)
			}
		}
	}
	p("elapsed     %.2fs", r.ElapsedS)
}
