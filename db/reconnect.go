package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/evsync/evsync/internal/oneline"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sethvargo/go-retry"
)

// A database blip (a restart, a failover, a dropped TCP connection) ends the staging session,
// and its temporary tables with it. A Stage re-establishes its connection with backoff, within
// the run's context, and rebuilds the tables from its spool; the calls that met the lost
// connection then go on, so a run never fetches again what it fetched once. A publish that
// lost its connection first reads back from the ledger whether it committed.

// Reconnection bounds.
const (
	// ReconnectBackoffBase is the first wait before reconnecting; it doubles (with jitter)
	// up to ReconnectBackoffCap.
	ReconnectBackoffBase = 100 * time.Millisecond
	// ReconnectBackoffCap bounds one wait between attempts.
	ReconnectBackoffCap = 5 * time.Second
	// ReconnectMaxWait bounds the attempts of one reconnection, when the run's context does
	// not end first (sync.timeout).
	ReconnectMaxWait = 10 * time.Minute
	// MaxReconnects is how many times one stage reconnects before it gives up.
	MaxReconnects = 20
	// lockPingTimeout bounds the check that the lock's own connection still answers.
	lockPingTimeout = 5 * time.Second
)

// newReconnectBackoff returns a fresh backoff for one reconnection (go-retry backoffs are
// single-use).
func newReconnectBackoff() retry.Backoff {
	b := retry.NewExponential(ReconnectBackoffBase)
	b = retry.WithCappedDuration(ReconnectBackoffCap, b)
	b = retry.WithJitterPercent(20, b)
	return retry.WithMaxDuration(ReconnectMaxWait, b)
}

// ReconnectInfo tells a ReconnectFunc about one reconnection of a stage.
type ReconnectInfo struct {
	Cause    error         // the error that showed the connection lost
	Attempts int           // connection attempts it took
	Took     time.Duration // from losing the connection to staging rebuilt
	Restaged int64         // rows copied again from the spool
	Count    int           // reconnections of the stage so far
}

// SetReconnectFunc sets the function told about every reconnection (to log it); it is called
// with the stage's lock held and must not call the stage.
func (st *Stage) SetReconnectFunc(fn func(ReconnectInfo)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reconnectFn = fn
}

// connLostCode reports whether a server error code says the session is gone: class 08
// (connection exception), admin_shutdown, crash_shutdown, cannot_connect_now.
func connLostCode(code string) bool {
	return len(code) == 5 && code[:2] == "08" || code == "57P01" || code == "57P02" || code == "57P03"
}

// connLost reports whether err says the connection is gone: a server error that says so, a
// connection that could not be made, a network error, or (for an error met on conn) any
// other error once conn is closed. A server error of another kind (bad data, a statement
// timeout) is not a lost connection, even when it closed it.
func connLost(err error, conn *pgxpool.Conn) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return connLostCode(pe.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.Is(err, pgconn.ErrConnClosed), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &ne):
		return !pgconn.Timeout(err)
	}
	return conn != nil && conn.Conn().IsClosed()
}

// lost reports whether err, met on the stage's connection, is a lost connection that a
// reconnection can mend: never once ctx or the run's context is done (the run is over then),
// nor after a reconnection that failed (st.conn nil: its error is final).
func (st *Stage) lost(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || st.ctx.Err() != nil || st.conn == nil {
		return false
	}
	return connLost(err, st.conn)
}

// retry runs fn, and again after a reconnection each time it meets a lost connection. fn must
// be safe to run again after a reconnection rebuilt the staging tables.
func (st *Stage) retry(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if !st.lost(ctx, err) {
			return err
		}
		if rerr := st.recover(ctx, err); rerr != nil {
			return rerr
		}
	}
}

// waitRecover waits for the COPY in flight; one that met a lost connection is mended by a
// reconnection (its rows are spooled), any other error returned.
func (st *Stage) waitRecover(ctx context.Context) error {
	err := st.wait()
	if st.lost(ctx, err) {
		return st.recover(ctx, err)
	}
	return err
}

// recover replaces the stage's lost connection, with backoff, and rebuilds its staging tables
// from the spool. Its error is final: the stage keeps no connection then.
func (st *Stage) recover(ctx context.Context, cause error) error {
	start := time.Now()
	_ = st.wait()  // a COPY in flight fails with the connection; its rows are spooled
	st.dryTx = nil // it ended with its connection
	if st.conn != nil {
		destroy(st.conn)
		st.conn = nil
	}
	st.reconnects++
	causeText := oneline.Of(cause.Error(), oneline.Stored)
	if st.reconnects > MaxReconnects {
		return fmt.Errorf("the database connection was lost %d times, giving up: %s", st.reconnects, causeText)
	}
	attempts := 0
	var restaged int64
	err := retry.Do(ctx, newReconnectBackoff(), func(ctx context.Context) error {
		attempts++
		conn, n, err := st.rebuild(ctx)
		if err != nil {
			if ctx.Err() == nil && connLost(err, conn) {
				err = retry.RetryableError(err)
			}
			if conn != nil {
				destroy(conn)
			}
			return err
		}
		st.conn, restaged = conn, n
		return nil
	})
	if err != nil {
		if cerr := context.Cause(ctx); ctx.Err() != nil && cerr != nil {
			err = cerr
		}
		return fmt.Errorf("reconnecting after the database connection was lost (%s): %w", causeText, err)
	}
	if st.reconnectFn != nil {
		st.reconnectFn(ReconnectInfo{Cause: cause, Attempts: attempts, Took: time.Since(start), Restaged: restaged, Count: st.reconnects})
	}
	return nil
}

// rebuild opens a new staging connection, creates the staging tables the stage had and
// replays the spool into them. It returns the connection (also on error, when it has one) and
// the rows it copied.
func (st *Stage) rebuild(ctx context.Context) (*pgxpool.Conn, int64, error) {
	conn, err := st.s.pool.Acquire(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("acquiring staging connection: %w", err)
	}
	// As StageBegin, and a connection lost already is tried again.
	if err := configureStaging(ctx, conn); err != nil && (ctx.Err() != nil || connLost(err, conn)) {
		return conn, 0, fmt.Errorf("configuring staging connection: %w", err)
	}
	st.session = readSession(ctx, conn)
	if st.dryMigrated > 0 { // the dry run's transaction ended with its connection: begun again
		tx, _, err := st.beginDry(ctx, conn)
		if err != nil {
			return conn, 0, err
		}
		st.dryTx = tx
	}
	for _, e := range st.ents {
		if e.created {
			if _, err := conn.Exec(ctx, st.s.ents[e.def.idx].createStaging); err != nil {
				return conn, 0, fmt.Errorf("creating staging table: %w", err)
			}
		}
	}
	var rows int64
	err = st.spool.replay(func(r *spoolRecord) error {
		if r.ent < 0 || r.ent >= len(st.ents) {
			return fmt.Errorf("reading the staging spool: %w", errSpoolCorrupt)
		}
		d := st.ents[r.ent].def
		switch r.kind {
		case spoolRows:
			n, err := conn.CopyFrom(ctx, pgx.Identifier{d.stagingTable()}, d.stageCols(), pgx.CopyFromRows(r.rows))
			if err != nil {
				return fmt.Errorf("restaging %s: copying rows: %w", d.name, copyErrorText(err))
			}
			rows += n
		case spoolDelete:
			if len(r.rows) != 1 {
				return fmt.Errorf("reading the staging spool: %w", errSpoolCorrupt)
			}
			if _, err := conn.Exec(ctx, st.s.ents[d.idx].unstageRow, r.rows[0]...); err != nil {
				return fmt.Errorf("restaging %s: replacing a copy listed twice: %w", d.name, err)
			}
		default:
			return fmt.Errorf("reading the staging spool: %w", errSpoolCorrupt)
		}
		return nil
	})
	return conn, rows, err
}

// readBack reports whether the run's publish committed, after its connection was lost at a
// point where it may have: the run's final record, written in the publish's transaction, is
// res's. A run still recorded running did not commit; one recorded otherwise was closed by
// another run (which took the lock meanwhile) and must not publish. Connection errors are
// retried with backoff, within ctx.
func (st *Stage) readBack(ctx context.Context, res *PublishResult, old session) (bool, error) {
	// The publish's session may outlive its connection (a half-open TCP connection, a COMMIT
	// still running): its outcome is final only once it has ended.
	if err := st.s.sessionEnd(ctx, old); err != nil {
		return false, fmt.Errorf("ending the publish's session: %w", err)
	}
	var status RunStatus
	var errText string
	err := st.s.retryLost(ctx, func(ctx context.Context) error {
		return st.s.pool.QueryRow(ctx, st.s.sql(`SELECT status, coalesce(error, '') FROM {{schema}}.sync_runs WHERE run_id = $1`), st.runID).Scan(&status, &errText)
	})
	switch {
	case err != nil:
		return false, fmt.Errorf("checking run: %w", err)
	case status == RunRunning:
		return false, nil
	case status == res.Status && errText == oneline.Of(res.Error, oneline.Stored):
		return true, nil
	}
	return false, fmt.Errorf("checking run: run %d is not running", st.runID)
}

// session identifies a server session: its backend's pid and start (pids are reused). The
// zero session is unknown.
type session struct {
	pid   uint32
	start time.Time
}

// readSession returns conn's session, or the zero session when it cannot be read.
func readSession(ctx context.Context, conn *pgxpool.Conn) session {
	var s session
	if err := conn.QueryRow(ctx, `SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()`).Scan(&s.pid, &s.start); err != nil {
		return session{}
	}
	return s
}

// errSessionAlive is sessionEnd's retryable state.
var errSessionAlive = errors.New("the session is still running")

// sessionEnd ends session old, if it still runs (a role may end its own sessions), and waits
// until it is gone, with backoff within ctx. An unknown session is taken as ended.
func (s *Store) sessionEnd(ctx context.Context, old session) error {
	if old.pid == 0 {
		return nil
	}
	return s.retryLost(ctx, func(ctx context.Context) error {
		var alive bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2)`, old.pid, old.start).Scan(&alive)
		if err != nil || !alive {
			return err
		}
		// Terminating is asked, not awaited: the next attempt looks again.
		_, _ = s.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2`, old.pid, old.start)
		return retry.RetryableError(errSessionAlive)
	})
}

// retryLost runs fn, a statement on the pool, again with backoff while it meets a lost
// connection (the pool may hold connections a restart ended), within ctx.
func (s *Store) retryLost(ctx context.Context, fn func(ctx context.Context) error) error {
	return retry.Do(ctx, newReconnectBackoff(), func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && ctx.Err() == nil && connLost(err, nil) {
			return retry.RetryableError(err)
		}
		return err
	})
}

// regain makes sure the lock is held after the stage reconnected: a database restart ends the
// lock's session too, and the server drops the lock; a partition may leave the session running
// on the server, holding the lock, with no connection left to release it. A lock whose own
// connection still answers is kept. Otherwise its old session is ended (if the server still
// runs it) and the lock taken again on a new connection, or the run fails with ErrLockLost
// when another session holds it by then (another run may be publishing). A run that took it
// meanwhile and ended has closed this run's row, which the publish then finds not running.
func (l *Lock) regain(ctx context.Context) error {
	l.use.Lock() // one regain at a time (the heartbeat's and the publish's), none beside a beat
	defer l.use.Unlock()
	l.mu.Lock()
	oldConn, old := l.conn, l.sess
	l.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, lockPingTimeout)
	_, perr := oldConn.Exec(pctx, "SELECT 1")
	cancel()
	if perr == nil {
		held, err := l.heldByPID(ctx, l.s.pool, old.pid)
		if err != nil {
			return fmt.Errorf("checking the run lock: %w", err)
		}
		if held {
			return nil
		}
	}
	// The old session may hold the lock still: end it, and wait until it is gone (a session
	// that ends releases its locks first). Its backend's pid alone could be another session's
	// by now, after a restart: another run's that holds the lock.
	if err := l.s.sessionEnd(ctx, old); err != nil {
		return fmt.Errorf("taking the run lock again: ending its old session: %w", err)
	}
	conn, err := l.s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("taking the run lock again: acquiring lock connection: %w", err)
	}
	ok, err := l.take(ctx, conn)
	if err != nil {
		destroy(conn)
		return fmt.Errorf("taking the run lock again: %w", err)
	}
	if !ok {
		destroy(conn)
		return fmt.Errorf("taking the run lock again after the database connection was lost: another session holds it: %w", ErrLockLost)
	}
	destroy(oldConn) // its session is gone
	return nil
}
