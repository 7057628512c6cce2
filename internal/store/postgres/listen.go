package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// channelOutbox is the channel the store notifies on when a dead row is
// replayed (the sink's name as payload), in the transaction that replays
// it, so the notification is delivered when (and only if) it commits: a
// replay from the command line goes out at once rather than at the next
// poll. Appends and routing notify no one (see appendRound).
const channelOutbox = "wabarouter_outbox"

// channel is base for the store's schema: notifications are per database,
// not per schema, so two stores in one database (replicas of two
// deployments, or tests in parallel) must not wake each other.
func (s *Store) channel(base string) string {
	if s.opts.Schema == "" {
		return base
	}
	sum := sha256.Sum256([]byte(s.opts.Schema))
	return base + "_" + hex.EncodeToString(sum[:6])
}

// Wake says what a wake-up is about: Webhook for webhooks to route,
// otherwise Sink names the sink that has a row to send, or, empty, every
// sink has.
type Wake struct {
	Webhook bool
	Sink    string
}

// Listen delivers wake-ups to wake until ctx ends, on a connection of its
// own, reconnecting (with a growing wait) when it is lost; polling is
// the backstop for what is missed meanwhile. With PollOnly it returns at
// once: behind PgBouncer in transaction mode a LISTEN does not stay on
// one server connection.
func (s *Store) Listen(ctx context.Context, wake func(Wake), lost func(error)) {
	if s.opts.PollOnly {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if err != nil && lost != nil {
			lost(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce listens on one connection until it fails or ctx ends. Right
// after LISTEN it wakes everything once: what was notified while no
// connection listened is found by the wake-up's poll rather than by the
// next tick.
func (s *Store) listenOnce(ctx context.Context, wake func(Wake)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store/postgres: listen: %w", err)
	}
	// A connection that listened goes back to no pool: closing it ends
	// its LISTEN with it.
	defer func() {
		_ = conn.Conn().Close(context.Background())
		conn.Release()
	}()
	ch := s.channel(channelOutbox)
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
		return fmt.Errorf("store/postgres: listen on %s: %w", ch, err)
	}
	wake(Wake{Webhook: true})
	wake(Wake{})
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return fmt.Errorf("store/postgres: waiting for notifications: %w", err)
		}
		if n.Channel == ch {
			wake(Wake{Sink: unText(n.Payload)})
		}
	}
}
