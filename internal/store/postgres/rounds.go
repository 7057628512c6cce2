package postgres

import (
	"context"
	"sync"

	"github.com/wabarouter/wabarouter/internal/store"
)

// rounds group-commits requests of one kind: workers each take a request,
// sweep up those already waiting (up to max) and run them as one round,
// so writes made at the same time share one commit and one WAL flush.
// While one worker waits for its flush, the next collects what arrived.
type rounds[T any] struct {
	reqs    chan T
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// startRounds runs round on the workers until stop.
func startRounds[T any](workers, max int, round func([]T)) *rounds[T] {
	r := &rounds[T]{reqs: make(chan T), closing: make(chan struct{})}
	for range workers {
		r.wg.Go(func() {
			for {
				select {
				case req := <-r.reqs:
					round(r.collect(req, max))
				case <-r.closing:
					// The requests already handed over are still run.
					for {
						select {
						case req := <-r.reqs:
							round(r.collect(req, max))
						default:
							return
						}
					}
				}
			}
		})
	}
	return r
}

func (r *rounds[T]) collect(first T, max int) []T {
	batch := []T{first}
	for len(batch) < max {
		select {
		case req := <-r.reqs:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// hand gives req to the next round. The channel is unbuffered, so a
// request is only ever accepted by a live worker; once accepted it is
// run even if ctx ends, and its caller waits for its answer.
func (r *rounds[T]) hand(ctx context.Context, req T) error {
	select {
	case r.reqs <- req:
		return nil
	case <-r.closing:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop lets the workers finish the rounds they hold and the requests
// already handed over, then returns.
func (r *rounds[T]) stop() {
	r.once.Do(func() {
		close(r.closing)
		r.wg.Wait()
	})
}
