package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wabarouter/wabarouter/internal/store"
)

// appender group-commits webhook appends: concurrent AppendWebhook calls
// are inserted by one statement and committed once between them. One
// commit per request made 64 concurrent posters hold 64 of the pool's
// connections and wait on 64 WAL flushes, while routing and delivery
// waited for a connection; now intake takes appendWorkers connections
// at most, each committing whatever arrived meanwhile.
type appender struct {
	reqs    chan appendReq
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

type appendReq struct {
	body []byte
	at   int64
	resp chan appendResp // buffered(1)
}

type appendResp struct {
	id  int64
	err error
}

// appendWorkers commit rounds side by side: while one waits for its WAL
// flush, the next collects what arrived; maxAppendBatch caps one round.
const (
	appendWorkers  = 2
	maxAppendBatch = 256
)

func (s *Store) startAppender() {
	a := &appender{reqs: make(chan appendReq), closing: make(chan struct{})}
	for range appendWorkers {
		a.wg.Go(func() { s.appendRounds(a) })
	}
	s.appends = a
}

// stop lets the workers finish the rounds they hold and the requests
// already handed over, then returns.
func (a *appender) stop() {
	a.once.Do(func() {
		close(a.closing)
		a.wg.Wait()
	})
}

// append hands one webhook to the workers and waits for its commit. Once
// handed over, the insert happens even if ctx ends, and append waits for
// it, so a caller never reports a failure for a webhook that was stored.
func (a *appender) append(ctx context.Context, body []byte, at int64) (int64, error) {
	req := appendReq{body: body, at: at, resp: make(chan appendResp, 1)}
	select {
	case a.reqs <- req:
	case <-a.closing:
		return 0, store.ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	r := <-req.resp
	return r.id, r.err
}

func (s *Store) appendRounds(a *appender) {
	for {
		select {
		case req := <-a.reqs:
			s.appendRound(collectAppends(a.reqs, req))
		case <-a.closing:
			for {
				select {
				case req := <-a.reqs:
					s.appendRound(collectAppends(a.reqs, req))
				default:
					return
				}
			}
		}
	}
}

func collectAppends(reqs chan appendReq, first appendReq) []appendReq {
	batch := []appendReq{first}
	for len(batch) < maxAppendBatch {
		select {
		case req := <-reqs:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// appendRound inserts batch in one statement, rows in the batch's order,
// and answers each request with its id. Identities are drawn as the rows
// are inserted, in the order the SELECT gives them, so the ids, sorted,
// are the batch's in order.
//
// It notifies no one: Postgres commits every transaction that notified
// under one lock per database, WAL flush included, so a NOTIFY in each
// round made the replicas' appends (and routing) commit one at a time,
// and three replicas took a third of the webhooks one did. The replica
// that accepted a webhook wakes its own router; the others find it when
// they poll, which only matters when that replica dies first.
func (s *Store) appendRound(batch []appendReq) {
	bodies := make([][]byte, len(batch))
	ats := make([]int64, len(batch))
	for i, r := range batch {
		bodies[i], ats[i] = r.body, r.at
	}
	q := `INSERT INTO webhooks (body, received_at)
		SELECT b, a FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS t(b, a, n) ORDER BY n
		RETURNING id`
	ids := make([]int64, 0, len(batch))
	// The background context: the callers handed their webhooks over,
	// and one that gave up must not abort its neighbours' insert.
	rows, err := s.intake.Query(context.Background(), q, bodies, ats)
	if err == nil {
		for rows.Next() {
			var id int64
			if err = rows.Scan(&id); err != nil {
				break
			}
			ids = append(ids, id)
		}
		rows.Close()
		err = errors.Join(err, rows.Err())
	}
	if err == nil && len(ids) != len(batch) {
		err = fmt.Errorf("the insert returned %d ids for %d webhooks", len(ids), len(batch))
	}
	slices.Sort(ids)
	for i, r := range batch {
		if err != nil {
			r.resp <- appendResp{err: fmt.Errorf("a round of %d: %w", len(batch), err)}
			continue
		}
		r.resp <- appendResp{id: ids[i]}
	}
}
