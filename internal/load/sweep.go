package load

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// step is one load of a sweep: a closed loop of posters, or an open loop
// at a rate.
type step struct {
	posters int
	rate    float64
}

// stepOf is the load a report was measured under.
func stepOf(r *report) step {
	if r.Mode == "open" {
		return step{rate: r.Rate}
	}
	return step{posters: r.Concurrency}
}

// String is the step as --sweep writes it: "64", "2000/s".
func (s step) String() string {
	if s.rate > 0 {
		return s.rateText() + "/s"
	}
	return strconv.Itoa(s.posters)
}

// long names the step in progress lines and report headings.
func (s step) long() string {
	if s.rate > 0 {
		return "open loop at " + s.rateText() + " webhooks/s"
	}
	return fmt.Sprintf("closed loop, %d posters", s.posters)
}

// short names the step in the table.
func (s step) short() string {
	if s.rate > 0 {
		return s.String()
	}
	return fmt.Sprintf("%d posters", s.posters)
}

func (s step) rateText() string { return strconv.FormatFloat(s.rate, 'f', -1, 64) }

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

// sweepReport is a sweep's reports, in its order: each load's Repeat runs
// one after the other.
type sweepReport struct {
	Repeat int       `json:"repeat"`
	Steps  []*report `json:"steps"`
}

// sweep runs each step as a run of its own, against a fresh router (and
// store) and its own ceiling measurement, so no step inherits another's
// backlog; open-loop steps serve their rate with --concurrency workers.
func sweep(ctx context.Context, o *options, stderr io.Writer) (*sweepReport, error) {
	out := &sweepReport{Repeat: max(o.repeat, 1)}
	for i, s := range o.sweep {
		so := *o
		so.rate = s.rate
		if s.rate == 0 {
			so.concurrency = s.posters
		}
		for run := range out.Repeat {
			fmt.Fprintf(stderr, "wabaload: sweep step %d of %d, run %d of %d: %s\n", i+1, len(o.sweep), run+1, out.Repeat, s.long())
			rep, err := execute(ctx, &so, stderr)
			if err != nil {
				return nil, fmt.Errorf("sweep step %s: %w", s, err)
			}
			out.Steps = append(out.Steps, rep)
		}
	}
	return out, nil
}

// writeText prints every run's report, then one line per load: with
// several runs of each, the median of each figure over them, since two
// runs on a shared machine differ by a fifth.
func (sw *sweepReport) writeText(w io.Writer, metrics bool) {
	repeat := max(sw.Repeat, 1)
	for i, r := range sw.Steps {
		if repeat > 1 {
			fmt.Fprintf(w, "== %s, run %d of %d\n", stepOf(r).long(), i%repeat+1, repeat)
		} else {
			fmt.Fprintf(w, "== %s\n", stepOf(r).long())
		}
		r.writeText(w, metrics)
		fmt.Fprintln(w)
	}
	if repeat > 1 {
		fmt.Fprintf(w, "medians of %d runs of each load\n", repeat)
	}
	fmt.Fprintf(w, "%-10s %11s %10s %6s %9s %12s %9s %9s %12s %9s\n",
		"load", "accepted/s", "ceiling/s", "share", "200 p99", "delivered/s", "e2e p50", "e2e p99", "backlog@end", "peak RSS")
	for i := 0; i < len(sw.Steps); i += repeat {
		runs := sw.Steps[i:min(i+repeat, len(sw.Steps))]
		fmt.Fprintln(w, tableRow(runs))
	}
}

// tableRow is one load's line: each figure the median over its runs.
func tableRow(runs []*report) string {
	of := func(f func(*report) (float64, bool)) (float64, bool) {
		var xs []float64
		for _, r := range runs {
			if v, ok := f(r); ok {
				xs = append(xs, v)
			}
		}
		if len(xs) == 0 {
			return 0, false
		}
		slices.Sort(xs)
		if len(xs)%2 == 1 {
			return xs[len(xs)/2], true
		}
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
	}
	cell := func(f func(*report) (float64, bool), format string) string {
		if v, ok := of(f); ok {
			return fmt.Sprintf(format, v)
		}
		return "-"
	}
	ceiling := func(r *report) (float64, bool) {
		if r.Ceiling == nil {
			return 0, false
		}
		return r.Ceiling.AcceptedPerS, true
	}
	share := func(r *report) (float64, bool) {
		if r.Ceiling == nil {
			return 0, false
		}
		return 100 * r.Ceiling.RouterShare, true
	}
	delivery := func(f func(*report) float64) func(*report) (float64, bool) {
		return func(r *report) (float64, bool) { return f(r), r.E2EMeasured }
	}
	e2e := func(f func(*report) float64) func(*report) (float64, bool) {
		return func(r *report) (float64, bool) { return f(r), r.E2EMeasured && r.E2E.N > 0 }
	}
	rss := func(r *report) (float64, bool) {
		if r.Router == nil {
			return 0, false
		}
		return float64(r.Router.PeakKB) / 1024, true
	}
	e2e99 := cell(e2e(func(r *report) float64 { return r.E2E.P99 }), "%.1f ms")
	for _, r := range runs {
		if r.E2EMeasured && !r.Drained {
			e2e99 += "+" // some never arrived: the true figure is worse
			break
		}
	}
	return fmt.Sprintf("%-10s %11s %10s %6s %9s %12s %9s %9s %12s %9s",
		stepOf(runs[0]).short(),
		cell(func(r *report) (float64, bool) { return r.AcceptedPerS, true }, "%.0f"),
		cell(ceiling, "%.0f"), cell(share, "%.0f%%"),
		cell(func(r *report) (float64, bool) { return r.Latency.P99, true }, "%.1f ms"),
		cell(delivery(func(r *report) float64 { return r.DeliveredPerSDuringLoad }), "%.0f"),
		cell(e2e(func(r *report) float64 { return r.E2E.P50 }), "%.1f ms"), e2e99,
		cell(delivery(func(r *report) float64 { return float64(r.BacklogAtSendEnd) }), "%.0f"),
		cell(rss, "%.1f MiB"))
}
