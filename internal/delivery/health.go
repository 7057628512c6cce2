package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// health keeps a failing sink's log to a few lines: the first failure, a
// summary every LogEvery while it goes on, and the recovery. An outage of
// minutes at a thousand notifications a second would otherwise write a
// warning per attempt.
type health struct {
	mu       sync.Mutex
	failing  bool
	since    time.Time // first failure of this outage
	total    int       // failed attempts since then
	interval int       // failed attempts since the last line
	lastLine time.Time
	lastErr  error
	every    time.Duration
	// recovered is when the last outage ended; an attempt begun before
	// it that fails after it belongs to that outage, not to a new one.
	recovered time.Time
}

func (h *health) failed(ctx context.Context, log *slog.Logger, now, started time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing && started.Before(h.recovered) {
		return
	}
	h.total++
	h.interval++
	h.lastErr = err
	if !h.failing {
		h.failing, h.since, h.lastLine, h.interval = true, now, now, 0
		log.WarnContext(ctx, "sink failing; its notifications will be retried", "err", err)
		return
	}
	if every := h.every; every > 0 && now.Sub(h.lastLine) >= every {
		log.WarnContext(ctx, "sink still failing", "failed_attempts", h.interval, "since", h.since.UTC().Format(time.RFC3339),
			"last_err", err)
		h.lastLine, h.interval = now, 0
	}
}

func (h *health) succeeded(ctx context.Context, log *slog.Logger, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing {
		return
	}
	log.InfoContext(ctx, "sink recovered", "failed_attempts", h.total, "outage", now.Sub(h.since).Round(time.Millisecond).String(),
		"last_err", h.lastErr)
	h.failing, h.since, h.total, h.interval, h.lastLine, h.lastErr = false, time.Time{}, 0, 0, time.Time{}, nil
	h.recovered = now
}

// Health says whether the sink is failing now, since when and with what
// last error (nil when it is not failing), for the console's sinks page.
func (w *Worker) Health() (failing bool, since time.Time, lastErr error) {
	w.health.mu.Lock()
	defer w.health.mu.Unlock()
	return w.health.failing, w.health.since, w.health.lastErr
}
