package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Webhook appends are group-committed (rounds): concurrent AppendWebhook
// calls are inserted by one statement and committed once between them.
// One commit per request made 64 concurrent posters hold 64 of the pool's
// connections and wait on 64 WAL flushes, while routing and delivery
// waited for a connection; now intake takes appendWorkers connections of
// its own, each committing whatever arrived meanwhile.

type appendReq struct {
	body []byte
	at   int64
	resp chan appendResp // buffered(1)
}

type appendResp struct {
	id  int64
	err error
}

// appendWorkers commit rounds side by side; maxAppendBatch caps one round.
const (
	appendWorkers  = 2
	maxAppendBatch = 256
)

// appendWebhook hands one webhook to the next round and waits for its
// commit. Once handed over, the insert happens even if ctx ends, and it
// waits for it, so a caller never reports a failure for a webhook that
// was stored.
func (s *Store) appendWebhook(ctx context.Context, body []byte, at int64) (int64, error) {
	req := appendReq{body: body, at: at, resp: make(chan appendResp, 1)}
	if err := s.appends.hand(ctx, req); err != nil {
		return 0, err
	}
	r := <-req.resp
	return r.id, r.err
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
