package db

import (
	"context"
	"fmt"
)

// Discard removes the record of a stream run that read nothing (every sub-account it needed
// was being read by another process) and releases every key the lock holds, in place of
// Finish: a run that did nothing leaves no row. A run that recorded a scope meanwhile is kept,
// and finished as succeeded. Like Finish, it runs even when ctx is done.
func (l *StreamLock) Discard(ctx context.Context) error {
	cctx, cancel := l.s.cleanupContext(ctx)
	defer cancel()
	err := l.s.retryLost(cctx, func(ctx context.Context) error {
		_, err := l.s.pool.Exec(ctx, l.s.sql(`
DELETE FROM {{schema}}.sync_runs r
WHERE r.run_id = $1 AND r.status = $2
  AND NOT EXISTS (SELECT 1 FROM {{schema}}.sync_run_scopes s WHERE s.run_id = r.run_id)`), l.RunID, RunRunning)
		return err
	})
	// Finish releases the keys whatever happened, and finishes a row that was kept (a deleted
	// one matches nothing).
	ferr := l.Finish(ctx, &RunFinishParams{RunID: l.RunID, Status: RunSucceeded})
	if err != nil {
		return fmt.Errorf("discarding stream run %d: %w", l.RunID, err)
	}
	return ferr
}
