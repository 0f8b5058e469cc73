package db

import (
	"context"
	"fmt"
)

// Discard removes the record of a stream run that read nothing (every sub-account it needed
// was being read by another process) and releases every key the lock holds, in place of
// Finish: a run that did nothing leaves no row. A run that recorded a scope meanwhile is kept,
// and finished as succeeded. Like Finish, it runs even when ctx is done, and only the first
// of the two calls does anything.
func (l *StreamLock) Discard(ctx context.Context) error {
	var kept bool
	l.once.Do(func() {
		l.finishErr = l.discard(ctx, &kept)
	})
	if kept {
		return l.Finish(ctx, &RunFinishParams{RunID: l.RunID, Status: RunSucceeded})
	}
	return l.finishErr
}

// discard deletes the run's row when it has no scope, and reports whether it had one.
func (l *StreamLock) discard(ctx context.Context, kept *bool) error {
	l.stopHeartbeat()
	ctx, cancel := l.s.cleanupContext(ctx)
	defer cancel()
	defer func() {
		l.use.Lock()
		defer l.use.Unlock()
		_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		destroy(l.conn)
	}()
	var deleted bool
	err := l.s.retryLost(ctx, func(ctx context.Context) error {
		return l.s.pool.QueryRow(ctx, l.s.sql(`
WITH d AS (
  DELETE FROM {{schema}}.sync_runs r
  WHERE r.run_id = $1 AND r.status = $2
    AND NOT EXISTS (SELECT 1 FROM {{schema}}.sync_run_scopes s WHERE s.run_id = r.run_id)
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM d)`), l.RunID, RunRunning).Scan(&deleted)
	})
	if err != nil {
		return fmt.Errorf("discarding stream run %d: %w", l.RunID, err)
	}
	*kept = !deleted
	return nil
}
