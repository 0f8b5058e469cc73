package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/sqlident"
)

// Store is the evsync sink in one schema of one database. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	q       string        // the schema, quoted for SQL text
	cleanup time.Duration // see WithCleanupTimeout
	lockTTL time.Duration // see WithLockTimeout
	ents    []*entitySQL  // by entityDef.idx
}

// CleanupTimeoutDefault is how long the database work that ends a run may take once the run's
// context is done, unless WithCleanupTimeout says otherwise.
const CleanupTimeoutDefault = 10 * time.Second

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithCleanupTimeout bounds each piece of database work that ends a run and must happen even
// when the run's context is done or its deadline passed: recording the run's end (RunFinish,
// and Publish's own on failure), rolling back the publish, releasing the lock. A database that
// stops answering costs each of them this long, after which the connection is closed (which
// ends its session, and so drops the lock). Default CleanupTimeoutDefault.
func WithCleanupTimeout(d time.Duration) StoreOption {
	return func(s *Store) {
		if d > 0 {
			s.cleanup = d
		}
	}
}

// LockTimeoutDefault is how long the server lets a lock's session stay silent before it ends
// the session, and so frees the lock, unless WithLockTimeout says otherwise.
const LockTimeoutDefault = time.Minute

// The lock timeouts CheckLockTimeout accepts. WithLockTimeout raises a shorter one to
// LockTimeoutMin: the heartbeat needs whole seconds. A longer one than LockTimeoutMax keeps the
// schema locked that long after its holder fell silent.
const (
	LockTimeoutMin = time.Second //nolint:revive // Min names the bound (as Max does), not minutes
	LockTimeoutMax = time.Hour
)

// CheckLockTimeout returns nil when d is a lock timeout from LockTimeoutMin to LockTimeoutMax.
// Its error reads after the setting's name ("database.lock_timeout: must ...").
func CheckLockTimeout(d time.Duration) error {
	if d < LockTimeoutMin || d > LockTimeoutMax {
		return fmt.Errorf("must be a duration from %s to %s like %q, got %q",
			oneline.Duration(LockTimeoutMin), oneline.Duration(LockTimeoutMax), oneline.Duration(LockTimeoutDefault), d)
	}
	return nil
}

// WithLockTimeout sets how long the run lock outlives a holder that fell silent (a process
// frozen, or cut off from the database): the lock's session sets idle_session_timeout to d
// (PostgreSQL 14 and later) and TCP keepalives that give up within d, and the holder
// heartbeats on it every d/3. A holder whose heartbeat fails learns that it lost the lock
// (Lock.Lost). Default LockTimeoutDefault; at least LockTimeoutMin.
func WithLockTimeout(d time.Duration) StoreOption {
	return func(s *Store) {
		if d > 0 {
			s.lockTTL = max(d, LockTimeoutMin)
		}
	}
}

// NewStore returns a Store over pool for schema (default SchemaDefault), which must pass
// CheckSchema (the error matches ErrBadSchema).
func NewStore(pool *pgxpool.Pool, schema string, opts ...StoreOption) (*Store, error) {
	schema = cmp.Or(schema, SchemaDefault)
	if err := CheckSchema(schema); err != nil {
		return nil, fmt.Errorf("checking schema name: %w", err)
	}
	s := &Store{pool: pool, schema: schema, q: pgx.Identifier{schema}.Sanitize(), cleanup: CleanupTimeoutDefault,
		lockTTL: LockTimeoutDefault}
	for _, o := range opts {
		o(s)
	}
	for _, d := range entityDefs {
		s.ents = append(s.ents, newEntitySQL(d, s.q))
	}
	return s, nil
}

// cleanupContext is ctx without its cancellation and deadline, bounded by the cleanup timeout
// instead: for the work that ends a run, which must run after the run's context is done.
func (s *Store) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.cleanup)
}

// CheckSchema returns nil when name can hold evsync's tables: see sqlident.CheckSchema. Its
// errors match ErrBadSchema.
func CheckSchema(name string) error { return sqlident.CheckSchema(name) }

// ErrBadSchema is matched by the errors of CheckSchema, the Store methods and the Migrate
// functions when the schema name is not a plain lower-case identifier or names a PostgreSQL
// system schema. It is sqlident.ErrBadSchema.
var ErrBadSchema = sqlident.ErrBadSchema

// ErrLocked is returned by Store.LockTake when another run holds the schema's advisory lock.
var ErrLocked = errors.New("db: another run holds the lock")

// ErrNotFound is returned by Store.RunFinish when the run does not exist.
var ErrNotFound = errors.New("db: not found")

// heldSession is a connection of its own whose session holds advisory locks for as long as
// its holder goes, and dies with its holder: the server ends it once it has been silent for
// the store's lock timeout (WithLockTimeout), and the holder heartbeats on it meanwhile; a
// heartbeat that fails closes lost. The schema's run lock (Lock) and a stream run's hold
// (StreamLock) are one each.
type heldSession struct {
	s *Store

	use  sync.Mutex    // serializes statements on conn: the heartbeat, regain, the holder's
	mu   sync.Mutex    // guards conn, sess and started, which regain replaces
	conn *pgxpool.Conn //
	sess session       // conn's server session (its start is zero when it could not be read)
	// started is the server's pg_postmaster_start_time when conn took the lock: a later one
	// after a failed heartbeat means the server restarted, not that the holder was silent.
	started time.Time

	stopBeat context.CancelFunc // stops the heartbeat (and a heartbeat in flight)
	beatDone chan struct{}      // closed when the heartbeat has returned
	lost     chan struct{}      // closed when a heartbeat failed; lostErr is set before
	lostErr  error

	// recover is called with the error of a heartbeat that failed while the holder goes: it
	// returns nil when it got the session's locks back, else the loss. nil: every failure is
	// the loss.
	recover func(ctx context.Context, err error) error
	// lostError is Err's error, from the failed heartbeat's text.
	lostError func(cause string) error
}

// newHeldSession returns the heldSession of conn (set up by sessionSetupSQL's statement).
func (s *Store) newHeldSession(conn *pgxpool.Conn, lostError func(cause string) error) heldSession {
	return heldSession{s: s, conn: conn, beatDone: make(chan struct{}), lost: make(chan struct{}), lostError: lostError}
}

// sessionSetupSQL is the select list that reads a lock session's identity (its backend's pid
// and start, the server's start time) and sets the session up to die with its holder; its
// values scan into sessionSetup.dest. The settings live as long as the session: its holder
// closes it (destroy) rather than return it to the pool. The keepalives end the session of a
// holder cut off from the server even before PostgreSQL 14, which lacks idle_session_timeout;
// a frozen holder's kernel still answers them, which only idle_session_timeout covers.
func (s *Store) sessionSetupSQL() string {
	ttl := s.lockTTL
	idle, interval := max(int(ttl/3/time.Second), 1), max(int(ttl/6/time.Second), 1)
	return fmt.Sprintf(`pg_backend_pid(),
       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()), pg_postmaster_start_time(),
       CASE WHEN current_setting('server_version_num')::int >= 140000
            THEN set_config('idle_session_timeout', '%d', false) END,
       set_config('tcp_keepalives_idle', '%d', false),
       set_config('tcp_keepalives_interval', '%d', false),
       set_config('tcp_keepalives_count', '3', false)`, ttl.Milliseconds(), idle, interval)
}

// sessionSetup is what sessionSetupSQL reads.
type sessionSetup struct {
	sess    session
	start   *time.Time
	started time.Time
}

// dest is the scan destinations of sessionSetupSQL's values.
func (u *sessionSetup) dest() []any {
	return []any{&u.sess.pid, &u.start, &u.started, nil, nil, nil, nil}
}

// adopt makes conn, the session u read and the server's start time h's.
func (h *heldSession) adopt(conn *pgxpool.Conn, u *sessionSetup) {
	sess := u.sess
	if u.start != nil {
		sess.start = *u.start
	}
	h.mu.Lock()
	h.conn, h.sess, h.started = conn, sess, u.started
	h.mu.Unlock()
}

// startHeartbeat starts the heartbeat, every third of the lock timeout.
func (h *heldSession) startHeartbeat() {
	bctx, cancel := context.WithCancel(context.Background())
	h.stopBeat = cancel
	go h.heartbeat(bctx, h.s.lockTTL/3)
}

// pid is the backend pid of h's session.
func (h *heldSession) pid() uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sess.pid
}

// Lock is a schema's run lock: a session-level advisory lock, held by a connection of its own
// for as long as the run goes. The lock dies with its holder: its session is ended by the
// server once it has been silent for the store's lock timeout (WithLockTimeout), and the
// holder heartbeats on it meanwhile; a heartbeat that fails closes Lost. Its methods are safe
// for concurrent use.
type Lock struct {
	heldSession
	key  int64
	once sync.Once
}

// LockTake takes the per-schema advisory lock (try-lock, on a dedicated connection) or returns
// ErrLocked. The lock's session is set to be ended by the server after the lock timeout of
// silence, and a heartbeat keeps it alive until Release.
func (s *Store) LockTake(ctx context.Context) (*Lock, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring lock connection: %w", err)
	}
	l := &Lock{key: lockKey("run", s.schema)}
	l.heldSession = s.newHeldSession(conn, func(cause string) error { return &lockLostError{schema: s.schema, cause: cause} })
	l.recover = l.recoverRestart
	ok, err := l.take(ctx, conn)
	if err != nil {
		destroy(conn)
		return nil, fmt.Errorf("taking advisory lock: %w", err)
	}
	if !ok {
		destroy(conn) // its session settings are the lock's: the pool must not reuse it
		return nil, ErrLocked
	}
	l.startHeartbeat()
	return l, nil
}

// take tries the lock on conn, a connection of its own, and sets up its session to die with
// its holder (sessionSetupSQL); on success conn, its session and the server's start time
// become the lock's.
func (l *Lock) take(ctx context.Context, conn *pgxpool.Conn) (bool, error) {
	var (
		ok bool
		u  sessionSetup
	)
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1), `+l.s.sessionSetupSQL(), l.key).
		Scan(append([]any{&ok}, u.dest()...)...); err != nil {
		return false, err
	}
	if ok {
		l.adopt(conn, &u)
	}
	return ok, nil
}

// heartbeat runs a trivial statement on the session every interval, each bounded by interval,
// until ctx ends: the server sees a live session, and a session that ended (or stops
// answering) is noticed within two intervals, before the server would free its locks. The
// first failure closes h.lost.
func (h *heldSession) heartbeat(ctx context.Context, interval time.Duration) {
	defer close(h.beatDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := h.beat(ctx, interval)
		if ctx.Err() != nil {
			return // the holder stopped it, mid-statement perhaps: not a loss
		}
		if err != nil {
			h.lostErr = h.lostError(err.Error())
			close(h.lost)
			return
		}
	}
}

// beat runs one heartbeat statement on the session, bounded by interval; a failure is handed
// to recover, when set.
func (h *heldSession) beat(ctx context.Context, interval time.Duration) error {
	h.use.Lock()
	hctx, cancel := context.WithTimeout(ctx, interval)
	_, err := h.conn.Exec(hctx, "SELECT 1")
	cancel()
	h.use.Unlock()
	if err == nil || ctx.Err() != nil || h.recover == nil {
		return err
	}
	return h.recover(ctx, err)
}

// recoverRestart handles a failed heartbeat of the run lock. A session that a server restart
// ended is not a silent holder: the server dropped the lock with every session, so the lock
// is taken again (regain) within the lock timeout, and the run goes on; if another run took
// it meanwhile, or closed this run's row, the run stops or its publish fails. Any other
// failure is the loss of the lock.
func (l *Lock) recoverRestart(ctx context.Context, err error) error {
	rctx, cancel := context.WithTimeout(ctx, l.s.lockTTL)
	defer cancel()
	if !l.serverRestarted(rctx) {
		return err
	}
	if rerr := l.regain(rctx); rerr != nil {
		return fmt.Errorf("%w; after the server restarted: %w", err, rerr)
	}
	return nil
}

// serverRestarted reports whether the server started after the lock was taken, reading its
// start time through the pool, with a lost connection tried again within ctx.
func (l *Lock) serverRestarted(ctx context.Context) bool {
	var now time.Time
	err := l.s.retryLost(ctx, func(ctx context.Context) error {
		return l.s.pool.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&now)
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	return err == nil && now.After(l.started)
}

// stopHeartbeat stops the heartbeat and waits until it has returned; the connection is then
// the holder's alone.
func (h *heldSession) stopHeartbeat() {
	h.stopBeat()
	<-h.beatDone
}

// Lost is closed when the lock's heartbeat failed: its session ended or stopped answering, and
// the server frees (or has freed) the lock. A holder must stop then: another run may hold the
// lock already. Err says why.
func (h *heldSession) Lost() <-chan struct{} { return h.lost }

// Err is nil until Lost is closed, and then an error that matches ErrLockLost and says that
// the advisory lock was lost.
func (h *heldSession) Err() error {
	select {
	case <-h.lost:
		return h.lostErr
	default:
		return nil
	}
}

// lockLostError is the error of a lock whose heartbeat failed.
type lockLostError struct {
	schema string
	cause  string // the heartbeat's error
}

func (e *lockLostError) Error() string {
	return fmt.Sprintf("lost the advisory lock of schema %s: its session stopped answering or ended (heartbeat: %s)", e.schema, e.cause)
}

func (e *lockLostError) Is(target error) bool { return target == ErrLockLost }

// Release stops the heartbeat, unlocks and closes the lock's connection; it is safe to call
// more than once and does not depend on any context. An unlock that fails or does not answer
// within the cleanup timeout changes nothing: closing the connection ends the session, and the
// server drops its lock.
func (l *Lock) Release() {
	l.once.Do(func() {
		l.stopHeartbeat()
		l.use.Lock()
		defer l.use.Unlock()
		uctx, cancel := l.s.cleanupContext(context.Background())
		defer cancel()
		// Unlocked at once when the server answers (the run lock, and the streams key that
		// MigrateDown takes on the session). The session, set up to die when idle, is closed
		// either way, and closing it releases every lock it holds.
		_, _ = l.conn.Exec(uctx, "SELECT pg_advisory_unlock_all()")
		destroy(l.conn)
	})
}

// ErrLockLost is returned by Stage.Publish when the run's lock is no longer held by its
// session (the session ended: terminated, or its connection lost) at the point of commit.
var ErrLockLost = errors.New("db: the run lost its lock (session ended); nothing published")

// checkHeld returns ErrLockLost unless the lock's session still holds it, as seen by q
// (another session: the publish transaction's). The lock's own connection is not used: it may
// be broken, and it belongs to Release.
func (l *Lock) checkHeld(ctx context.Context, q pgx.Tx) error {
	held, err := l.heldBy(ctx, q)
	if err != nil {
		return fmt.Errorf("checking the run lock: %w", err)
	}
	if !held {
		return ErrLockLost
	}
	return nil
}

// querier is a pool, a connection or a transaction.
type querier interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}

// rowsQuerier is a pool, a connection or a transaction, asked for rows too.
type rowsQuerier interface {
	querier
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// heldBy reports whether the lock's session holds it, as seen by q.
func (l *Lock) heldBy(ctx context.Context, q querier) (bool, error) {
	return l.heldByPID(ctx, q, l.pid())
}

// heldByPID reports whether the session of backend pid holds the lock, as seen by q.
func (l *Lock) heldByPID(ctx context.Context, q querier, pid uint32) (bool, error) {
	// pg_locks shows an advisory lock on a bigint key as classid (high 32 bits), objid (low
	// 32 bits) and objsubid 1.
	return advisoryHeld(ctx, q, pid, int64(uint64(l.key)>>32), int64(uint64(l.key)&0xffffffff), 1)
}

// advisoryHeld reports whether the session of backend pid holds the advisory lock that
// pg_locks shows as (classid, objid, objsubid) in the current database, as seen by q.
func advisoryHeld(ctx context.Context, q querier, pid uint32, classid, objid int64, objsubid int) (bool, error) {
	var held bool
	err := q.QueryRow(ctx, `
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND pid = $1 AND objsubid = $4
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid::bigint = $2 AND objid::bigint = $3)`,
		pid, classid, objid, objsubid).Scan(&held)
	return held, err
}

// destroy closes a pooled connection instead of returning it, dropping its session state
// (temporary tables, advisory locks).
func destroy(conn *pgxpool.Conn) {
	c := conn.Hijack()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
	// After a statement whose context ended, pgx closes the connection in the background and
	// first sends the server a cancel request, which a server that stopped answering holds
	// for up to 15 s. Hang up now, so that the server ends the session (dropping its locks
	// and temporary tables) as soon as it can.
	_ = c.PgConn().Conn().Close()
}

// RunLastStarted returns when the schema's latest entity run started, whatever its status;
// the zero time when it never ran. Stream runs (StreamTriggers) do not count: they run on a
// schedule of their own, beside the entity runs.
func (s *Store) RunLastStarted(ctx context.Context) (time.Time, error) {
	var t *time.Time
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT max(started_at) FROM {{schema}}.sync_runs WHERE trigger <> ALL ($1::text[])`),
		StreamTriggers()).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("reading the latest run's start: %w", err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}

// RunCreate records a new run with status RunRunning and returns its id.
func (s *Store) RunCreate(ctx context.Context, trigger Trigger) (runID int64, err error) {
	err = s.pool.QueryRow(ctx, s.sql(`INSERT INTO {{schema}}.sync_runs (trigger, status) VALUES ($1, $2) RETURNING run_id`), trigger, RunRunning).Scan(&runID)
	if err != nil {
		return 0, fmt.Errorf("creating run: %w", err)
	}
	return runID, nil
}

// AbandonedError is the error recorded on a run closed by RunCloseAbandoned.
const AbandonedError = "abandoned"

// RunCloseAbandoned closes the schema's runs still recorded as running as RunFailed with
// error AbandonedError (finished_at set) and returns their ids, oldest first. Call it only
// while holding the schema's lock: no entity run of the schema is in progress then, so a
// running row belongs to a process that died (or to a run that lost its lock, which cannot
// publish). A stream run (StreamTriggers) runs beside the lock: it is closed only when its run
// key is free (StreamRunBegin), its holder's session gone.
// known holds the real errors of runs that ended without recording them (their database was
// away), by run id: such a run's error is "abandoned: <its error>".
func (s *Store) RunCloseAbandoned(ctx context.Context, known map[int64]string) (runIDs []int64, err error) {
	ids, texts := make([]int64, 0, len(known)), make([]string, 0, len(known))
	for id, text := range known {
		ids = append(ids, id)
		texts = append(texts, oneline.Of(AbandonedError+": "+text, oneline.Stored))
	}
	rows, err := s.pool.Query(ctx, s.sql(`
UPDATE {{schema}}.sync_runs SET status = $2, finished_at = clock_timestamp(),
  error = coalesce((SELECT k.error FROM unnest($4::bigint[], $5::text[]) AS k(run_id, error) WHERE k.run_id = sync_runs.run_id), $1)
WHERE status = $3 AND (trigger <> ALL ($6::text[]) OR NOT `+streamRunHeldSQL("$7", "sync_runs.run_id")+`)
RETURNING run_id`), AbandonedError, RunFailed, RunRunning, ids, texts, StreamTriggers(), s.streamRunClass())
	if err != nil {
		return nil, fmt.Errorf("closing abandoned runs: %w", err)
	}
	runIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("closing abandoned runs: %w", err)
	}
	slices.Sort(runIDs)
	return runIDs, nil
}

// Identity names the database and schema the store writes to, the same through any address:
// the cluster's system identifier (when the role may read it), the database and the schema.
func (s *Store) Identity(ctx context.Context) (string, error) {
	var datname string
	if err := s.pool.QueryRow(ctx, `SELECT current_database()`).Scan(&datname); err != nil {
		return "", fmt.Errorf("reading the database's identity: %w", err)
	}
	var sysid int64
	// pg_control_system() may be revoked from the role: the name alone then. Any other error
	// (a connection lost) is returned: a different identity would file a run's error where
	// the next run does not look.
	err := s.pool.QueryRow(ctx, `SELECT system_identifier FROM pg_control_system()`).Scan(&sysid)
	if pe := (*pgconn.PgError)(nil); err != nil && (!errors.As(err, &pe) || pe.Code != "42501") {
		return "", fmt.Errorf("reading the database's identity: %w", err)
	}
	return fmt.Sprintf("%d/%s/%s", sysid, datname, s.schema), nil
}

// RunFinishParams are the final record of a run that did not publish successfully.
type RunFinishParams struct {
	RunID          int64
	Status         RunStatus // any but RunRunning
	Error          string
	APIRequests    int64
	TokenRefreshes int64
	Retries        int64
	RateLimited    int64
}

// RunFinish records the end of a run that never reached a successful publish. A run that is
// already finished (for example by a failed Publish) is left as it is; a run that does not
// exist is ErrNotFound. It runs even when ctx is done (a run that was canceled or timed out is
// recorded so), bounded by the store's cleanup timeout instead (WithCleanupTimeout), within
// which a lost connection is tried again.
func (s *Store) RunFinish(ctx context.Context, p *RunFinishParams) error {
	ctx, cancel := s.cleanupContext(ctx)
	defer cancel()
	if !slices.Contains(RunStatuses(), p.Status) || p.Status == RunRunning {
		return fmt.Errorf("finishing run %d: invalid status %q", p.RunID, p.Status)
	}
	var exists, updated bool
	err := s.retryLost(ctx, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.sql(`
WITH u AS (
  UPDATE {{schema}}.sync_runs SET status = $2, error = NULLIF($3, ''), finished_at = clock_timestamp(),
         api_requests = $4, token_refreshes = $5, retries = $6, rate_limited = $7
  WHERE run_id = $1 AND status = $8
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM {{schema}}.sync_runs WHERE run_id = $1), EXISTS (SELECT 1 FROM u)`),
			p.RunID, p.Status, oneline.Of(p.Error, oneline.Stored), p.APIRequests, p.TokenRefreshes, p.Retries, p.RateLimited, RunRunning).Scan(&exists, &updated)
	})
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", p.RunID, err)
	}
	if !exists {
		return fmt.Errorf("finishing run %d: %w", p.RunID, ErrNotFound)
	}
	return nil
}

// Status is what `syncer status` shows: the latest runs and per-entity freshness.
type Status struct {
	Runs     []RunInfo
	Entities []EntityStatus
}

// RunInfo is one row of sync_runs.
type RunInfo struct {
	RunID          int64
	Trigger        Trigger
	Status         RunStatus
	Error          string
	StartedAt      time.Time
	FinishedAt     *time.Time
	Duration       time.Duration // finished - started, or so far for a running run
	APIRequests    int64
	TokenRefreshes int64
	Retries        int64
	RateLimited    int64
	Fetched        int64
	Inserted       int64
	Updated        int64
	Unchanged      int64
	Deleted        int64
	Restored       int64
}

// EntityStatus is the freshness of one entity table, as the view entity_freshness defines it:
// the run that completed its least fresh current scope (fresh means complete).
type EntityStatus struct {
	Entity           entity.Name
	Live             int64
	Deleted          int64
	LastSuccessRunID int64      // 0 while a current scope of this entity has never been completed
	LastSuccessAt    *time.Time // finish time of that run
	Age              time.Duration
}

// StatusGet returns the lastRuns most recent runs (newest first) and, per entity, live and
// deleted counts and its freshness (entity_freshness).
func (s *Store) StatusGet(ctx context.Context, lastRuns int) (*Status, error) {
	if lastRuns <= 0 {
		lastRuns = 10
	}
	var st Status
	rows, err := s.pool.Query(ctx, s.sql(`
SELECT run_id, trigger, status, coalesce(error, ''), started_at, finished_at,
       coalesce(finished_at, clock_timestamp()) - started_at,
       api_requests, token_refreshes, retries, rate_limited,
       fetched, inserted, updated, unchanged, deleted, restored
FROM {{schema}}.sync_runs ORDER BY run_id DESC LIMIT $1`), lastRuns)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	for rows.Next() {
		var r RunInfo
		if err := rows.Scan(&r.RunID, &r.Trigger, &r.Status, &r.Error, &r.StartedAt, &r.FinishedAt, &r.Duration,
			&r.APIRequests, &r.TokenRefreshes, &r.Retries, &r.RateLimited,
			&r.Fetched, &r.Inserted, &r.Updated, &r.Unchanged, &r.Deleted, &r.Restored); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		st.Runs = append(st.Runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	rows, err = s.pool.Query(ctx, s.sql(`
SELECT entity, live, deleted, coalesce(last_success_run_id, 0), last_success_at,
       coalesce(last_success_age, '0'::interval)
FROM {{schema}}.entity_freshness`))
	if err != nil {
		return nil, fmt.Errorf("reading entity freshness: %w", err)
	}
	byName := map[entity.Name]EntityStatus{}
	for rows.Next() {
		var e EntityStatus
		if err := rows.Scan(&e.Entity, &e.Live, &e.Deleted, &e.LastSuccessRunID, &e.LastSuccessAt, &e.Age); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading entity freshness: %w", err)
		}
		byName[e.Entity] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading entity freshness: %w", err)
	}
	for _, name := range entity.Names() {
		st.Entities = append(st.Entities, byName[name])
	}
	return &st, nil
}
