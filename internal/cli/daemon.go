package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

// runFunc performs one sync run of a tenant; trigger is "schedule" for the daemon's runs. It
// returns the outcome even with an error where it can (the run id, counters). A run that found
// the advisory lock taken returns status "skipped" and an error: it is retried.
type runFunc func(ctx context.Context, trigger string) (runOutcome, error)

// runOutcome is what the daemon logs and counts of one run.
type runOutcome struct {
	RunID          int64
	Status         db.RunStatus // a run's final status, or outcomeSkipped
	Started        time.Time
	Finished       time.Time
	Rows           map[entity.Name]map[string]int64 // entity -> kind (fetched, inserted, updated, unchanged, deleted, restored) -> n
	APIRequests    int64
	Retries        int64
	RateLimited    int64
	TokenRefreshes int64
	FieldChanges   []db.FieldChange // recorded in api_field_changes
	// Final says that retrying cannot help a failed run: a config error or the credentials
	// rejected.
	Final bool
}

// outcomeSkipped is the outcome of a scheduled run that did not happen because another run
// held the tenant's lock. It is not a run status (no run was recorded): only the daemon's
// metrics and logs carry it.
const outcomeSkipped db.RunStatus = "skipped"

// freshness is how fresh a tenant's synced data is: its least fresh entity, and the run that
// last completed every scope of it (entity_freshness). A zero At means Entity has never been
// complete.
type freshness struct {
	Entity entity.Name
	RunID  int64
	At     time.Time
}

// daemonConfig are the process-wide settings of `syncer run`.
type daemonConfig struct {
	ControlSchema     string        // River's tables (database.control_schema); migrated by the caller
	MaxConcurrentRuns int           // runs in flight on this replica; 0 = 4
	Grace             time.Duration // how long shutdown waits for the canceled runs to return; 0 = 30s
	Listen            string        // address of /healthz, /healthz/data, /readyz, /metrics; "" = no HTTP server
	ReadyStaleness    time.Duration // /healthz/data fails when a tenant's last success is older; 0 = 26h
	DataCheckInterval time.Duration // how old /healthz/data's cached freshness may get before a probe reads it again; 0 = 1m
	FetchPollInterval time.Duration // how often an idle replica polls for jobs; 0 = River's 1s
}

// daemonTenant is one tenant of the daemon: its schedule and how to run and read it.
type daemonTenant struct {
	Job         daemon.Tenant                                // its name, schedule, timeout and retries
	Cron        string                                       // the schedule as configured, for the logs
	Run         runFunc                                      // one run
	LastSuccess func(ctx context.Context) (freshness, error) // its data's freshness; nil = the metric's
}

// runDaemon runs every tenant on its schedule through River, and serves health and metrics
// over HTTP.
type runDaemon struct {
	cfg     daemonConfig
	pool    *pgxpool.Pool
	sched   *daemon.Daemon
	tenants []daemonTenant
	byName  map[string]daemonTenant
	ready   func(ctx context.Context) error // does the database answer
	logger  *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics

	listening chan struct{} // closed when the HTTP listener is bound, or Listen is ""
	boundAddr atomic.Value  // string: the bound HTTP address

	riverReady func(ctx context.Context) error // can River work (its tables answer)
	checks     singleflight.Group              // the database checks of the health endpoints, one in flight each
	fresh      freshCache                      // what /healthz/data serves
}

// newDaemon checks cfg and the tenants, builds the River client on pool (whose control schema
// must be migrated) and registers the metrics on reg (a new registry when nil). /readyz asks
// pool whether the database answers and River whether its tables do.
func newDaemon(cfg daemonConfig, pool *pgxpool.Pool, tenants []daemonTenant, logger *slog.Logger, reg *prometheus.Registry) (*runDaemon, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if cfg.MaxConcurrentRuns <= 0 {
		cfg.MaxConcurrentRuns = 4
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.ReadyStaleness <= 0 {
		cfg.ReadyStaleness = 26 * time.Hour
	}
	if cfg.DataCheckInterval <= 0 {
		cfg.DataCheckInterval = defaultDataCheckInterval
	}
	d := &runDaemon{cfg: cfg, pool: pool, tenants: tenants, byName: map[string]daemonTenant{}, logger: logger, reg: reg,
		listening: make(chan struct{})}
	if pool != nil {
		d.ready = pool.Ping
	}
	var jobs []daemon.Tenant
	var names []string
	for _, t := range tenants {
		if t.Run == nil {
			return nil, fmt.Errorf("creating the daemon: tenant %q has no run function", t.Job.Name)
		}
		d.byName[t.Job.Name] = t
		jobs = append(jobs, t.Job)
		names = append(names, t.Job.Name)
	}
	m, err := newMetrics(reg, names)
	if err != nil {
		return nil, fmt.Errorf("creating the daemon: %w", err)
	}
	d.metrics = m
	if d.sched, err = daemon.New(pool, daemon.Config{
		Schema: cfg.ControlSchema, MaxWorkers: cfg.MaxConcurrentRuns, Tenants: jobs, Run: d.runJob,
		Grace: cfg.Grace, Logger: logger.With("component", "river"), FetchPollInterval: cfg.FetchPollInterval,
		ParseSchedule: parseSpec,
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
func (d *runDaemon) Run(ctx context.Context) error {
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
		d.logger.Info("scheduled", "tenant", t.Job.Name, "cron", t.Cron,
			"next_run", t.Job.Schedule.Next(time.Now()), "run_on_start", t.Job.RunOnStart)
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
		d.logger.Error("the runs in progress did not end within the grace period", "grace_period", d.cfg.Grace.String())
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
func (d *runDaemon) shutdownHTTP(ctx context.Context, srv *http.Server) error {
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
func (d *runDaemon) serve() (*http.Server, <-chan error, error) {
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
	srv := newHTTPServer(d.handler())
	go func() { serveErr <- srv.Serve(ln) }()
	d.logger.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	close(d.listening)
	return srv, serveErr, nil
}

// addr returns the address the HTTP server is bound to ("" before Run binds it or when
// Listen is "").
func (d *runDaemon) addr() string {
	s, _ := d.boundAddr.Load().(string)
	return s
}

// runJob performs one scheduled run of the tenant named name (River's worker calls it under the
// tenant's timeout), logs and counts it, and tells River whether to retry it: a successful run
// completes the job, a partial run or a final failure cancels it, any other failure is
// retried, and so is a run skipped because another run held the lock.
func (d *runDaemon) runJob(ctx context.Context, name string, attempt int) error {
	t := d.byName[name]
	logger := d.logger.With("tenant", name)
	started := time.Now()
	logger.Info("run starting", "trigger", "schedule", "attempt", attempt)
	out, err := d.callRun(ctx, t)
	if out.Started.IsZero() {
		out.Started = started
	}
	if out.Finished.IsZero() {
		out.Finished = time.Now()
	}
	if out.Status == "" {
		out.Status = db.RunSucceeded
		if err != nil {
			out.Status = syncrun.StatusOf(ctx, err)
		}
	}
	d.metrics.observe(name, out)
	d.refreshLastSuccess(ctx, t) // what the run completed, as the database now says

	attrs := []any{
		"run_id", out.RunID, "status", out.Status, "attempt", attempt,
		"duration", out.Finished.Sub(out.Started).Round(time.Millisecond).String(),
		"api_requests", out.APIRequests, "retries", out.Retries, "rate_limited", out.RateLimited,
		"token_refreshes", out.TokenRefreshes,
	}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	if ctx.Err() != nil {
		attrs = append(attrs, "cause", context.Cause(ctx).Error())
	}
	// Whether River runs it again is the daemon's to decide and log ("run to be retried",
	// "run given up"), not this run's.
	jobErr := jobError(out, err)
	attrs = append(attrs, "next_run", t.Job.Schedule.Next(time.Now()))
	switch out.Status {
	case db.RunSucceeded:
		logger.Info("run finished", attrs...)
	case outcomeSkipped:
		logger.Info("run skipped: another process holds the lock", attrs...)
	case db.RunPartial, db.RunCanceled:
		logger.Warn("run finished", attrs...)
	default:
		logger.Error("run finished", attrs...)
	}
	return jobErr
}

// errNoRetry marks the job errors that River is told not to retry.
var errNoRetry = errors.New("not retried")

// jobError is what River is told of a run: nil completes the job (success); a partial run or a
// final failure is not retried (a retry cannot mend it); any other failure, a run canceled by
// shutdown, and a run skipped because another run held the lock (never counted done: its
// holder may be a frozen replica, whose lock dies within database.lock_timeout) are retried.
func jobError(out runOutcome, err error) error {
	switch {
	case out.Status == db.RunSucceeded:
		return nil
	case err == nil:
		err = fmt.Errorf("run %s", out.Status)
	}
	if out.Status == outcomeSkipped {
		// Another process holds the tenant's lock: retried with backoff, not counted as failed.
		return daemon.Busy(err)
	}
	if out.Status == db.RunPartial || out.Final {
		return daemon.NoRetry(fmt.Errorf("%w: %w", errNoRetry, err))
	}
	return err
}

// callRun calls the tenant's run function, turning a panic into an error.
func (d *runDaemon) callRun(ctx context.Context, t daemonTenant) (out runOutcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("run panicked", "tenant", t.Job.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = runOutcome{Status: db.RunFailed}, fmt.Errorf("run panicked: %v", r)
		}
	}()
	return t.Run(ctx, "schedule")
}

// refreshLastSuccess reads the tenant's freshness into what /healthz/data serves, and sets its
// evsync_last_success_timestamp_seconds to it (0 while an entity has never been complete); a
// database that does not answer leaves the metric as it was, and /healthz/data says so.
func (d *runDaemon) refreshLastSuccess(ctx context.Context, t daemonTenant) {
	if t.LastSuccess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	f, err := t.LastSuccess(ctx)
	d.fresh.set(t.Job.Name, freshEntry{f: f, err: err})
	if err != nil {
		d.logger.Warn("reading the last successful run", "tenant", t.Job.Name, "err", err.Error())
		return
	}
	d.metrics.setLastSuccess(t.Job.Name, f.At)
}

// handler serves /healthz, /healthz/data, /readyz and /metrics.
func (d *runDaemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /healthz/data", d.handleData)
	mux.HandleFunc("GET /readyz", d.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	return mux
}

// handleReady answers 200 when the daemon can work: the database answers and River's tables
// do (a control schema dropped under a running daemon leaves River retrying and logging, and
// nothing runs); 503 with a one-line reason naming which failed otherwise. One check is in
// flight however many probes ask. Whether the data is fresh is /healthz/data's.
func (d *runDaemon) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := d.checkReady(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %s\n", oneline.Of(err.Error(), 0))
		return
	}
	_, _ = io.WriteString(w, "ready: the database and River answer\n")
}

// handleData answers 200 when every tenant's synced entities are fresh: each one's last
// complete run (entity_freshness) finished less than ReadyStaleness ago; 503 with a one-line
// reason naming the stale tenant and entity otherwise. It answers from the freshness read at
// start and after each run; when the last read of every tenant is older than
// DataCheckInterval it has them read again first, one check in flight however many probes
// ask, and waits for it up to 5 s.
func (d *runDaemon) handleData(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if d.fresh.due(d.cfg.DataCheckInterval) {
		select {
		case <-d.checkFreshness(ctx):
		case <-ctx.Done(): // answer from what was read before
		}
	}
	notFresh := func(format string, args ...any) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not fresh: "+format+"\n", args...)
	}
	var least freshness
	leastTenant := ""
	for _, t := range d.tenants {
		name := t.Job.Name
		f := freshness{At: d.metrics.lastSuccessTime(name)}
		if t.LastSuccess != nil {
			e, ok := d.fresh.get(name)
			switch {
			case !ok:
				notFresh("%snot read yet: the database has not answered", d.tenantRef(name))
				return
			case e.err != nil:
				notFresh("%sreading the last successful run: %s", d.tenantRef(name), oneline.Of(e.err.Error(), 0))
				return
			}
			f = e.f
		}
		if reason := d.staleReason(f); reason != "" {
			notFresh("%s%s", d.tenantRef(name), reason)
			return
		}
		if leastTenant == "" || f.At.Before(least.At) {
			least, leastTenant = f, name
		}
	}
	age := time.Since(least.At)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "fresh: every synced entity is complete as of %s ago (%s; the least fresh, %s%s, in run%s)\n",
		age.Round(time.Second), least.At.UTC().Format(time.RFC3339), d.tenantRef(leastTenant), least.Entity, runRef(least.RunID))
}

// staleReason says why f is not fresh, or "" when it is.
func (d *runDaemon) staleReason(f freshness) string {
	if f.At.IsZero() {
		if f.Entity != "" {
			return fmt.Sprintf("%s has never been complete (a scope of it has not completed in any run)", f.Entity)
		}
		return "no successful run yet"
	}
	if age := time.Since(f.At); age > d.cfg.ReadyStaleness {
		return fmt.Sprintf("%s is stale: its last complete run%s finished %s ago (%s), more than http.ready_staleness (%s)",
			f.Entity, runRef(f.RunID), age.Round(time.Second), f.At.UTC().Format(time.RFC3339), d.cfg.ReadyStaleness)
	}
	return ""
}

// tenantRef is "tenant acme: " in the messages of a daemon with named tenants, and "" for the
// single tenant of a config without a tenants list.
func (d *runDaemon) tenantRef(name string) string {
	if len(d.tenants) == 1 && name == config.DefaultTenant {
		return ""
	}
	return "tenant " + name + ": "
}

// runRef is " 12" for a known run id, "" otherwise.
func runRef(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf(" %d", id)
}

// finalError reports whether a failed run's error says that retrying cannot help: a config
// error (exit 2) or RingCentral rejecting the credentials.
func finalError(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitUsage || errors.Is(err, tenant.ErrConfig) {
		return true
	}
	return authRejected(err)
}
