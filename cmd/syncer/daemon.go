package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	syncrun "github.com/evsync/evsync/sync"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
)

// runFunc performs one sync run; trigger is "schedule" for the daemon's runs. It returns the
// outcome even with an error where it can (the run id, counters). A run that found the
// advisory lock taken returns status "skipped".
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
}

// outcomeSkipped is the outcome of a scheduled run that did not happen because another run
// held the lock or the previous run of this process was still going. It is not a run status
// (no run was recorded): only the daemon's metrics and logs carry it.
const outcomeSkipped db.RunStatus = "skipped"

// freshness is how fresh the synced data is: its least fresh entity, and the run that last
// completed every scope of it (entity_freshness). A zero At means Entity has never been
// complete.
type freshness struct {
	Entity entity.Name
	RunID  int64
	At     time.Time
}

// daemonConfig are the settings of `syncer run` (Config.daemonConfig builds them).
type daemonConfig struct {
	Cron           string        // robfig/cron spec: 5 fields or a descriptor (@daily, @every 1h)
	Timezone       string        // IANA name the spec is read in; "" = UTC
	Seconds        bool          // the spec has a leading seconds field (6 fields); tests use it
	RunOnStart     bool          // one run right away, through the same overlap guard
	Timeout        time.Duration // per run; 0 = none
	Grace          time.Duration // how long shutdown waits for the canceled run to return; 0 = 30s
	Listen         string        // address of /healthz, /readyz, /metrics; "" = no HTTP server
	ReadyStaleness time.Duration // /readyz fails when the last success is older; 0 = 26h
}

// daemon runs the sync on a cron schedule, skips overlapping runs, and serves health and
// metrics over HTTP.
type daemon struct {
	cfg         daemonConfig
	loc         *time.Location
	schedule    cron.Schedule
	run         runFunc
	ready       func(ctx context.Context) error
	lastSuccess func(ctx context.Context) (freshness, error)
	logger      *slog.Logger
	reg         *prometheus.Registry
	metrics     *metrics

	running atomic.Bool    // a run of this daemon is in flight
	extra   sync.WaitGroup // runs started outside cron's own tracking (run_on_start)

	listening chan struct{} // closed when the HTTP listener is bound, or Listen is ""
	boundAddr atomic.Value  // string: the bound HTTP address
}

// newDaemon checks cfg and registers the metrics on reg (a new registry when nil). ready
// tells whether the database answers; lastSuccess reads the freshness of the synced data from
// the database, the one source of /readyz and evsync_last_success_timestamp_seconds. Either
// may be nil.
func newDaemon(cfg daemonConfig, run runFunc, ready func(ctx context.Context) error, lastSuccess func(ctx context.Context) (freshness, error), logger *slog.Logger, reg *prometheus.Registry) (*daemon, error) {
	if run == nil {
		return nil, errors.New("creating daemon: no run function")
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if cfg.Timezone == "" {
		cfg.Timezone = "UTC"
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.ReadyStaleness <= 0 {
		cfg.ReadyStaleness = 26 * time.Hour
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("creating daemon: negative run timeout %s", cfg.Timeout)
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("loading schedule.timezone %q: %w", cfg.Timezone, err)
	}
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if cfg.Seconds {
		fields |= cron.Second
	}
	sched, err := cron.NewParser(fields).Parse(cfg.Cron)
	if err != nil {
		return nil, fmt.Errorf("parsing schedule.cron %q: %w", cfg.Cron, err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("creating daemon: %w", err)
	}
	return &daemon{
		cfg:         cfg,
		loc:         loc,
		schedule:    sched,
		run:         run,
		ready:       ready,
		lastSuccess: lastSuccess,
		logger:      logger,
		reg:         reg,
		metrics:     m,
		listening:   make(chan struct{}),
	}, nil
}

// Run schedules the runs and serves HTTP until ctx is done, then stops scheduling, cancels
// the run in progress, waits for it up to the grace period and shuts the HTTP server down.
// It returns nil after a clean stop, and an error when the listener cannot be bound, the
// server fails, or the run did not end within the grace period.
func (d *daemon) Run(ctx context.Context) error {
	jobsCtx, cancelJobs := context.WithCancel(ctx)
	defer cancelJobs()

	srv, serveErr, err := d.serve()
	if err != nil {
		return err
	}
	d.seedLastSuccess(ctx)
	c := d.startCron(jobsCtx)

	var errs []error
	select {
	case <-ctx.Done():
		d.logger.Info("stopping", "reason", context.Cause(ctx).Error())
	case err := <-serveErr:
		errs = append(errs, fmt.Errorf("serving http: %w", err))
	}
	if err := d.stopRuns(c, cancelJobs); err != nil {
		errs = append(errs, err)
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down http: %w", err))
		}
	}
	if len(errs) == 0 {
		d.logger.Info("stopped")
	}
	return errors.Join(errs...)
}

// serve binds http.listen and serves the handler on it (no server when Listen is ""), then
// closes d.listening. The channel receives the error the server stops with.
func (d *daemon) serve() (*http.Server, <-chan error, error) {
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
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { serveErr <- srv.Serve(ln) }()
	d.logger.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	close(d.listening)
	return srv, serveErr, nil
}

// startCron starts the scheduler whose jobs run under jobsCtx, and the run on start if
// configured.
func (d *daemon) startCron(jobsCtx context.Context) *cron.Cron {
	cl := cronLogger{d.logger}
	c := cron.New(
		cron.WithLocation(d.loc),
		cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), d.skipIfStillRunning()),
	)
	id := c.Schedule(d.schedule, cron.FuncJob(func() { d.runJob(jobsCtx) }))
	c.Start()
	d.logger.Info("scheduler started", "cron", d.cfg.Cron, "timezone", d.loc.String(),
		"next_run", d.schedule.Next(time.Now().In(d.loc)), "run_on_start", d.cfg.RunOnStart)
	if d.cfg.RunOnStart {
		job := c.Entry(id).WrappedJob // the same chain: a tick during this run is skipped
		d.extra.Add(1)
		go func() {
			defer d.extra.Done()
			job.Run()
		}()
	}
	return c
}

// stopRuns stops scheduling, cancels the run in progress (cancelJobs) and waits for it up to
// the grace period; its error says the run did not end in time.
func (d *daemon) stopRuns(c *cron.Cron, cancelJobs context.CancelFunc) error {
	stopped := c.Stop() // no new runs from here on
	cancelJobs()        // the run in progress sees its context canceled
	done := make(chan struct{})
	go func() {
		<-stopped.Done()
		d.extra.Wait()
		close(done)
	}()
	grace := time.NewTimer(d.cfg.Grace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
		d.logger.Error("the run in progress did not end within the grace period", "grace_period", d.cfg.Grace.String())
		return fmt.Errorf("stopping: the run in progress did not end within shutdown.grace_period (%s)", d.cfg.Grace)
	}
}

// addr returns the address the HTTP server is bound to ("" before Run binds it or when
// Listen is "").
func (d *daemon) addr() string {
	s, _ := d.boundAddr.Load().(string)
	return s
}

// skipIfStillRunning is cron.SkipIfStillRunning, plus a log line that says why and a count in
// evsync_runs_total{status="skipped"}.
func (d *daemon) skipIfStillRunning() cron.JobWrapper {
	return func(j cron.Job) cron.Job {
		return cron.FuncJob(func() {
			if !d.running.CompareAndSwap(false, true) {
				d.logger.Warn("scheduled run skipped: the previous run is still going")
				d.metrics.observe(runOutcome{Status: outcomeSkipped})
				return
			}
			defer d.running.Store(false)
			j.Run()
		})
	}
}

// runJob performs one scheduled run under the per-run timeout, then logs and counts it.
func (d *daemon) runJob(parent context.Context) {
	if parent.Err() != nil {
		return // shutting down
	}
	ctx, cancel := parent, context.CancelFunc(func() {})
	if d.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(parent, d.cfg.Timeout,
			fmt.Errorf("run exceeded schedule.timeout (%s)", d.cfg.Timeout))
	}
	defer cancel()

	started := time.Now()
	d.logger.Info("run starting", "trigger", "schedule")
	out, err := d.callRun(ctx)
	if out.Started.IsZero() {
		out.Started = started
	}
	if out.Finished.IsZero() {
		out.Finished = time.Now()
	}
	if out.Status == "" {
		out.Status = db.RunSucceeded
		if err != nil {
			out.Status = syncrun.StatusOf(parent, err)
		}
	}
	d.metrics.observe(out)
	d.refreshLastSuccess(parent) // what the run completed, as the database now says

	attrs := []any{
		"run_id", out.RunID, "status", out.Status,
		"duration", out.Finished.Sub(out.Started).Round(time.Millisecond).String(),
		"api_requests", out.APIRequests, "retries", out.Retries, "rate_limited", out.RateLimited,
		"token_refreshes", out.TokenRefreshes,
	}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	if ctx.Err() != nil && parent.Err() == nil {
		attrs = append(attrs, "cause", context.Cause(ctx).Error())
	}
	if parent.Err() == nil {
		attrs = append(attrs, "next_run", d.schedule.Next(time.Now().In(d.loc)))
	}
	switch out.Status {
	case db.RunSucceeded:
		d.logger.Info("run finished", attrs...)
	case outcomeSkipped:
		d.logger.Info("run skipped: another process holds the lock", attrs...)
	case db.RunPartial, db.RunCanceled:
		d.logger.Warn("run finished", attrs...)
	default:
		d.logger.Error("run finished", attrs...)
	}
}

// callRun calls the run function, turning a panic into an error.
func (d *daemon) callRun(ctx context.Context) (out runOutcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("run panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = runOutcome{Status: db.RunFailed}, fmt.Errorf("run panicked: %v", r)
		}
	}()
	return d.run(ctx, "schedule")
}

// seedLastSuccess sets evsync_last_success_timestamp_seconds from the database at start, so
// that a restart does not look like a stale sync.
func (d *daemon) seedLastSuccess(ctx context.Context) { d.refreshLastSuccess(ctx) }

// refreshLastSuccess sets evsync_last_success_timestamp_seconds to the freshness the database
// shows (0 while an entity has never been complete); a database that does not answer leaves
// it as it was.
func (d *daemon) refreshLastSuccess(ctx context.Context) {
	if d.lastSuccess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	f, err := d.lastSuccess(ctx)
	if err != nil {
		d.logger.Warn("reading the last successful run", "err", err.Error())
		return
	}
	d.metrics.setLastSuccess(f.At)
}

// handler serves /healthz, /readyz and /metrics.
func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", d.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	return mux
}

// handleReady answers 200 when the database answers and every synced entity is fresh: its
// last complete run (entity_freshness) finished less than ReadyStaleness ago; 503 with a
// one-line reason naming the stale entity otherwise.
func (d *daemon) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	notReady := func(format string, args ...any) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: "+format+"\n", args...)
	}
	if d.ready != nil {
		if err := d.ready(ctx); err != nil {
			notReady("database: %s", oneline.Of(err.Error(), 0))
			return
		}
	}
	f := freshness{At: d.metrics.lastSuccessTime()}
	if d.lastSuccess != nil {
		var err error
		if f, err = d.lastSuccess(ctx); err != nil {
			notReady("reading the last successful run: %s", oneline.Of(err.Error(), 0))
			return
		}
		d.metrics.setLastSuccess(f.At)
	}
	if f.At.IsZero() {
		if f.Entity != "" {
			notReady("%s has never been complete (a scope of it has not completed in any run)", f.Entity)
			return
		}
		notReady("no successful run yet")
		return
	}
	age := time.Since(f.At)
	if age > d.cfg.ReadyStaleness {
		notReady("%s is stale: its last complete run%s finished %s ago (%s), more than http.ready_staleness (%s)",
			f.Entity, runRef(f.RunID), age.Round(time.Second), f.At.UTC().Format(time.RFC3339), d.cfg.ReadyStaleness)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "ready: every synced entity is complete as of %s ago (%s; the least fresh, %s, in run%s)\n",
		age.Round(time.Second), f.At.UTC().Format(time.RFC3339), f.Entity, runRef(f.RunID))
}

// runRef is " 12" for a known run id, "" otherwise.
func runRef(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf(" %d", id)
}

// cronLogger adapts slog to cron.Logger. cron's chatty Info lines (wake, run, schedule) go to
// debug.
type cronLogger struct{ l *slog.Logger }

// Info logs cron's routine messages at debug level.
func (c cronLogger) Info(msg string, keysAndValues ...any) {
	c.l.Debug("cron: "+msg, keysAndValues...)
}

// Error logs cron's errors (a recovered panic) at error level.
func (c cronLogger) Error(err error, msg string, keysAndValues ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err.Error()}, keysAndValues...)...)
}
