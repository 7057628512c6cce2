package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// writeReq is one small write handed to the group committer: an append,
// or an ack, retry or dead-letter of one outbox row. op runs inside the
// shared transaction and returns the new id or the rows it changed.
type writeReq struct {
	op   func(ctx context.Context, tx *sql.Tx) (int64, error)
	resp chan writeResp // buffered(1): the committer never blocks on a gone caller
}

type writeResp struct {
	n   int64
	err error
}

// inWrite runs op in a write transaction: with GroupCommit, in the shared
// transaction of the committer's next round, so appends, routing, leases
// and acks made at the same time cost one fsync between them; without it,
// in a transaction of its own. op may run more than once (a retried
// transaction), so it must reset whatever it captures.
func (s *Store) inWrite(ctx context.Context, op func(ctx context.Context, tx *sql.Tx) (int64, error)) (int64, error) {
	if s.write == nil {
		return 0, ErrReadOnly
	}
	if s.opts.GroupCommit {
		return s.submit(ctx, op)
	}
	var n int64
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = op(ctx, tx)
		return err
	})
	return n, err
}

// submit hands op to the committer and waits until its transaction has
// committed (or failed). Once handed over, the write happens even if ctx
// ends, and submit waits for it, so a caller never reports a failure for
// a write that was in fact made.
func (s *Store) submit(ctx context.Context, op func(ctx context.Context, tx *sql.Tx) (int64, error)) (int64, error) {
	req := writeReq{op: op, resp: make(chan writeResp, 1)}
	// The channel is unbuffered so a request is only ever accepted by a live
	// committer; after Close the closing case wins.
	select {
	case s.writes <- req:
	case <-s.closing:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	r := <-req.resp
	return r.n, r.err
}

// groupCommit is the single committer: it takes one request, sweeps up
// every request already waiting (up to MaxBatch), and commits them together.
func (s *Store) groupCommit() {
	defer s.wg.Done()
	for {
		select {
		case req := <-s.writes:
			s.commitBatch(s.collect(req))
		case <-s.closing:
			s.drain()
			return
		}
	}
}

// drain commits the writes whose callers are already blocked handing them
// over, so Close does not turn a request that raced it into an error when
// it could still be stored.
func (s *Store) drain() {
	for {
		select {
		case req := <-s.writes:
			s.commitBatch(s.collect(req))
		default:
			return
		}
	}
}

func (s *Store) collect(first writeReq) []writeReq {
	batch := []writeReq{first}
	for len(batch) < s.opts.MaxBatch {
		select {
		case req := <-s.writes:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch runs batch in one transaction and answers every caller. The
// context is background: callers already handed their writes over, and a
// cancelled caller must not abort its neighbours' writes.
func (s *Store) commitBatch(batch []writeReq) {
	ctx := context.Background()
	results := make([]int64, len(batch))
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for i, req := range batch {
			n, err := req.op(ctx, tx)
			if err != nil {
				return err
			}
			results[i] = n
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			req.resp <- writeResp{err: fmt.Errorf("batch of %d: %w", len(batch), err)}
			continue
		}
		req.resp <- writeResp{n: results[i]}
	}
}
