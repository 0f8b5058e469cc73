package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/evsync/evsync/internal/sqlident"
)

// SyncArgs is the job of one run of one tenant. Its only field is the tenant, so that a
// unique job (ByArgs) is unique per tenant.
type SyncArgs struct {
	Tenant string `json:"tenant"`
}

// Kind is the River job kind of a tenant's run.
func (SyncArgs) Kind() string { return "evsync_sync" }

func (a SyncArgs) tenantName() string { return a.Tenant }

// StreamsArgs is the job of one stream run of one tenant (the due windows of its enabled
// streams), on the tenant's streams schedule, apart from its entity runs (SyncArgs). Like
// SyncArgs, its only field is the tenant: unique per tenant.
type StreamsArgs struct {
	Tenant string `json:"tenant"`
}

// Kind is the River job kind of a tenant's stream run.
func (StreamsArgs) Kind() string { return "evsync_streams" }

func (a StreamsArgs) tenantName() string { return a.Tenant }

// tenantArgs is the args of a job of one tenant: SyncArgs or StreamsArgs.
type tenantArgs interface {
	river.JobArgs
	tenantName() string
}

// jobFunc performs one run of tenant; attempt counts the job's tries from 1, leaving out
// those whose replica died (rescued: they did not fail) or found the tenant busy. Its error
// tells the worker what to do with the job, as jobError decides it: nil completes the job, an
// error matching ErrBusy (Busy) is retried without using up a retry, one matching ErrFinal
// (NoRetry) cancels the job, and any other error is a failed run, retried while the tenant's
// Retries last.
type jobFunc func(ctx context.Context, tenant string, attempt int) error

// ErrBusy is matched by the error of a run that did not happen because the tenant was busy
// elsewhere (another process held its lock): see Busy.
var ErrBusy = errors.New("busy")

// ErrFinal is matched by the error of a run that retrying cannot mend (a partial run, a
// config error, the credentials rejected): see NoRetry.
var ErrFinal = errors.New("not retried")

// Busy marks err as a run that did not happen because the tenant was busy elsewhere (another
// process held its lock): the job is retried with the failures' backoff, its error recorded,
// but it does not use up one of the tenant's Retries (it did not fail), at most maxBusy times.
// The result matches ErrBusy and err.
func Busy(err error) error {
	if err == nil {
		return nil
	}
	return &busyError{err: err}
}

// busyError marks a try that found the tenant busy (Busy). River records its text, which
// starts with busyPrefix: that is how pastTries tells such tries from the failed ones.
type busyError struct{ err error }

func (e *busyError) Error() string        { return busyPrefix + e.err.Error() }
func (e *busyError) Unwrap() error        { return e.err }
func (e *busyError) Is(target error) bool { return target == ErrBusy }

// busyPrefix starts the recorded error of a try that found the tenant busy (Busy).
const busyPrefix = "busy: "

// maxBusy is how many tries of one job may find the tenant busy before it is given up (the
// next tick enqueues it again).
const maxBusy = 10

// noRetryError marks an error that ends the job without a retry (NoRetry).
type noRetryError struct{ err error }

func (e *noRetryError) Error() string        { return e.err.Error() }
func (e *noRetryError) Unwrap() error        { return e.err }
func (e *noRetryError) Is(target error) bool { return target == ErrFinal }

// NoRetry marks err as one that retrying cannot mend: the job is canceled, not retried. The
// result reads as err and matches ErrFinal and err.
func NoRetry(err error) error {
	if err == nil {
		return nil
	}
	return &noRetryError{err: err}
}

// schedulerConfig is what newScheduler needs.
type schedulerConfig struct {
	// Schema is the control schema that holds River's tables (database.control_schema).
	Schema string
	// MaxWorkers bounds the runs in flight on this replica (schedule.max_concurrent_runs).
	MaxWorkers int
	// Tenants are the tenants this replica schedules and works. Replicas may differ (a rolling
	// deploy): each lists its tenants in the control schema, and the leader enqueues every
	// tenant of a live replica (see ParseSchedule), worked by a replica that has it.
	Tenants []Tenant
	// Run performs one run.
	Run jobFunc
	// RunStreams performs one stream run of a tenant that has RunStreams (its error completes
	// the job when nil, and cancels it otherwise: a stream job is never retried, its next tick
	// is its retry); nil when no tenant has streams.
	RunStreams jobFunc
	// Grace is how long a run that reached its timeout, or was canceled, has to record its
	// end; a job still running after Timeout + Grace is rescued (its replica is presumed dead).
	Grace time.Duration
	// Logger receives River's own warnings and errors (its routine messages are left out).
	Logger *slog.Logger
	// FetchPollInterval is how often an idle replica looks for jobs besides being notified;
	// 0 means River's default (1 s).
	FetchPollInterval time.Duration
	// ParseSchedule reads the Spec of a tenant that another live replica has and this one
	// lacks, so that this replica, when leader, enqueues it on its schedule; nil leaves such
	// tenants unscheduled here (a warning names them).
	ParseSchedule func(spec string) (river.PeriodicSchedule, error)
	// Heartbeat is how often the replica registers its tenants in the control schema and reads
	// the other replicas'; a replica not heard from for 3 heartbeats is gone. 0 means 10 s.
	Heartbeat time.Duration
}

// scheduler schedules and works the tenants' runs through River.
type scheduler struct {
	client   *river.Client[pgx.Tx]
	tenants  []Tenant
	logger   *slog.Logger
	reg      *registry
	stopBeat context.CancelFunc // ends the heartbeat (nil before Start)
	beating  sync.WaitGroup
	// running says this replica's client runs: set as Start begins (River may work a job
	// before Start returns, and the probes must not say "not running" of a replica running
	// one), cleared when Start fails and as Stop begins (a stopping replica takes no new
	// work). Check fails without it.
	running atomic.Bool
}

// newScheduler checks cfg and builds the River client on pool: one periodic job per tenant, unique per
// tenant while available, scheduled, running or retryable (a completed run never blocks the
// next tick), worked by at most MaxWorkers workers. The control schema must be migrated
// (Migrate).
func newScheduler(pool *pgxpool.Pool, cfg schedulerConfig) (*scheduler, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &syncWorker{run: cfg.Run, tenants: map[string]Tenant{}, logger: logger, kind: runsKind}
	sw := &streamsWorker{run: cfg.RunStreams, tenants: map[string]Tenant{}, logger: logger, kind: streamsKind}
	var maxTimeout time.Duration
	var periodic []*river.PeriodicJob
	for _, t := range cfg.Tenants {
		w.tenants[t.Name] = t
		maxTimeout = max(maxTimeout, t.Timeout)
		// Not River's RunOnStart: it inserts on every leader election. Start inserts instead.
		periodic = append(periodic, river.NewPeriodicJob(t.Schedule, insertFor(t), &river.PeriodicJobOpts{ID: periodicID(t.Name)}))
		if t.RunStreams != nil {
			sw.tenants[t.Name] = t
			periodic = append(periodic, river.NewPeriodicJob(t.StreamsSchedule, insertStreamsFor(t.Name),
				&river.PeriodicJobOpts{ID: streamsPeriodicID(t.Name)}))
		}
	}
	w.rescueAfter = maxTimeout + cfg.Grace
	sw.rescueAfter = w.rescueAfter
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	// Registered on every replica, with or without streams: a replica that lacks a tenant's
	// streams leaves their jobs to one that has them, as it does a tenant's runs.
	if err := river.AddWorkerSafely(workers, sw); err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:            cfg.Schema,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		Workers:           workers,
		PeriodicJobs:      periodic,
		FetchPollInterval: cfg.FetchPollInterval,
		// River's 1-minute default would kill every real run: each worker's Timeout is its
		// tenant's, and the client-wide one covers the longest.
		JobTimeout: maxTimeout,
		// A job whose replica died stays running until rescued; a live one ends by its
		// timeout and records its end within the grace period, so it is never rescued.
		RescueStuckJobsAfter: w.rescueAfter,
		Logger:               slog.New(warnOnly{logger.Handler()}),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	sw.reg = &registry{pool: pool, table: pgx.Identifier{cfg.Schema, registryTable}.Sanitize(), replica: client.ID(),
		interval: cmp.Or(cfg.Heartbeat, heartbeatDefault), tenants: cfg.Tenants, parse: cfg.ParseSchedule,
		periodic: client.PeriodicJobs(), logger: logger, foreign: map[string]string{}, warned: map[string]bool{}}
	w.reg = sw.reg
	return &scheduler{client: client, tenants: cfg.Tenants, logger: logger, reg: w.reg}, nil
}

// checkConfig reports the first problem of cfg.
func checkConfig(cfg schedulerConfig) error {
	switch {
	case cfg.Run == nil:
		return errors.New("no run function")
	case cfg.MaxWorkers < 1:
		return fmt.Errorf("max workers must be at least 1, got %d", cfg.MaxWorkers)
	case len(cfg.Tenants) == 0:
		return errors.New("no tenants")
	case cfg.Grace < 0:
		return fmt.Errorf("negative grace period %s", cfg.Grace)
	}
	if err := sqlident.CheckSchema(cfg.Schema); err != nil {
		return fmt.Errorf("control schema: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range cfg.Tenants {
		switch {
		case t.Name == "":
			return errors.New("a tenant without a name")
		case seen[t.Name]:
			return fmt.Errorf("tenant %q is listed twice", t.Name)
		case t.Schedule == nil:
			return fmt.Errorf("tenant %q has no schedule", t.Name)
		case t.Timeout <= 0:
			return fmt.Errorf("tenant %q: the run timeout must be positive, got %s", t.Name, t.Timeout)
		case t.Retries < 0:
			return fmt.Errorf("tenant %q: negative retries %d", t.Name, t.Retries)
		case t.RunStreams != nil && t.StreamsSchedule == nil:
			return fmt.Errorf("tenant %q has streams but no streams schedule", t.Name)
		case t.RunStreams != nil && cfg.RunStreams == nil:
			return fmt.Errorf("tenant %q has streams but the daemon no stream run function", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// uniqueStates are the states in which a tenant's job blocks another insert for the same
// tenant: every state but the finished ones (completed, cancelled, discarded), so that a
// finished run never blocks the next tick.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// maxRescues is how many times a job is rescued (its replica died running it) before it is
// given up: a run that kills every replica it runs on waits for the next tick.
const maxRescues = 5

// maxAttempts is River's limit on a job's attempts. The worker gives a job up itself, after
// Retries failures or maxRescues rescues, and logs it; River's limit, above both (retries are
// at most 10), only keeps it from discarding a job silently, as its rescuer does at the limit.
const maxAttempts = 100

// insertFor returns the periodic job constructor of t.
func insertFor(t Tenant) river.PeriodicJobConstructor {
	return func() (river.JobArgs, *river.InsertOpts) {
		return SyncArgs{Tenant: t.Name}, &river.InsertOpts{
			MaxAttempts: maxAttempts,
			UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
		}
	}
}

// insertStreamsFor returns the periodic job constructor of tenant's stream runs: unique per
// tenant while available, scheduled or running (streamsUniqueStates), so a stream run that
// outlasts its next tick is not queued twice. Its job is never retried (streamsWorker), so
// River's limit only bounds the rescues.
func insertStreamsFor(tenant string) river.PeriodicJobConstructor {
	return func() (river.JobArgs, *river.InsertOpts) {
		return StreamsArgs{Tenant: tenant}, &river.InsertOpts{
			MaxAttempts: maxAttempts,
			UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: streamsUniqueStates},
		}
	}
}

// streamsUniqueStates are uniqueStates but retryable, the only state River lets a unique job
// leave out. A stream job becomes retryable only when a replica died running it (rescued,
// retried within a second) or when a replica older than the streams fetched it: River,
// which fetches by queue and not by kind, fails the attempt there (no worker for the kind)
// and retries it with its own backoff, growing to hours. Such a job must not hold back the
// next tick's: a tick inserts a new job whatever retryable one waits, and River's scheduler
// discards the retryable one if, once due, another of the tenant's stream jobs is queued or
// running (two stream runs of a tenant in a row are harmless: each reads only the windows
// due then).
var streamsUniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// Start starts fetching and working jobs, and, on the replica elected leader, enqueuing the
// tenants' runs; then it inserts the runs on start (see Tenant.RunOnStart). It returns once
// the client runs; ctx is the client's lifetime (ending it stops the client softly; use Stop
// to cancel the running runs). Call it once.
func (s *scheduler) Start(ctx context.Context) error {
	// The tenants are registered before any job can be fetched: a replica never takes
	// another's tenant for one that no live replica has.
	s.running.Store(true)
	s.reg.beat(ctx)
	if err := s.client.Start(ctx); err != nil {
		s.running.Store(false)
		return fmt.Errorf("starting the daemon: %w", err)
	}
	// The heartbeat ends with the client (ctx) or at Stop: a replica that works no job must
	// not keep its tenants' jobs snoozed for it on the others.
	bctx, cancel := context.WithCancel(ctx)
	s.stopBeat = cancel
	s.beating.Add(1)
	go func() {
		defer s.beating.Done()
		tick := time.NewTicker(s.reg.interval)
		defer tick.Stop()
		for {
			select {
			case <-bctx.Done():
				return
			case <-tick.C:
				s.reg.beat(bctx)
			}
		}
	}()
	for _, t := range s.tenants {
		if t.RunOnStart {
			s.insertStartRun(ctx, t)
		}
	}
	return nil
}

// insertStartRun inserts t's run on start unless t ran since its schedule's latest tick. A
// failure is logged: the tenant then runs at its next tick.
func (s *scheduler) insertStartRun(ctx context.Context, t Tenant) {
	logger := s.logger.With("tenant", t.Name)
	if t.LastRun != nil {
		since := periodStart(t.Schedule, time.Now())
		last, err := t.LastRun(ctx)
		switch {
		case err != nil:
			logger.Warn("reading the last run for run_on_start; running anyway", "err", err.Error())
		case !last.IsZero() && !last.Before(since):
			logger.Info("no run on start: the tenant ran in its current schedule period", "last_run", last, "period_start", since)
			return
		}
	}
	args, opts := insertFor(t)()
	if _, err := s.client.Insert(ctx, args, opts); err != nil {
		logger.Error("inserting the run on start", "err", err.Error())
	}
}

// Stop stops fetching jobs, cancels the running runs and waits until they have returned and
// their jobs are recorded, or ctx ends (the error says so).
func (s *scheduler) Stop(ctx context.Context) error {
	s.running.Store(false) // not ready while stopping: a probe sends no new work here
	if s.stopBeat != nil {
		s.stopBeat()
		s.beating.Wait()
	}
	if err := s.client.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("stopping the daemon: %w", err)
	}
	s.reg.leave(ctx)
	return nil
}

// tenantWorker works the jobs of one kind (SyncArgs or StreamsArgs) by calling run.
type tenantWorker[T tenantArgs] struct {
	river.WorkerDefaults[T]
	run         jobFunc
	tenants     map[string]Tenant // those whose jobs of this kind this replica works
	rescueAfter time.Duration     // River's RescueStuckJobsAfter
	logger      *slog.Logger
	reg         *registry
	// kind is the jobs' kind; a stream run is never retried (a failed one waits for its next
	// tick, a few minutes away, which reads the windows it left), only rescued.
	kind jobKind
}

// syncWorker works SyncArgs jobs: a tenant's runs.
type syncWorker = tenantWorker[SyncArgs]

// streamsWorker works StreamsArgs jobs: a tenant's stream runs.
type streamsWorker = tenantWorker[StreamsArgs]

// Timeout is the tenant's run timeout (schedule.timeout, for its stream runs too).
func (w *tenantWorker[T]) Timeout(job *river.Job[T]) time.Duration {
	if t, ok := w.tenants[job.Args.tenantName()]; ok {
		return t.Timeout
	}
	return 0 // the client's: the longest of any tenant
}

// NextRetry spaces the retries of a tenant's failed run so that they all fall before its next
// tick: a tenth of the tenant's schedule interval, doubling with each attempt, from 1 s to
// 10 min. A job River's rescuer hands back (its replica died mid-run: it was attempted longer
// ago than any live run lasts) did not fail; it runs again at once, on any replica.
func (w *tenantWorker[T]) NextRetry(job *river.Job[T]) time.Time {
	now := time.Now()
	if job.AttemptedAt != nil && now.Sub(*job.AttemptedAt) >= w.rescueAfter {
		return now.Add(time.Second)
	}
	t, ok := w.tenants[job.Args.tenantName()]
	if !ok {
		return now.Add(time.Minute)
	}
	return now.Add(retryDelay(w.kind.schedule(t), now, job.Attempt))
}

// retryDelay is the wait before the retry that follows attempt (counted from 1).
func retryDelay(s river.PeriodicSchedule, now time.Time, attempt int) time.Duration {
	next := s.Next(now)
	interval := s.Next(next).Sub(next)
	d := interval / 10
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(max(d, time.Second), 10*time.Minute)
}

// Work runs the job's tenant. A tenant this replica does not know (a config that differs
// between replicas) is left to a replica that has it (snoozed), or canceled when no live
// replica has it; so is a stream job of a tenant whose streams this replica lacks.
//
// Only failed tries count against the tenant's Retries: a try whose replica died (River's
// rescuer recorded it) runs again without using one up, at most maxRescues times. A job given
// up is canceled with a warning. A stream job is never retried: run's error cancels it (River
// records the error), nil completes it.
func (w *tenantWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	t, ok := w.tenants[job.Args.tenantName()]
	if !ok {
		return w.reg.leaveToOthers(ctx, job.Args.tenantName(), w.kind)
	}
	failed, rescued, busy := pastTries(job.JobRow)
	logger := w.logger.With("tenant", t.Name, "job_id", job.ID)
	what := w.kind.run
	if w.kind.streams {
		logger = logger.With("kind", job.Args.Kind())
	}
	if n := len(job.Errors); n > 0 && job.Errors[n-1].Error == rescuedError {
		if rescued > maxRescues {
			logger.Warn(what+" given up: the replicas running it died", "rescues", rescued, "failed_attempts", failed)
			return river.JobCancel(fmt.Errorf("given up: the replicas running it died %d times", rescued))
		}
		logger.Warn(what+" rescued: the replica running it died; running it again", "rescues", rescued,
			"died_on", lastOf(job.AttemptedBy), "failed_attempts", failed)
	}
	err := w.run(ctx, t.Name, failed+1)
	if w.kind.streams {
		if err != nil {
			return river.JobCancel(err) // the next tick is its retry; runJob logged it
		}
		return nil
	}
	if errors.Is(err, ErrFinal) {
		return river.JobCancel(err)
	}
	// A run canceled by Stop (not by its timeout) did not fail: River hands the job back.
	stopped := errors.Is(ctx.Err(), context.Canceled)
	if errors.Is(err, ErrBusy) {
		be := (*busyError)(nil)
		if !errors.As(err, &be) {
			be = &busyError{err: err} // the text River records must say busy (pastTries)
		}
		if busy+1 >= maxBusy {
			logger.Warn("run given up: the tenant stayed busy elsewhere", "busy_attempts", busy+1, "err", err.Error())
			return river.JobCancel(err)
		}
		// Retried with backoff, not counted as a failure: River records be's text, which
		// pastTries reads, whatever wrapped it.
		logger.Info("run to be retried: the tenant is busy elsewhere", "busy_attempts", busy+1)
		return be
	}
	if err != nil && failed+1 > t.Retries && !stopped {
		logger.Warn("run given up: no retry left", "failed_attempts", failed+1, "retries", t.Retries, "err", err.Error())
		return river.JobCancel(err)
	}
	if err != nil && !stopped {
		logger.Info("run to be retried", "failed_attempts", failed+1, "retries", t.Retries)
	}
	return err
}

// pastTries counts the job's earlier tries that failed, those whose replica died (River's
// rescuer recorded rescuedError for them) and those that found the tenant busy (Busy).
func pastTries(job *rivertype.JobRow) (failed, rescued, busy int) {
	for _, e := range job.Errors {
		switch {
		case e.Error == rescuedError:
			rescued++
		case strings.HasPrefix(e.Error, busyPrefix):
			busy++
		default:
			failed++
		}
	}
	return failed, rescued, busy
}

// lastOf is the last element of s, or "".
func lastOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// warnOnly passes on River's warnings and errors and drops its routine messages.
type warnOnly struct{ slog.Handler }

// Enabled reports whether level is at least warn and enabled by the wrapped handler.
func (h warnOnly) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

// WithAttrs keeps the filter on the derived handler.
func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on the derived handler.
func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }

// InZone returns s read in loc: robfig/cron reads its fields in the location of the time it is
// given, and River gives it the current time in UTC.
func InZone(s river.PeriodicSchedule, loc *time.Location) river.PeriodicSchedule {
	return zoned{s: s, loc: loc}
}

// Every returns a schedule that fires at every multiple of d (counted from Go's zero time, so
// that "every 6h" fires at midnight UTC and every 6 hours after): unlike robfig/cron's
// @every, which counts from the time it is given, its times do not depend on when a replica
// became leader, and every replica agrees on them. d must be positive.
func Every(d time.Duration) river.PeriodicSchedule { return everyInterval(d) }

type everyInterval time.Duration

// Next is the first multiple of the interval after t.
func (e everyInterval) Next(t time.Time) time.Time {
	return t.Truncate(time.Duration(e)).Add(time.Duration(e))
}

type zoned struct {
	s   river.PeriodicSchedule
	loc *time.Location
}

// Next is the schedule's next time after t, read in the zone.
func (z zoned) Next(t time.Time) time.Time { return z.s.Next(t.In(z.loc)) }

// Migrate creates the control schema if it is missing and applies River's migrations to it with
// rivermigrate, then creates the replicas' registry table, under an advisory lock of its own
// so that replicas starting together on a fresh database migrate one after the other.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if err := sqlident.CheckSchema(schema); err != nil {
		return fmt.Errorf("migrating the control schema: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrating the control schema %s: %w", schema, err)
	}
	defer conn.Release()
	key := migrateLockKey(schema)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("migrating the control schema %s: taking its lock: %w", schema, err)
	}
	defer func() {
		// A lock that cannot be released here is released with the session: close it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			_ = conn.Conn().Close(uctx) // the pool drops a closed connection; nothing to add
		}
	}()
	// Only when missing: a role that owns the schema but may not create schemas is enough.
	if err := schemaCreate(ctx, conn, schema); err != nil {
		return fmt.Errorf("migrating the control schema %s: %w", schema, err) // err says "creating schema ..."
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("migrating the control schema %s: %w", schema, err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating the control schema %s: %w", schema, err)
	}
	if err := createRegistry(ctx, conn, schema); err != nil {
		return fmt.Errorf("migrating the control schema %s: %w", schema, err)
	}
	return nil
}

// schemaCreate creates schema when it does not exist. It looks in the catalog first:
// PostgreSQL checks CREATE SCHEMA IF NOT EXISTS against the database's CREATE privilege even
// when the schema exists, which would refuse a role that owns its schema but may not create
// schemas. The caller holds the migration lock (migrateLockKey) on conn, so no other replica
// creates it in between.
func schemaCreate(ctx context.Context, conn *pgxpool.Conn, schema string) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return fmt.Errorf("looking up schema %s: %w", schema, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("creating schema %s: %w", schema, err)
	}
	return nil
}

// migrateLockKey is the advisory lock key of migrating schema's River tables.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("evsync.rivermigrate." + schema)) // a hash's Write never fails
	return int64(h.Sum64())                                 //nolint:gosec // a lock key: any 64 bits will do
}

// rescuedError is the error River's rescuer records in a job it hands back because the
// replica running it stopped answering.
const rescuedError = "Stuck job rescued by JobRescuer"

// periodStart is the latest time of s at or before now: the start of now's schedule period.
// It is the zero time when s has no time within the last 10 years.
func periodStart(s river.PeriodicSchedule, now time.Time) time.Time {
	for back := time.Second; back <= 10*366*24*time.Hour; back *= 2 {
		t := s.Next(now.Add(-back))
		if t.IsZero() {
			return time.Time{} // robfig/cron: no time within 5 years
		}
		if t.After(now) {
			continue
		}
		// back is less than twice the gap before now's period: few ticks to walk.
		for {
			n := s.Next(t)
			if n.After(now) || !n.After(t) {
				return t
			}
			t = n
		}
	}
	return time.Time{}
}
