package load

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// loader posts signed webhooks, closed loop (N posters back to back) or
// open loop (R per second handed to N workers).
type loader struct {
	url string
	// urls, when set, are several routers' webhook URLs, posted round-robin
	// by sequence number in place of url, as a load balancer spreads them.
	urls      []string
	secret    []byte
	client    *http.Client
	tmpls     []*template
	tr        *tracker
	count     int64 // 0: no bound
	warmEnd   time.Time
	deadline  time.Time
	lateAfter time.Duration // open loop: a send later than this behind schedule is "late"

	next atomic.Int64
}

// posterStats is one poster's tally, merged at the end.
type posterStats struct {
	sent, accepted, acceptedMeasured, late int64
	notifMeasured                          int64 // notifications expected of measured accepted webhooks
	latency                                []time.Duration
	non200                                 map[string]int64
	lastEnd                                time.Time
	maxLag                                 time.Duration
}

func (l *loader) post(ctx context.Context, seq int64, scheduled time.Time, st *posterStats) {
	t := l.tmpls[seq%int64(len(l.tmpls))]
	body := t.render(make([]byte, 0, 2048), l.tr.base+seq*l.tr.stride)
	url := l.url
	if len(l.urls) > 0 {
		url = l.urls[seq%int64(len(l.urls))]
	}
	req, err := e2etest.NewWebhookRequest(ctx, url, l.secret, body)
	if err != nil {
		panic(err) // the URL was checked at start
	}
	start := time.Now()
	sent := start
	if !scheduled.IsZero() {
		sent = scheduled
		lag := start.Sub(scheduled)
		st.maxLag = max(st.maxLag, lag)
		if lag > l.lateAfter {
			st.late++
		}
	}
	warm := sent.Before(l.warmEnd)
	l.tr.register(seq, t.notifications, sent, warm)
	resp, err := l.client.Do(req)
	status := 0
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	end := time.Now()
	st.sent++
	st.lastEnd = end
	ok := status == http.StatusOK
	l.tr.answered(seq, ok)
	switch {
	case ok:
		st.accepted++
		if !warm {
			st.acceptedMeasured++
			st.notifMeasured += int64(t.notifications)
			st.latency = append(st.latency, end.Sub(sent))
		}
	case err != nil:
		st.non200[errorClass(err)]++
	default:
		st.non200[strconv.Itoa(status)]++
	}
}

// errorClass names a transport error briefly for the non-200 tally.
func errorClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "error: cancelled"
	case errors.As(err, &ne) && ne.Timeout():
		return "error: timeout"
	default:
		return "error: " + truncate(err.Error(), 80)
	}
}

// take returns the next webhook number, or false once count is reached.
func (l *loader) take() (int64, bool) {
	seq := l.next.Add(1) - 1
	return seq, l.count == 0 || seq < l.count
}

// closedLoop runs n posters, each sending its next webhook as soon as the
// last one is answered, until the deadline, the count or ctx.
func (l *loader) closedLoop(ctx context.Context, n int) []*posterStats {
	stats := make([]*posterStats, n)
	var wg sync.WaitGroup
	for i := range n {
		st := &posterStats{non200: map[string]int64{}}
		stats[i] = st
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(l.deadline) {
				seq, ok := l.take()
				if !ok {
					return
				}
				l.post(ctx, seq, time.Time{}, st)
			}
		})
	}
	wg.Wait()
	return stats
}

type job struct {
	seq int64
	at  time.Time
}

// openLoop schedules rate webhooks a second from start and hands them to n
// workers; latencies count from the scheduled time, so a tool or router
// that falls behind shows in them instead of silently sending fewer.
func (l *loader) openLoop(ctx context.Context, n int, rate float64, start time.Time) []*posterStats {
	jobs := make(chan job, 4096)
	stats := make([]*posterStats, n)
	var wg sync.WaitGroup
	for i := range n {
		st := &posterStats{non200: map[string]int64{}}
		stats[i] = st
		wg.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				l.post(ctx, j.seq, j.at, st)
			}
		})
	}
	interval := float64(time.Second) / rate
	timer := time.NewTimer(0)
	defer timer.Stop()
schedule:
	for i := int64(0); ; i++ {
		at := start.Add(time.Duration(float64(i) * interval))
		if !at.Before(l.deadline) {
			break
		}
		seq, ok := l.take()
		if !ok {
			break
		}
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break schedule
			case <-timer.C:
			}
		}
		select {
		case jobs <- job{seq, at}:
		case <-ctx.Done():
			break schedule
		}
	}
	close(jobs)
	wg.Wait()
	return stats
}
