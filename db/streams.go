package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
)

// The streams' side of the store (docs/streams.md): the window ledger stream_windows, the
// publish of one window's rows together with its ledger row, the locks that keep two
// processes off one sub-account's windows, and the streams' freshness.
//
// A stream run is recorded in sync_runs like an entity run (trigger TriggerStreams or
// TriggerBackfill), its counts per (stream, sub-account) in sync_run_scopes. Unlike an entity
// run it does not take the schema's run lock (it runs beside one); it holds a key of its own
// run instead, on a session of its own (StreamLock), taken in the statement that creates the
// run's row: a running stream run whose key is free is abandoned.

// Span is a window's bounds, [Start, End).
type Span struct{ Start, End time.Time }

// Window is one row of stream_windows.
type Window struct {
	Stream       entity.Name
	SubAccountID string
	Start, End   time.Time
	Backfill     bool       // a backfill recorded the window (WindowsRecord)
	FirstReadAt  *time.Time // the first read that published; nil until then
	SettledAt    *time.Time // the read that counted as the settle read; nil until then
	Status       WindowStatus
	Attempts     int        // reads attempted, published or not
	Rows         int64      // items the last published read returned
	Error        string     // the last failed read's error ("" otherwise)
	AttemptedAt  *time.Time // when the last read was attempted (its backoff counts from it)
	LastRunID    int64      // the run of the last attempt
}

// WindowsRecord records spans of (stream, subAccountID) in the ledger as pending, leaving the
// windows already recorded as they are, and returns how many it added. backfill says a
// backfill records them: the high-water mark counts only from the first window a backfill did
// not record (a window keeps the origin of its first record).
func (s *Store) WindowsRecord(ctx context.Context, stream entity.Name, subAccountID string, spans []Span, backfill bool) (int, error) {
	if err := checkStreamScope(stream, subAccountID); err != nil {
		return 0, fmt.Errorf("recording windows: %w", err)
	}
	starts, ends := make([]time.Time, len(spans)), make([]time.Time, len(spans))
	for i, sp := range spans {
		if !sp.End.After(sp.Start) {
			return 0, fmt.Errorf("recording windows of %s/%s: span %d ends (%s) before it starts (%s)",
				stream, subAccountID, i, sp.End.Format(time.RFC3339), sp.Start.Format(time.RFC3339))
		}
		starts[i], ends[i] = sp.Start, sp.End
	}
	tag, err := s.pool.Exec(ctx, s.sql(`
INSERT INTO {{schema}}.stream_windows (stream, sub_account_id, window_start, window_end, backfill)
SELECT $1, $2, w.s, w.e, $5 FROM unnest($3::timestamptz[], $4::timestamptz[]) AS w(s, e)
ON CONFLICT (stream, sub_account_id, window_start) DO NOTHING`), stream, subAccountID, starts, ends, backfill)
	if err != nil {
		return 0, fmt.Errorf("recording windows of %s/%s: %w", stream, subAccountID, err)
	}
	return int(tag.RowsAffected()), nil
}

// checkStreamScope returns an error unless stream is a stream and subAccountID not empty.
func checkStreamScope(stream entity.Name, subAccountID string) error {
	if _, err := entity.ParseStream(string(stream)); err != nil {
		return err
	}
	if subAccountID == "" {
		return errors.New("empty sub-account id")
	}
	return nil
}

// windowColumns are the columns scanWindow reads, of stream_windows.
const windowColumns = `stream, sub_account_id, window_start, window_end, backfill, first_read_at, settled_at, status,
       attempts, rows, coalesce(error, ''), attempted_at, coalesce(last_run_id, 0)`

// scanWindows reads rows of windowColumns.
func scanWindows(rows pgx.Rows) ([]Window, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Window, error) {
		var w Window
		err := r.Scan(&w.Stream, &w.SubAccountID, &w.Start, &w.End, &w.Backfill, &w.FirstReadAt, &w.SettledAt, &w.Status,
			&w.Attempts, &w.Rows, &w.Error, &w.AttemptedAt, &w.LastRunID)
		return w, err
	})
}

// WindowsLastEnd returns the end of the latest window recorded for (stream, subAccountID);
// ok is false when none is.
func (s *Store) WindowsLastEnd(ctx context.Context, stream entity.Name, subAccountID string) (end time.Time, ok bool, err error) {
	var t *time.Time
	if err := s.pool.QueryRow(ctx, s.sql(`
SELECT max(window_end) FROM {{schema}}.stream_windows WHERE stream = $1 AND sub_account_id = $2`),
		stream, subAccountID).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("reading the last window of %s/%s: %w", stream, subAccountID, err)
	}
	if t == nil {
		return time.Time{}, false, nil
	}
	return *t, true, nil
}

// WindowsAttempted returns when the windows of subAccountID's streams were last attempted, of
// those attempted since: the reporting requests sent lately for the sub-account, by this
// process or another, which its reporting bucket counts (one per window: [I] a window split
// at a daylight-saving change made two).
func (s *Store) WindowsAttempted(ctx context.Context, subAccountID string, streams []entity.Name, since time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, s.sql(`
SELECT attempted_at FROM {{schema}}.stream_windows
WHERE stream = ANY($1) AND sub_account_id = $2 AND attempted_at >= $3
ORDER BY attempted_at`), streams, subAccountID, since)
	if err != nil {
		return nil, fmt.Errorf("reading the recent reads of sub-account %s: %w", subAccountID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("reading the recent reads of sub-account %s: %w", subAccountID, err)
	}
	return out, nil
}

// WindowsOpen returns the windows of (stream, subAccountID) that may still need a read: those
// not succeeded, and those succeeded but not settled; oldest first.
func (s *Store) WindowsOpen(ctx context.Context, stream entity.Name, subAccountID string) ([]Window, error) {
	// The condition is the partial index's (stream_windows_open_idx).
	rows, err := s.pool.Query(ctx, s.sql(`
SELECT `+windowColumns+` FROM {{schema}}.stream_windows
WHERE stream = $1 AND sub_account_id = $2 AND (status <> 'succeeded' OR settled_at IS NULL)
ORDER BY window_start`), stream, subAccountID)
	if err != nil {
		return nil, fmt.Errorf("reading the open windows of %s/%s: %w", stream, subAccountID, err)
	}
	ws, err := scanWindows(rows)
	if err != nil {
		return nil, fmt.Errorf("reading the open windows of %s/%s: %w", stream, subAccountID, err)
	}
	return ws, nil
}

// WindowsIn returns the windows of (stream, subAccountID) whose start lies in [from, to),
// oldest first.
func (s *Store) WindowsIn(ctx context.Context, stream entity.Name, subAccountID string, from, to time.Time) ([]Window, error) {
	rows, err := s.pool.Query(ctx, s.sql(`
SELECT `+windowColumns+` FROM {{schema}}.stream_windows
WHERE stream = $1 AND sub_account_id = $2 AND window_start >= $3 AND window_start < $4
ORDER BY window_start`), stream, subAccountID, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading the windows of %s/%s: %w", stream, subAccountID, err)
	}
	ws, err := scanWindows(rows)
	if err != nil {
		return nil, fmt.Errorf("reading the windows of %s/%s: %w", stream, subAccountID, err)
	}
	return ws, nil
}

// StreamRow is one item of a window, to publish: its key after sub_account_id, its typed
// values and the API item.
type StreamRow struct {
	// Key holds the values of the stream's key columns after sub_account_id, in order (a
	// string for text, an int64 for bigint, a time.Time for timestamptz).
	Key []any
	// Vals are the typed columns' values, in the description's Columns order, as for Row.Vals;
	// a JSON column takes a []byte or json.RawMessage holding a JSON value (nil: SQL NULL).
	Vals []any
	// Raw is the item's JSON as a decoder read it (valid JSON: it is not checked again);
	// WindowPublish scrubs its secret-bearing keys and hashes the row.
	Raw []byte
}

// RowsOf yields rows, for WindowPublishParams.Rows.
func RowsOf(rows []StreamRow) iter.Seq2[StreamRow, error] {
	return func(yield func(StreamRow, error) bool) {
		for _, r := range slices.Clone(rows) {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// WindowPublishParams are one read of one window.
type WindowPublishParams struct {
	RunID        int64
	Stream       *entity.Stream
	SubAccountID string
	Span         Span
	// Settle says the read counts as the window's settle read (settled_at is set), as well
	// as its first read when it had none.
	Settle bool
	// Rows are the window's items. An error from it fails the publish: nothing of the window
	// is written, its ledger row included.
	Rows iter.Seq2[StreamRow, error]
	// Lock is the run's lock: a run that lost it publishes nothing.
	Lock *StreamLock
	// At is when the read was made by the run's clock, recorded as the window's
	// first_read_at, settled_at and attempted_at (the due rules compare them with that clock);
	// zero for the database's now().
	At time.Time
	// Staged sends every item through the staging table, also for a window never attempted
	// (the publish after an ErrStoredElsewhere).
	Staged bool
}

// WindowCounts is what publishing one window did to the stream's table.
type WindowCounts struct {
	Fetched   int64 // items the read returned
	Inserted  int64
	Updated   int64
	Unchanged int64
	// Missing: rows of the window a settle read no longer returned (PublishUpsert: marked
	// missing_since; PublishReplace: deleted).
	Missing int64
}

// WindowPublish writes one window's rows by the stream's publish rule and its ledger row
// (succeeded; first_read_at set if unset, settled_at if p.Settle; attempts + 1), and adds its
// counts to the run's sync_run_scopes row of (stream, sub-account), in one transaction.
//
// The rows stream into a temporary table (COPY), their raw scrubbed of secret-bearing keys and
// hashed; a key the read returned twice counts once, its last copy kept. p.Stream.Publish then
// decides what is written: PublishAppend inserts the keys not stored and leaves the stored rows
// untouched (no row version is written for them); PublishUpsert and PublishReplace rewrite a
// stored row only when its row_hash differs. The commit happens only while p.Lock still holds
// the run's key (ErrLockLost otherwise).
func (s *Store) WindowPublish(ctx context.Context, p *WindowPublishParams) (WindowCounts, error) {
	c, err := s.windowPublish(ctx, p)
	if err != nil {
		name := entity.Name("?")
		if p.Stream != nil {
			name = p.Stream.Name
		}
		return WindowCounts{}, fmt.Errorf("publishing window %s of %s/%s: %w",
			p.Span.Start.UTC().Format(time.RFC3339), name, p.SubAccountID, err)
	}
	return c, nil
}

// WindowFailParams are a read of one window that did not publish.
type WindowFailParams struct {
	RunID        int64
	Stream       entity.Name
	SubAccountID string
	Span         Span
	Status       WindowStatus // WindowFailed or WindowNotEntitled
	Error        string
	At           time.Time // as WindowPublishParams.At: the window's attempted_at
	// Lock is the run's lock (required): a run that lost it records nothing, for another run
	// may have published the window since.
	Lock *StreamLock
}

// WindowFail records a read that did not publish on the window's ledger row (its status and
// error, attempts + 1, attempted_at, last_run_id; first_read_at and settled_at as they were)
// and on the run's sync_run_scopes row of (stream, sub-account) (ScopeFailed or
// ScopeNotEntitled, with the error; a scope failed once stays failed). A window already read
// and settled keeps its status (succeeded): its rows are whole, and a failed refetch must not
// leave it failed for good (the due rules never read a settled window again). The commit
// happens only while p.Lock still holds the run's key (ErrLockLost otherwise).
func (s *Store) WindowFail(ctx context.Context, p *WindowFailParams) error {
	fail := func(err error) error {
		return fmt.Errorf("recording the failed read of window %s of %s/%s: %w",
			p.Span.Start.UTC().Format(time.RFC3339), p.Stream, p.SubAccountID, err)
	}
	if err := checkStreamScope(p.Stream, p.SubAccountID); err != nil {
		return fail(err)
	}
	var scope ScopeStatus
	switch p.Status {
	case WindowFailed:
		scope = ScopeFailed
	case WindowNotEntitled:
		scope = ScopeNotEntitled
	default:
		return fail(fmt.Errorf("status %q (expected %s or %s)", p.Status, WindowFailed, WindowNotEntitled))
	}
	if !p.Span.End.After(p.Span.Start) {
		return fail(errors.New("the span ends before it starts"))
	}
	if p.Lock == nil {
		return fail(errors.New("no lock"))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after a commit, a no-op
	// One statement: the ledger row and the scope together. A scope failed once stays failed,
	// with its first error.
	_, err = tx.Exec(ctx, s.sql(`
WITH w AS (
  INSERT INTO {{schema}}.stream_windows AS sw
    (stream, sub_account_id, window_start, window_end, status, attempts, error, attempted_at, last_run_id)
  VALUES ($1, $2, $3, $4, $5, 1, $6, coalesce($9, now()), $7)
  ON CONFLICT (stream, sub_account_id, window_start) DO UPDATE
    SET status = CASE WHEN sw.first_read_at IS NOT NULL AND sw.settled_at IS NOT NULL THEN sw.status ELSE EXCLUDED.status END,
        attempts = sw.attempts + 1, error = EXCLUDED.error,
        attempted_at = EXCLUDED.attempted_at, last_run_id = EXCLUDED.last_run_id
)
INSERT INTO {{schema}}.sync_run_scopes AS sc (run_id, entity, scope, status, error)
VALUES ($7, $1, $2, $8, $6)
ON CONFLICT (run_id, entity, scope) DO UPDATE
  SET status = CASE WHEN sc.status = 'failed' THEN sc.status ELSE EXCLUDED.status END,
      error = CASE WHEN sc.status = 'failed' THEN sc.error ELSE EXCLUDED.error END`),
		p.Stream, p.SubAccountID, p.Span.Start, p.Span.End, p.Status, oneline.Of(p.Error, oneline.Stored), p.RunID, scope, readAt(p.At))
	if err != nil {
		return fail(err)
	}
	if err := p.Lock.checkHeld(ctx, tx); err != nil {
		return fail(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(fmt.Errorf("committing: %w", err))
	}
	return nil
}

// StreamLock is a stream run's hold on the database: a session of its own that holds the
// run's key and the sub-accounts whose windows the run reads (at most one process reads a
// given sub-account's windows at a time). The session dies with its holder, as a Lock's does.
type StreamLock struct {
	RunID int64

	heldSession
	once      sync.Once
	finishErr error
	subs      map[string]int64 // the sub-accounts' keys held, guarded by use
}

// StreamRunBegin records a stream run (status running, trigger) and takes its key and the
// schema's streams key (shared), in one statement on a session of its own, after closing the
// stream runs a dead process left running (their key free). It returns the closed runs' ids
// too. While MigrateDown holds the streams key, it returns an error that matches ErrLocked.
func (s *Store) StreamRunBegin(ctx context.Context, trigger Trigger) (l *StreamLock, abandoned []int64, err error) {
	if !slices.Contains(StreamTriggers(), trigger) {
		return nil, nil, fmt.Errorf("beginning a stream run: trigger %q (expected one of %s)", trigger, orList(StreamTriggers()))
	}
	abandoned, err = s.streamRunsCloseAbandoned(ctx)
	if err != nil {
		return nil, nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, abandoned, fmt.Errorf("beginning a stream run: acquiring its connection: %w", err)
	}
	l = &StreamLock{subs: map[string]int64{}}
	l.heldSession = s.newHeldSession(conn, func(cause string) error {
		return &streamLockLostError{schema: s.schema, runID: l.RunID, cause: cause}
	})
	var u sessionSetup
	if err := conn.QueryRow(ctx, `SELECT `+s.sessionSetupSQL()).Scan(u.dest()...); err != nil {
		destroy(conn)
		return nil, abandoned, fmt.Errorf("beginning a stream run: setting up its session: %w", err)
	}
	l.adopt(conn, &u)
	// The row is never visible without its keys held: the row and the keys in one statement,
	// committed only when both keys were taken. The keys are the session's: a rollback keeps
	// them, and closing the session releases them.
	var streamsTaken, runTaken bool
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, s.sql(`
WITH r AS (INSERT INTO {{schema}}.sync_runs (trigger, status) VALUES ($1, $2) RETURNING run_id)
SELECT run_id, pg_try_advisory_lock_shared($4), pg_try_advisory_lock($3::int4, `+streamRunObjSQL("run_id")+`) FROM r`),
			trigger, RunRunning, s.streamRunClass(), s.streamsKey()).Scan(&l.RunID, &streamsTaken, &runTaken); err != nil {
			return err
		}
		switch {
		case !streamsTaken:
			return fmt.Errorf("the schema's streams are being migrated (migrate down holds their key): %w", ErrLocked)
		case !runTaken:
			return fmt.Errorf("another session holds the key of run %d (a collision of two runs' keys: one of another process whose run id has the same low 32 bits)", l.RunID)
		}
		return nil
	})
	if err != nil {
		destroy(conn)
		return nil, abandoned, fmt.Errorf("beginning a stream run: %w", err)
	}
	l.startHeartbeat()
	return l, abandoned, nil
}

// streamsKey is the advisory lock key of the schema's streams: every stream run holds it
// shared for its whole run, and MigrateDown takes it exclusively (as well as the run lock, which
// stream runs do not take), so that no stream run writes into a table being dropped.
func (s *Store) streamsKey() int64 { return lockKey("streams", s.schema) }

// tryStreams takes the schema's streams key exclusively on the lock's session, or reports
// false when a stream run holds it; the lock's Release frees it (with the session).
func (l *Lock) tryStreams(ctx context.Context) (bool, error) {
	l.use.Lock()
	defer l.use.Unlock()
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.s.streamsKey()).Scan(&ok); err != nil {
		return false, fmt.Errorf("taking the streams' key: %w", err)
	}
	return ok, nil
}

// streamRunClass is the first key of a stream run's advisory lock (the two-key form, whose
// second key is the run's id: streamRunObjSQL), the same for every run of the schema. The
// two-key form lets SQL find a run's key from its row (streamRunHeldSQL); pg_locks shows it
// with objsubid 2, apart from the one-key locks.
func (s *Store) streamRunClass() int32 { return int32(lockKey("streamrun", s.schema)) } //nolint:gosec // a hash, truncated on purpose

// streamRunObjSQL is the second key of the stream run whose id is the SQL expression run: its
// low 32 bits as an int4 (a schema's run ids stay far below 2^32; past it two runs 2^32 apart
// would share a key, which only makes a dead one look alive while the other runs).
func streamRunObjSQL(run string) string {
	return "((" + run + " & 4294967295) - ((" + run + " & 2147483648) << 1))::int4"
}

// streamRunHeldSQL is the SQL condition that a session holds the key of the stream run whose
// id is the SQL expression run, class being the SQL parameter of streamRunClass. pg_locks
// shows the keys as unsigned: classid and objid are their 32 bits.
func streamRunHeldSQL(class, run string) string {
	return `EXISTS (
  SELECT 1 FROM pg_locks k
  WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 2
    AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND k.classid::bigint = (` + class + `::int4::bigint & 4294967295) AND k.objid::bigint = (` + run + ` & 4294967295))`
}

// streamRunsCloseAbandoned closes the stream runs recorded as running whose key no session
// holds, as RunFailed with error AbandonedError, and returns their ids, oldest first.
func (s *Store) streamRunsCloseAbandoned(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, s.sql(`
UPDATE {{schema}}.sync_runs SET status = $1, finished_at = clock_timestamp(), error = $2
WHERE status = $3 AND trigger = ANY ($4::text[]) AND NOT `+streamRunHeldSQL("$5", "sync_runs.run_id")+`
RETURNING run_id`), RunFailed, AbandonedError, RunRunning, StreamTriggers(), s.streamRunClass())
	if err != nil {
		return nil, fmt.Errorf("closing abandoned stream runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("closing abandoned stream runs: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// streamLockLostError is the error of a stream run whose session's heartbeat failed.
type streamLockLostError struct {
	schema string
	runID  int64
	cause  string // the heartbeat's error
}

func (e *streamLockLostError) Error() string {
	return fmt.Sprintf("stream run %d of schema %s lost its session, and with it its keys (heartbeat: %s)", e.runID, e.schema, e.cause)
}

func (e *streamLockLostError) Is(target error) bool { return target == ErrLockLost }

// subAccountKey is the advisory lock key of a sub-account's windows.
func (l *StreamLock) subAccountKey(subAccountID string) int64 {
	return lockKey("streams", l.s.schema+"/"+subAccountID)
}

// checkHeld returns ErrLockLost unless the run's session still holds the run's key, as seen
// by q (another session: a publish's transaction).
func (l *StreamLock) checkHeld(ctx context.Context, q querier) error {
	var held bool
	if err := q.QueryRow(ctx, streamHeldSQL, l.heldArgs()...).Scan(&held); err != nil {
		return fmt.Errorf("checking the run's key: %w", err)
	}
	if !held {
		return ErrLockLost
	}
	return nil
}

// streamHeldSQL is the query of checkHeld, whose arguments are heldArgs: whether the session
// of a backend holds a stream run's key.
const streamHeldSQL = `
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND pid = $1 AND objsubid = 2
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid::bigint = ($2::int4::bigint & 4294967295) AND objid::bigint = ($3::bigint & 4294967295))`

// heldArgs are streamHeldSQL's arguments for the run's key and session.
func (l *StreamLock) heldArgs() []any { return []any{l.pid(), l.s.streamRunClass(), l.RunID} }

// TrySubAccount takes the sub-account's key for the run, or reports false when another
// process holds it.
func (l *StreamLock) TrySubAccount(ctx context.Context, subAccountID string) (bool, error) {
	l.use.Lock()
	defer l.use.Unlock()
	if _, ok := l.subs[subAccountID]; ok {
		return true, nil // held already: not taken twice, one unlock releases it
	}
	key := l.subAccountKey(subAccountID)
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("taking the lock of sub-account %s's windows: %w", subAccountID, err)
	}
	if ok {
		l.subs[subAccountID] = key
	}
	return ok, nil
}

// ReleaseSubAccount lets another process read the sub-account's windows.
func (l *StreamLock) ReleaseSubAccount(ctx context.Context, subAccountID string) error {
	l.use.Lock()
	defer l.use.Unlock()
	key, ok := l.subs[subAccountID]
	if !ok {
		return nil
	}
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		return fmt.Errorf("releasing the lock of sub-account %s's windows: %w", subAccountID, err)
	}
	delete(l.subs, subAccountID)
	return nil
}

// Lost is closed when the lock's session was lost: the run must stop.
func (l *StreamLock) Lost() <-chan struct{} { return l.heldSession.Lost() }

// Err is why the lock was lost (nil while it holds): an error that matches ErrLockLost.
func (l *StreamLock) Err() error { return l.heldSession.Err() }

// Finish records the run's end (RunFinish's params; its counts are the sums of its
// sync_run_scopes rows) and releases every key the lock holds. It runs even when ctx is done,
// bounded by the store's cleanup timeout.
//
// p.RunID is the lock's run (0 says the same). The run's row is updated before its session
// closes, so that a run recorded as running always has its key held. Finish is safe to call
// more than once: the first call's result is returned.
func (l *StreamLock) Finish(ctx context.Context, p *RunFinishParams) error {
	l.once.Do(func() { l.finishErr = l.finish(ctx, p) })
	return l.finishErr
}

// finish is Finish's one run.
func (l *StreamLock) finish(ctx context.Context, p *RunFinishParams) error {
	l.stopHeartbeat()
	ctx, cancel := l.s.cleanupContext(ctx)
	defer cancel()
	defer func() {
		l.use.Lock()
		defer l.use.Unlock()
		// Released at once when the server answers; closing the session releases every key
		// it holds either way, but the server may see the connection close a moment later.
		_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		destroy(l.conn)
	}()
	switch {
	case p.RunID != 0 && p.RunID != l.RunID:
		return fmt.Errorf("finishing stream run %d: the lock is run %d's", p.RunID, l.RunID)
	case !slices.Contains(RunStatuses(), p.Status) || p.Status == RunRunning:
		return fmt.Errorf("finishing stream run %d: invalid status %q", l.RunID, p.Status)
	}
	err := l.s.retryLost(ctx, func(ctx context.Context) error {
		_, err := l.s.pool.Exec(ctx, l.s.sql(`
WITH c AS (
  SELECT coalesce(sum(fetched), 0) AS fetched, coalesce(sum(inserted), 0) AS inserted,
         coalesce(sum(updated), 0) AS updated, coalesce(sum(unchanged), 0) AS unchanged,
         coalesce(sum(deleted), 0) AS deleted, coalesce(sum(restored), 0) AS restored
  FROM {{schema}}.sync_run_scopes WHERE run_id = $1
)
UPDATE {{schema}}.sync_runs r SET status = $2, error = NULLIF($3, ''), finished_at = clock_timestamp(),
       api_requests = $4, token_refreshes = $5, retries = $6, rate_limited = $7,
       fetched = c.fetched, inserted = c.inserted, updated = c.updated, unchanged = c.unchanged,
       deleted = c.deleted, restored = c.restored
FROM c
WHERE r.run_id = $1 AND r.status = $8`),
			l.RunID, p.Status, oneline.Of(p.Error, oneline.Stored), p.APIRequests, p.TokenRefreshes, p.Retries, p.RateLimited, RunRunning)
		return err
	})
	if err != nil {
		return fmt.Errorf("finishing stream run %d: %w", l.RunID, err)
	}
	return nil
}

// StreamStatus is the freshness of one (stream, sub-account), as the view stream_freshness
// defines it.
type StreamStatus struct {
	Stream       entity.Name
	SubAccountID string
	// HighWater is the start of the oldest window not read yet, or the end of the newest
	// window when every one was read; the windows before the first one a backfill did not
	// record do not count (a backfill does not drag the mark back). It is set on every row (a
	// row has a window); a pointer for the callers' null.
	HighWater      *time.Time
	Lag            time.Duration // now - HighWater
	WindowsPending int64         // recorded, never read (status pending)
	WindowsFailed  int64
	NotEntitled    bool // the latest attempt was refused with 403
	Rows           int64
	LastReadAt     *time.Time
	// Live is false when sub_accounts holds the sub-account as deleted (a sub-account it does
	// not hold, as with a tenant that syncs only streams, is live).
	Live bool
}

// StreamStatusGet returns stream_freshness: one row per (stream, sub-account) with a window
// recorded, in stream then sub-account order.
func (s *Store) StreamStatusGet(ctx context.Context) ([]StreamStatus, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("reading the streams' freshness: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // read only: nothing to keep
	// The view is index lookups per (stream, sub-account), which the planner prices high on a
	// large ledger: JIT compiling would cost more than the query (0.2 s of 0.4 s at 1M windows).
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return nil, fmt.Errorf("reading the streams' freshness: %w", err)
	}
	rows, err := tx.Query(ctx, s.sql(`
SELECT stream, sub_account_id, high_water_mark, coalesce(lag, '0'::interval), windows_pending, windows_failed,
       not_entitled, coalesce(rows, 0), last_read_at, live
FROM {{schema}}.stream_freshness`))
	if err != nil {
		return nil, fmt.Errorf("reading the streams' freshness: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StreamStatus, error) {
		var st StreamStatus
		err := r.Scan(&st.Stream, &st.SubAccountID, &st.HighWater, &st.Lag, &st.WindowsPending, &st.WindowsFailed,
			&st.NotEntitled, &st.Rows, &st.LastReadAt, &st.Live)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the streams' freshness: %w", err)
	}
	slices.SortFunc(out, func(a, b StreamStatus) int {
		return cmp.Or(cmp.Compare(entity.StreamOrder(a.Stream), entity.StreamOrder(b.Stream)),
			strings.Compare(string(a.Stream), string(b.Stream)), strings.Compare(a.SubAccountID, b.SubAccountID))
	})
	return out, nil
}

// readAt is a read's time for the ledger: nil (the database's now()) when zero.
func readAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
