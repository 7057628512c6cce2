package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// writeReq is one small write handed to a group committer: an append,
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

// committer is the single writer of one file: it takes one request,
// sweeps up every request already waiting (up to maxBatch), and commits
// them together, so writes made at the same time share one fsync. The
// main file and the intake file have one each, so an append never waits
// for a commit of the main file.
type committer struct {
	db       *sql.DB
	reqs     chan writeReq
	maxBatch int
	// before, when set, runs first in each round's transaction (the
	// intake's clean-up of what was imported).
	before func(ctx context.Context, tx *sql.Tx) error
}

func newCommitter(db *sql.DB, maxBatch int) *committer {
	// The channel is unbuffered so a request is only ever accepted by a
	// live committer; after Close the closing case wins.
	return &committer{db: db, reqs: make(chan writeReq), maxBatch: maxBatch}
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
	return s.writeOn(ctx, s.main, op)
}

// writeOn runs op through c: in its next round with GroupCommit, in a
// transaction of its own without.
func (s *Store) writeOn(ctx context.Context, c *committer, op func(ctx context.Context, tx *sql.Tx) (int64, error)) (int64, error) {
	if s.opts.GroupCommit {
		return s.submit(ctx, c, op)
	}
	var n int64
	err := inTx(ctx, c.db, func(tx *sql.Tx) error {
		if c.before != nil {
			if err := c.before(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		n, err = op(ctx, tx)
		return err
	})
	return n, err
}

// submit hands op to c and waits until its transaction has committed (or
// failed). Once handed over, the write happens even if ctx ends, and
// submit waits for it, so a caller never reports a failure for a write
// that was in fact made.
func (s *Store) submit(ctx context.Context, c *committer, op func(ctx context.Context, tx *sql.Tx) (int64, error)) (int64, error) {
	req := writeReq{op: op, resp: make(chan writeResp, 1)}
	select {
	case c.reqs <- req:
	case <-s.closing:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	r := <-req.resp
	return r.n, r.err
}

// run commits c's rounds until closing, then the writes already handed
// over.
func (c *committer) run(closing <-chan struct{}) {
	for {
		select {
		case req := <-c.reqs:
			c.commitBatch(c.collect(req))
		case <-closing:
			c.drain()
			return
		}
	}
}

// drain commits the writes whose callers are already blocked handing them
// over, so Close does not turn a request that raced it into an error when
// it could still be stored.
func (c *committer) drain() {
	for {
		select {
		case req := <-c.reqs:
			c.commitBatch(c.collect(req))
		default:
			return
		}
	}
}

func (c *committer) collect(first writeReq) []writeReq {
	batch := []writeReq{first}
	for len(batch) < c.maxBatch {
		select {
		case req := <-c.reqs:
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
func (c *committer) commitBatch(batch []writeReq) {
	ctx := context.Background()
	results := make([]int64, len(batch))
	err := inTx(ctx, c.db, func(tx *sql.Tx) error {
		if c.before != nil {
			if err := c.before(ctx, tx); err != nil {
				return err
			}
		}
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
