package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"golang.org/x/sync/singleflight"

	"github.com/evsync/evsync/internal/buildinfo"
	"github.com/evsync/evsync/internal/entity"
)

// Status is how a scheduled run ended, as the daemon logs and counts it
// (evsync_runs_total's status label): a run's final status, or StatusSkipped.
type Status string

// The statuses of a scheduled run.
const (
	StatusSucceeded Status = "succeeded"
	StatusPartial   Status = "partial" // not retried: a retry cannot mend the scopes that failed
	StatusFailed    Status = "failed"
	StatusCanceled  Status = "canceled"
	// StatusSkipped is a run that did not happen because another run held the tenant's lock.
	// It is not a run status (no run was recorded): only the daemon's metrics and logs carry
	// it. The run is retried without using up a retry (Busy).
	StatusSkipped Status = "skipped"
)

// Statuses lists every Status, the values of evsync_runs_total's status label.
func Statuses() []Status {
	return []Status{StatusSucceeded, StatusPartial, StatusFailed, StatusCanceled, StatusSkipped}
}

// RunFunc performs one run of a tenant; trigger is "schedule" for the daemon's runs. It
// returns the outcome even with an error where it can (the run id, counters). Whether the run
// is retried follows from the outcome's Status and the error (see jobError): a run that found
// the tenant's lock held returns StatusSkipped, or an error matching ErrBusy; one that
// retrying cannot mend returns StatusPartial, or an error matching ErrFinal (NoRetry).
type RunFunc func(ctx context.Context, trigger string) (Outcome, error)

// Outcome is what the daemon logs and counts of one run.
type Outcome struct {
	RunID          int64
	Status         Status // "" means succeeded without an error, failed or canceled with one
	Started        time.Time
	Finished       time.Time
	Rows           map[entity.Name]map[string]int64 // entity -> kind (fetched, inserted, updated, unchanged, deleted, restored) -> n
	APIRequests    int64
	Retries        int64
	RateLimited    int64
	TokenRefreshes int64
	FieldChanges   map[entity.Name]map[string]int64 // entity -> change (added, removed, type_changed) -> paths
	// Windows are a stream run's windows, per stream (nil for an entity run).
	Windows map[entity.Name]StreamWindows
}

// StreamWindows counts one stream's windows in a stream run: read and published, whose read
// failed, and due but left for the next run (its deadline, or the sub-account's failures).
type StreamWindows struct {
	Read, Failed, Left int64
}

// WindowResults lists the values of evsync_stream_windows_total's result label, in
// StreamWindows' order.
func WindowResults() []string { return []string{"read", "failed", "left"} }

// Freshness is how fresh a tenant's synced data is: its least fresh entity, and the run that
// last completed every scope of it (entity_freshness). A zero At means Entity has never been
// complete.
type Freshness struct {
	Entity entity.Name
	RunID  int64
	At     time.Time
}

// The defaults of Config's zero fields, and of a tenant's schedule.
const (
	MaxConcurrentRunsDefault = 4
	GraceDefault             = 30 * time.Second
	ReadyStalenessDefault    = 26 * time.Hour
	DataCheckIntervalDefault = time.Minute
	// ControlSchemaDefault is the schema of River's tables.
	ControlSchemaDefault = "evsync"
	// CronDefault, TimezoneDefault, TimeoutDefault and RetriesDefault are a tenant's schedule
	// unless its config says otherwise; RetriesMax bounds its retries.
	CronDefault     = "@daily"
	TimezoneDefault = "UTC"
	TimeoutDefault  = time.Hour
	RetriesDefault  = 2
	RetriesMax      = 10
)

// Config are the process-wide settings of `syncer run`; each tenant's schedule is its own
// (Tenant).
type Config struct {
	ControlSchema     string        // River's tables (database.control_schema); migrated by the caller (Migrate)
	MaxConcurrentRuns int           // runs in flight on this replica; 0 = MaxConcurrentRunsDefault
	Grace             time.Duration // how long shutdown waits for the canceled runs to return; 0 = GraceDefault
	Listen            string        // address of /healthz, /healthz/data, /readyz, /metrics; "" = no HTTP server
	ReadyStaleness    time.Duration // /healthz/data fails when a tenant's last success is older; 0 = ReadyStalenessDefault
	DataCheckInterval time.Duration // how old /healthz/data's cached freshness may get before a probe reads it again; 0 = DataCheckIntervalDefault
	FetchPollInterval time.Duration // how often an idle replica polls for jobs; 0 = River's 1s
	// ParseSchedule reads the Spec of a tenant that another live replica has and this one
	// lacks, so that this replica, when leader, enqueues it; nil leaves such tenants
	// unscheduled here (a warning names them).
	ParseSchedule func(spec string) (river.PeriodicSchedule, error)
	// DefaultTenant is the name of the only tenant of a config that lists none: the health
	// messages of a daemon whose one tenant has it leave the name out.
	DefaultTenant string
	// Logger receives the daemon's logs (nil: none), River's warnings and errors among them.
	Logger *slog.Logger
	// Registry receives the evsync_* metrics and the Go and process collectors, served by
	// /metrics; nil means a new registry.
	Registry *prometheus.Registry
	// Build labels evsync_build_info with the binary's version, VCS revision and Go version
	// (the caller reads it: buildinfo.Read); an empty field is exported as an empty label.
	Build buildinfo.Info
}

// Tenant is one tenant of the daemon: when it runs, for how long, and how to run it and read
// its data's freshness.
type Tenant struct {
	Name string
	// Schedule gives the tenant's run times (a robfig/cron schedule, read in the tenant's
	// time zone: see InZone).
	Schedule river.PeriodicSchedule
	// Cron is the schedule as configured, for the logs.
	Cron string
	// Spec is the schedule as text, for the replicas that lack this tenant: their
	// Config.ParseSchedule reads it back into a Schedule.
	Spec string
	// RunOnStart inserts a run when the daemon starts (once per process, never when a replica
	// becomes leader), unless LastRun shows a run since the schedule's latest tick; the job
	// being unique, replicas starting together queue one.
	RunOnStart bool
	// Timeout bounds one run (its context ends then). It must be positive.
	Timeout time.Duration
	// Retries is how many times a failed run is retried (with backoff, before the next tick).
	Retries int
	// LastRun returns when the tenant's latest run started (zero if it never ran), so that
	// RunOnStart skips a tenant that ran since its schedule's latest tick; nil means unknown
	// (the run on start is inserted).
	LastRun func(ctx context.Context) (time.Time, error)
	// Run performs one run.
	Run RunFunc
	// LastSuccess reads its data's freshness; nil means the metric's, which only the runs of
	// this process move.
	LastSuccess func(ctx context.Context) (Freshness, error)
	// Migrated fails, naming the schema, when the tenant's schema is not at the latest
	// migration its runs need (missing, dropped, or behind): /readyz asks it. nil: not checked.
	Migrated func(ctx context.Context) error

	// RunStreams performs one stream run (the due windows of the tenant's streams; trigger is
	// "streams"); nil means the tenant has no streams, and no stream job. Its runs are apart
	// from Run's, on StreamsSchedule, under Timeout. A run that found every sub-account being
	// read by another process returns StatusSkipped (or an error matching ErrBusy): its job
	// completes, the next tick comes soon. A stream job is never retried: a failed run waits
	// for the next tick, which reads the windows it left.
	RunStreams RunFunc
	// StreamsSchedule, StreamsCron and StreamsSpec are the streams schedule (streams.schedule)
	// as Schedule, Cron and Spec are the runs'; StreamsSchedule is required with RunStreams.
	StreamsSchedule river.PeriodicSchedule
	StreamsCron     string
	StreamsSpec     string
	// Streams are the streams RunStreams reads (streams.enabled): their counters are exported
	// from the start.
	Streams []entity.Name
	// StreamLag reads each enabled stream's lag from the database: the worst over the
	// sub-accounts of now minus its high-water mark (a stream never read lags from its first
	// window), leaving out the sub-accounts not entitled to it and those deleted upstream. It feeds evsync_stream_lag_seconds and /healthz/data
	// (a lag beyond Config.ReadyStaleness is not fresh), read at start, after each stream run
	// of this replica, and when /healthz/data finds its reads older than DataCheckInterval.
	// nil: no lag is exported or checked.
	StreamLag func(ctx context.Context) (map[entity.Name]time.Duration, error)
}

// Daemon runs every tenant on its schedule through River, and serves health and metrics over
// HTTP.
type Daemon struct {
	cfg     Config
	pool    *pgxpool.Pool
	sched   *scheduler
	tenants []Tenant
	byName  map[string]Tenant
	ready   func(ctx context.Context) error // does the database answer
	logger  *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics

	listening chan struct{} // closed when the HTTP listener is bound, or Listen is ""
	boundAddr atomic.Value  // string: the bound HTTP address

	riverReady func(ctx context.Context) error // can River work (this replica's client runs, its tables answer)
	checks     singleflight.Group              // the database checks of the health endpoints, one in flight each
	fresh      freshCache                      // what /healthz/data serves
}

// New checks cfg and the tenants, builds the River client on pool (whose control schema must
// be migrated: Migrate) and registers the metrics on cfg.Registry. /readyz asks pool whether
// the database answers, each tenant whether its schema is migrated (Tenant.Migrated), and
// River whether it runs and its tables answer.
func New(pool *pgxpool.Pool, cfg Config, tenants []Tenant) (*Daemon, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if cfg.MaxConcurrentRuns <= 0 {
		cfg.MaxConcurrentRuns = MaxConcurrentRunsDefault
	}
	if cfg.Grace <= 0 {
		cfg.Grace = GraceDefault
	}
	if cfg.ReadyStaleness <= 0 {
		cfg.ReadyStaleness = ReadyStalenessDefault
	}
	if cfg.DataCheckInterval <= 0 {
		cfg.DataCheckInterval = DataCheckIntervalDefault
	}
	d := &Daemon{cfg: cfg, pool: pool, tenants: tenants, byName: map[string]Tenant{}, logger: logger, reg: reg,
		listening: make(chan struct{})}
	if pool != nil {
		d.ready = pool.Ping
	}
	var names []string
	for _, t := range tenants {
		if t.Run == nil {
			return nil, fmt.Errorf("creating the daemon: tenant %q has no run function", t.Name)
		}
		d.byName[t.Name] = t
		names = append(names, t.Name)
	}
	m, err := newMetrics(reg, names, cfg.Build)
	if err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	for _, t := range tenants {
		if t.RunStreams != nil {
			m.addStreams(t.Name, t.Streams)
		}
	}
	d.metrics = m
	if d.sched, err = newScheduler(pool, schedulerConfig{
		Schema: cfg.ControlSchema, MaxWorkers: cfg.MaxConcurrentRuns, Tenants: tenants, Run: d.jobOf(runsKind), RunStreams: d.jobOf(streamsKind),
		Grace: cfg.Grace, Logger: logger.With("component", "river"), FetchPollInterval: cfg.FetchPollInterval,
		ParseSchedule: cfg.ParseSchedule,
	}); err != nil {
		return nil, err
	}
	d.riverReady = d.sched.Check
	return d, nil
}

// Run serves HTTP and works the tenants' runs until ctx is done, then stops fetching jobs,
// cancels the runs in progress, waits for them up to the grace period and shuts the HTTP
// server down. It returns nil after a clean stop, and an error when the listener cannot be
// bound, the server fails, or a run did not end within the grace period.
func (d *Daemon) Run(ctx context.Context) error {
	srv, serveErr, err := d.serve()
	if err != nil {
		return err
	}
	<-d.checkFreshness(ctx) // a restart does not look like a stale sync
	// The client's lifetime is ours, not ctx's: Stop below cancels the runs and waits.
	if err := d.sched.Start(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(err, d.shutdownHTTP(ctx, srv))
	}
	for _, t := range d.tenants {
		d.logger.Info("scheduled", "tenant", t.Name, "cron", t.Cron,
			"next_run", t.Schedule.Next(time.Now()), "run_on_start", t.RunOnStart)
		if t.RunStreams != nil {
			d.logger.Info("streams scheduled", "tenant", t.Name, "cron", t.StreamsCron,
				"next_run", t.StreamsSchedule.Next(time.Now()), "streams", t.Streams)
		}
	}

	var errs []error
	select {
	case <-ctx.Done():
		d.logger.Info("stopping", "reason", context.Cause(ctx).Error())
	case err := <-serveErr:
		errs = append(errs, fmt.Errorf("serving http: %w", err))
	}
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Grace)
	defer cancel()
	if err := d.sched.Stop(gctx); err != nil {
		d.logger.Error("the runs in progress did not end within the grace period", "grace_period", d.cfg.Grace)
		errs = append(errs, fmt.Errorf("stopping: the runs in progress did not end within shutdown.grace_period (%s)", d.cfg.Grace))
	}
	if err := d.shutdownHTTP(ctx, srv); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		d.logger.Info("stopped")
	}
	return errors.Join(errs...)
}

// shutdownHTTP stops srv (nil: none) within 5 s.
func (d *Daemon) shutdownHTTP(ctx context.Context, srv *http.Server) error {
	if srv == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down http: %w", err)
	}
	return nil
}

// serve binds http.listen and serves the handler on it (no server when Listen is ""), then
// closes d.listening. The channel receives the error the server stops with.
func (d *Daemon) serve() (*http.Server, <-chan error, error) {
	serveErr := make(chan error, 1)
	if d.cfg.Listen == "" {
		close(d.listening)
		return nil, serveErr, nil
	}
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on http.listen %q: %w", d.cfg.Listen, err)
	}
	d.boundAddr.Store(ln.Addr().String())
	srv := newHTTPServer(d.Handler())
	go func() { serveErr <- srv.Serve(ln) }()
	d.logger.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	close(d.listening)
	return srv, serveErr, nil
}

// Listening returns a channel closed once Run has bound the HTTP listener (at once when
// Listen is "").
func (d *Daemon) Listening() <-chan struct{} { return d.listening }

// Addr returns the address the HTTP server is bound to ("" before Run binds it or when
// Listen is "").
func (d *Daemon) Addr() string {
	s, _ := d.boundAddr.Load().(string)
	return s
}

// runJob performs one job of kind k (a run or a stream run) of the tenant named name (River's
// worker calls it under the tenant's timeout), logs and counts it, reads again what the run
// changes (k.refresh), and tells River what to do with the job (k.jobError): for a run, a
// successful run completes the job, a partial run or a final failure cancels it, any other
// failure is retried, and so is a run skipped because another run held the lock; for a
// stream run, see streamJobError.
func (d *Daemon) runJob(ctx context.Context, k jobKind, name string, attempt int) error {
	t := d.byName[name]
	logger := d.logger.With("tenant", name)
	started := time.Now()
	logger.Info(k.run+" starting", "trigger", k.trigger, "attempt", attempt)
	out, err := d.callRun(ctx, t, k.fn(t), k.trigger)
	if out.Started.IsZero() {
		out.Started = started
	}
	if out.Finished.IsZero() {
		out.Finished = time.Now()
	}
	if out.Status == "" {
		out.Status = statusOf(ctx, err)
	}
	k.observe(d.metrics, name, out)
	k.refresh(d, ctx, t) // what the run changed, as the database now says

	attrs := append([]any{
		"run_id", out.RunID, "status", out.Status, "attempt", attempt,
		"duration", out.Finished.Sub(out.Started).Round(time.Millisecond),
	}, k.counters(out)...)
	// A run that has an id logged its own end, its error included ("run ended"); the error is
	// repeated here only for one that never started (the lock taken, a schema not migrated).
	if err != nil && out.RunID == 0 {
		attrs = append(attrs, "err", err.Error())
	}
	if ctx.Err() != nil {
		attrs = append(attrs, "cause", context.Cause(ctx).Error())
	}
	// Whether River runs it again is the daemon's to decide and log ("run to be retried",
	// "run given up"), not this run's.
	attrs = append(attrs, "next_run", k.schedule(t).Next(time.Now()))
	switch out.Status {
	case StatusSucceeded:
		logger.Info(k.run+" finished", attrs...)
	case StatusSkipped:
		logger.Info(k.skipped, attrs...)
	case StatusPartial, StatusCanceled:
		logger.Warn(k.run+" finished", attrs...)
	default:
		logger.Error(k.run+" finished", attrs...)
	}
	return k.jobError(out, err)
}

// jobOf is the jobFunc of the jobs of kind k: runJob.
func (d *Daemon) jobOf(k jobKind) jobFunc {
	return func(ctx context.Context, name string, attempt int) error { return d.runJob(ctx, k, name, attempt) }
}

// statusOf is the status of a run that did not say its own: succeeded without an error;
// skipped when err matches ErrBusy; canceled when shutdown canceled ctx, or when err says the
// run was canceled before ctx ended; failed otherwise (the run's own failure, or its timeout).
func statusOf(ctx context.Context, err error) Status {
	switch {
	case err == nil:
		return StatusSucceeded
	case errors.Is(err, ErrBusy):
		return StatusSkipped
	case errors.Is(ctx.Err(), context.Canceled):
		return StatusCanceled // a stop request
	case ctx.Err() == nil && errors.Is(err, context.Canceled):
		return StatusCanceled // a stop that reached the error before the context
	default:
		return StatusFailed
	}
}

// jobError is the retry rule, the one place that decides what River is told of a run: nil
// completes the job (success); a run skipped because another run held the lock, or whose error
// matches ErrBusy, is retried without using up a retry (never counted done: the lock's holder
// may be a frozen replica, whose lock dies within database.lock_timeout); a partial run, or an
// error matching ErrFinal, is not retried (a retry cannot mend it); any other failure, and a
// run canceled by shutdown, is retried while the tenant's retries last. The worker carries the
// answer out (syncWorker.Work).
func jobError(out Outcome, err error) error {
	switch {
	case out.Status == StatusSucceeded:
		return nil
	case err == nil:
		err = fmt.Errorf("run %s", out.Status)
	}
	if out.Status == StatusSkipped || errors.Is(err, ErrBusy) {
		// Another process holds the tenant's lock: retried with backoff, not counted as failed.
		if errors.Is(err, ErrBusy) {
			return err
		}
		return Busy(err)
	}
	if out.Status == StatusPartial || errors.Is(err, ErrFinal) {
		return NoRetry(fmt.Errorf("%w: %w", ErrFinal, err))
	}
	return err
}

// callRun calls run, one of the tenant's run functions, turning a panic into an error.
func (d *Daemon) callRun(ctx context.Context, t Tenant, run RunFunc, trigger string) (out Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("run panicked", "tenant", t.Name, "trigger", trigger, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = Outcome{Status: StatusFailed}, fmt.Errorf("run panicked: %v", r)
		}
	}()
	return run(ctx, trigger)
}

// refreshLastSuccess reads the tenant's freshness into what /healthz/data serves, and sets its
// evsync_last_success_timestamp_seconds to it (0 while an entity has never been complete); a
// database that does not answer leaves the metric as it was, and /healthz/data says so.
func (d *Daemon) refreshLastSuccess(ctx context.Context, t Tenant) {
	if t.LastSuccess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	f, err := t.LastSuccess(ctx)
	d.fresh.set(t.Name, freshEntry{f: f, err: err})
	if err != nil {
		d.logger.Warn("reading the last successful run", "tenant", t.Name, "err", err.Error())
		return
	}
	d.metrics.setLastSuccess(t.Name, f.At)
}

// refreshStreamLag reads the tenant's stream lag into what /healthz/data serves, and sets its
// evsync_stream_lag_seconds to it; a database that does not answer leaves the metric as it
// was, and /healthz/data says so.
func (d *Daemon) refreshStreamLag(ctx context.Context, t Tenant) {
	if t.StreamLag == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	lags, err := t.StreamLag(ctx)
	now := time.Now()
	if err != nil {
		d.fresh.setStreams(t.Name, streamEntry{err: err})
		d.logger.Warn("reading the streams' lag", "tenant", t.Name, "err", err.Error())
		return
	}
	high := highWaters(lags, now)
	d.fresh.setStreams(t.Name, streamEntry{high: high})
	d.metrics.setStreamLag(t.Name, high)
}

// highWaters turns lags read at now into the high-water marks they stand for, so that a lag
// shown later grows with the time since the read.
func highWaters(lags map[entity.Name]time.Duration, now time.Time) map[entity.Name]time.Time {
	high := make(map[entity.Name]time.Time, len(lags))
	for s, l := range lags {
		high[s] = now.Add(-l)
	}
	return high
}
