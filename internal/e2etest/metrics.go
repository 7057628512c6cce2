package e2etest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is one scrape of /metrics: a value per series, keyed by the
// metric name and its labels sorted by name, with the values unquoted,
// e.g. "wabarouter_notifications_total{outcome=sent,sink=peer}". A
// histogram or summary gives NAME{…}_count and NAME{…}_sum.
type Metrics map[string]float64

// Key is the Metrics key of name with the given label name/value pairs.
func Key(name string, labelPairs ...string) string {
	if len(labelPairs) == 0 {
		return name
	}
	var labels []string
	for i := 0; i+1 < len(labelPairs); i += 2 {
		labels = append(labels, labelPairs[i]+"="+labelPairs[i+1])
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// Get is the value of name with the given label name/value pairs (0 when
// there is no such series; use Has to tell).
func (m Metrics) Get(name string, labelPairs ...string) float64 {
	return m[Key(name, labelPairs...)]
}

// Has reports whether the series exists.
func (m Metrics) Has(name string, labelPairs ...string) bool {
	_, ok := m[Key(name, labelPairs...)]
	return ok
}

// Sum adds up every series of name, whatever its labels.
func (m Metrics) Sum(name string) float64 {
	total := 0.0
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") && !strings.HasSuffix(k, "_count") && !strings.HasSuffix(k, "_sum") {
			total += v
		}
	}
	return total
}

// SumWith adds up the series of name whose labels include every given
// name/value pair, e.g. SumWith("wabarouter_notifications_total",
// "outcome", "sent") over all sinks.
func (m Metrics) SumWith(name string, labelPairs ...string) float64 {
	total := 0.0
	for k, v := range m {
		rest, ok := strings.CutPrefix(k, name+"{")
		if !ok || !strings.HasSuffix(rest, "}") {
			continue
		}
		labels := "," + strings.TrimSuffix(rest, "}") + ","
		all := true
		for i := 0; i+1 < len(labelPairs); i += 2 {
			all = all && strings.Contains(labels, ","+labelPairs[i]+"="+labelPairs[i+1]+",")
		}
		if all {
			total += v
		}
	}
	return total
}

// LabelValues lists the values label takes across the series of name.
func (m Metrics) LabelValues(name, label string) []string {
	var out []string
	for k := range m {
		rest, ok := strings.CutPrefix(k, name+"{")
		if !ok || !strings.HasSuffix(rest, "}") {
			continue
		}
		for pair := range strings.SplitSeq(strings.TrimSuffix(rest, "}"), ",") {
			if v, ok := strings.CutPrefix(pair, label+"="); ok && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ParseMetrics reads Prometheus' text exposition format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	out := Metrics{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var pairs []string
			for _, l := range m.GetLabel() {
				pairs = append(pairs, l.GetName(), l.GetValue())
			}
			key := Key(name, pairs...)
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				out[key] = m.GetUntyped().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
			case m.GetSummary() != nil:
				out[key+"_count"] = float64(m.GetSummary().GetSampleCount())
				out[key+"_sum"] = m.GetSummary().GetSampleSum()
			}
		}
	}
	return out, nil
}

// ScrapeText fetches base+"/metrics" as it is served.
func ScrapeText(ctx context.Context, client *http.Client, base string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scraping %s/metrics: %w", base, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("scraping %s/metrics: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("scraping %s/metrics: HTTP %s", base, resp.Status)
	}
	return b, nil
}

// Scrape fetches and parses base+"/metrics".
func Scrape(ctx context.Context, client *http.Client, base string) (Metrics, error) {
	b, err := ScrapeText(ctx, client, base)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(bytes.NewReader(b))
}

// Metrics scrapes the process's /metrics, failing t if it cannot.
func (p *Process) Metrics(t TB) Metrics {
	t.Helper()
	m, err := Scrape(context.Background(), http.DefaultClient, p.URL(""))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return m
}

// Drained reports whether m shows a router with nothing left to do: no
// accepted webhook waits to be routed (parked ones aside), and for every
// sink no notification is pending (pending counts those being sent: 0
// means every notification is recorded as sent or dead) and none is in
// flight. When it is not, the reason says what is left. A scrape without
// these series is never drained, so a router that does not serve them
// cannot pass for an idle one.
func (m Metrics) Drained() (bool, string) {
	if !m.Has("wabarouter_webhooks_unrouted") {
		return false, "no wabarouter_webhooks_unrouted series in /metrics"
	}
	var left []string
	if n := m.Get("wabarouter_webhooks_unrouted"); n != 0 {
		left = append(left, fmt.Sprintf("%v webhooks unrouted", n))
	}
	sinks := m.LabelValues("wabarouter_outbox_pending", "sink")
	if len(sinks) == 0 {
		return false, "no wabarouter_outbox_pending series in /metrics"
	}
	for _, sink := range sinks {
		if !m.Has("wabarouter_deliveries_in_flight", "sink", sink) {
			return false, fmt.Sprintf("no wabarouter_deliveries_in_flight series for sink %s", sink)
		}
		if n := m.Get("wabarouter_outbox_pending", "sink", sink); n != 0 {
			left = append(left, fmt.Sprintf("%v pending for %s", n, sink))
		}
		if n := m.Get("wabarouter_deliveries_in_flight", "sink", sink); n != 0 {
			left = append(left, fmt.Sprintf("%v in flight to %s", n, sink))
		}
	}
	if len(left) > 0 {
		return false, strings.Join(left, ", ")
	}
	return true, ""
}

// AwaitDrained scrapes the process until two scrapes in a row are Drained
// and returns the last one. Two, because one scrape reads the outbox
// before it counts unrouted webhooks: a webhook routed between the two
// reads would leave a fresh notification out of the first scrape, but not
// out of the second. It gives up when ctx ends.
func (p *Process) AwaitDrained(ctx context.Context) (Metrics, error) {
	return awaitDrained(ctx, http.DefaultClient, p.URL(""), p.done, func() error { return p.waitErr })
}

// awaitDrained is AwaitDrained for the router at base; exited is closed
// when the router is gone, and exitErr then says how it ended.
func awaitDrained(ctx context.Context, client *http.Client, base string, exited <-chan struct{}, exitErr func() error) (Metrics, error) {
	streak := 0
	var reason string
	for {
		m, err := Scrape(ctx, client, base)
		switch {
		case err != nil:
			// A scrape cut short by the deadline says nothing of the
			// router; what the last one showed is the better reason.
			streak = 0
			if ctx.Err() == nil || reason == "" {
				reason = err.Error()
			}
		default:
			var drained bool
			if drained, reason = m.Drained(); drained {
				streak++
			} else {
				streak = 0
			}
			if streak == 2 {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("router never drained (%s): %w", reason, ctx.Err())
		case <-exited:
			return nil, fmt.Errorf("router exited (%s) before it drained (%s)", exitText(exitErr()), reason)
		case <-time.After(pollEvery):
		}
	}
}

// WaitDrained is AwaitDrained for a test, bounded by WaitTimeout. Wait for
// it before asserting that nothing else arrived at a peer.
func (p *Process) WaitDrained(t TB) Metrics {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	m, err := p.AwaitDrained(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return m
}
