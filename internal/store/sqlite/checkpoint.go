package sqlite

import (
	"context"
	"time"
)

// defaultCheckpointEvery is how often the WAL is copied back into the
// database. SQLite's default does it inside whichever commit crosses 1,000
// pages, which stalls that commit and every write queued behind it.
const defaultCheckpointEvery = 250 * time.Millisecond

// walRestartFrames bounds the WAL: passive checkpoints cannot reset it
// while writes never pause, so past this many frames (about 80 MB of 4 KiB
// pages) a RESTART checkpoint waits for a gap and starts the WAL over.
const walRestartFrames = 20000

// checkpointer runs passive checkpoints on a reader connection until Close.
// Passive never blocks the writer; if the WAL is busy it copies what it can
// and the next tick does the rest.
func (s *Store) checkpointer() {
	defer s.wg.Done()
	tick := time.NewTicker(s.opts.CheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-tick.C:
			s.checkpoint()
		}
	}
}

func (s *Store) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var busy, frames, copied int
	if err := s.read.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return // the next tick tries again; a failing store shows in /readyz
	}
	if frames > walRestartFrames {
		_, _ = s.read.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
	}
	if s.intake == nil {
		return
	}
	// The intake file's rows are deleted soon after they are written, so
	// its WAL holds little that must reach the file; restart it as often
	// as it lets itself.
	if err := s.intake.read.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return
	}
	if frames > walRestartFrames/10 {
		_, _ = s.intake.read.ExecContext(ctx, `PRAGMA wal_checkpoint(RESTART)`)
	}
}
