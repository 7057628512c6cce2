package load

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// step is one load of a sweep: a closed loop of posters, or an open loop
// at a rate.
type step struct {
	posters int
	rate    float64
}

func (s step) String() string {
	if s.rate > 0 {
		return strconv.FormatFloat(s.rate, 'f', -1, 64) + "/s"
	}
	return strconv.Itoa(s.posters)
}

// parseSweep reads --sweep: loads separated by commas, each a number of
// posters for a closed loop ("64") or webhooks per second for an open
// loop ("2000/s").
func parseSweep(list string) ([]step, error) {
	var steps []step
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if rate, ok := strings.CutSuffix(item, "/s"); ok {
			v, err := strconv.ParseFloat(rate, 64)
			if err != nil || v <= 0 || v > 1e6 {
				return nil, fmt.Errorf("--sweep: %q is not a rate of 1 to 1000000 webhooks a second (such as 2000/s)", item)
			}
			steps = append(steps, step{rate: v})
			continue
		}
		n, err := strconv.Atoi(item)
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("--sweep: %q is neither a number of posters (1 to 4096) nor a rate (such as 2000/s)", item)
		}
		steps = append(steps, step{posters: n})
	}
	return steps, nil
}

// sweepReport is a sweep's reports, in its order.
type sweepReport struct {
	Steps []*report `json:"steps"`
}

// sweep runs each step as a run of its own, against a fresh router (and
// store) and its own ceiling measurement, so no step inherits another's
// backlog; open-loop steps serve their rate with --concurrency workers.
func sweep(ctx context.Context, o *options, stderr io.Writer) (*sweepReport, error) {
	out := &sweepReport{}
	for i, s := range o.sweep {
		so := *o
		so.rate = s.rate
		if s.rate == 0 {
			so.concurrency = s.posters
		}
		fmt.Fprintf(stderr, "wabaload: sweep step %d of %d: %s\n", i+1, len(o.sweep), describe(s))
		rep, err := execute(ctx, &so, stderr)
		if err != nil {
			return nil, fmt.Errorf("sweep step %s: %w", s, err)
		}
		out.Steps = append(out.Steps, rep)
	}
	return out, nil
}

func describe(s step) string {
	if s.rate > 0 {
		return fmt.Sprintf("open loop at %s webhooks/s", strconv.FormatFloat(s.rate, 'f', -1, 64))
	}
	return fmt.Sprintf("closed loop, %d posters", s.posters)
}

// writeText prints every step's report, then one line per step.
func (sw *sweepReport) writeText(w io.Writer, metrics bool) {
	for _, r := range sw.Steps {
		fmt.Fprintf(w, "== %s\n", loadOf(r))
		r.writeText(w, metrics)
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-10s %11s %10s %6s %9s %12s %9s %9s %12s %9s\n",
		"load", "accepted/s", "ceiling/s", "share", "200 p99", "delivered/s", "e2e p50", "e2e p99", "backlog@end", "peak RSS")
	for _, r := range sw.Steps {
		ceiling, share := "-", "-"
		if c := r.Ceiling; c != nil {
			ceiling, share = fmt.Sprintf("%.0f", c.AcceptedPerS), fmt.Sprintf("%.0f%%", 100*c.RouterShare)
		}
		e2e50, e2e99, delivered, backlog := "-", "-", "-", "-"
		if r.E2EMeasured {
			delivered, backlog = fmt.Sprintf("%.0f", r.DeliveredPerSDuringLoad), strconv.FormatInt(r.BacklogAtSendEnd, 10)
			if r.E2E.N > 0 {
				e2e50, e2e99 = fmt.Sprintf("%.1f ms", r.E2E.P50), fmt.Sprintf("%.1f ms", r.E2E.P99)
			}
			if !r.Drained {
				e2e99 += "+"
			}
		}
		rss := "-"
		if r.Router != nil {
			rss = fmt.Sprintf("%.1f MiB", float64(r.Router.PeakKB)/1024)
		}
		fmt.Fprintf(w, "%-10s %11.0f %10s %6s %6.1f ms %12s %9s %9s %12s %9s\n",
			shortLoad(r), r.AcceptedPerS, ceiling, share, r.Latency.P99, delivered, e2e50, e2e99, backlog, rss)
	}
}

func loadOf(r *report) string {
	if r.Mode == "open" {
		return fmt.Sprintf("open loop at %.0f webhooks/s", r.Rate)
	}
	return fmt.Sprintf("closed loop, %d posters", r.Concurrency)
}

func shortLoad(r *report) string {
	if r.Mode == "open" {
		return fmt.Sprintf("%.0f/s", r.Rate)
	}
	return fmt.Sprintf("%d posters", r.Concurrency)
}
