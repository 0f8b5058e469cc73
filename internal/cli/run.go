package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

func newRunCmd(a *app) *cobra.Command {
	var noMigrate bool
	cmd := &cobra.Command{
		Use:   "run [--no-migrate]",
		Short: "daemon: sync on schedule.cron, the streams on streams.schedule; serve /healthz, /healthz/data, /readyz and /metrics",
		Args:  noArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, _ []string) error {
			return cmdRun(cmd.Context(), a, noMigrate)
		}),
	}
	cmd.Flags().BoolVar(&noMigrate, "no-migrate", false, "do not apply pending migrations at start")
	return cmd
}

// cmdRun runs the daemon until ctx is done; noMigrate leaves the schemas as they are.
func cmdRun(ctx context.Context, a *app, noMigrate bool) error {
	if err := a.cfg.RequireCredentials(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	logger := a.setupLogger()
	tenants := a.cfg.Tenants()
	// Connecting and migrating at start get the time of a run: a database that does not
	// answer fails the start instead of hanging it.
	octx, cancel := context.WithTimeoutCause(ctx, a.cfg.Schedule.Timeout, fmt.Errorf("starting exceeded schedule.timeout (%s)", a.cfg.Schedule.Timeout))
	defer cancel()
	pool, err := a.openPool(octx, a.cfg.Schedule.MaxConcurrentRuns)
	if err != nil {
		return err
	}
	defer pool.Close()
	// River's control schema is the daemon's alone: run creates it (when missing) and
	// migrates River into it; migrate up only keeps an existing one up to date.
	control := a.cfg.Database.ControlSchema
	if noMigrate {
		ok, err := db.SchemaExists(octx, pool, control)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("the control schema %s (database.control_schema) does not exist: start run without --no-migrate once, "+
				"or create the schema and run 'syncer migrate up'", control)
		}
	} else {
		if err := daemon.Migrate(octx, pool, control); err != nil {
			return err
		}
		if err := tenant.MigrateAll(octx, pool, tenants, nil); err != nil {
			return err
		}
	}
	var dts []daemon.Tenant
	for _, t := range tenants {
		dt, err := a.daemonTenant(pool, t)
		if err != nil {
			return err
		}
		dts = append(dts, dt)
	}
	dcfg := daemonConfigOf(a.cfg)
	dcfg.ParseSchedule, dcfg.DefaultTenant, dcfg.Logger = parseSpec, config.TenantDefault, logger
	dcfg.Build = build()
	d, err := daemon.New(pool, dcfg, dts)
	if err != nil {
		return usageErr("%v", err)
	}
	return d.Run(ctx)
}

// daemonTenant is tenant t as the daemon runs it: its schedule, read in its time zone, its
// runs against its schema on pool, and its freshness.
func (a *app) daemonTenant(pool *pgxpool.Pool, t config.Tenant) (daemon.Tenant, error) {
	store, err := db.NewStore(pool, t.Schema, tenant.StoreOptions(a.cfg)...)
	if err != nil {
		return daemon.Tenant{}, err
	}
	sched, err := t.Schedule.Parse()
	if err != nil {
		return daemon.Tenant{}, usageErr("tenant %s: %v", t.Name, err)
	}
	runs := a.runs()
	logger := runs.TenantLogger(t)
	run := func(ctx context.Context, trigger string) (daemon.Outcome, error) {
		res, err := runs.Sync(ctx, store, runs.ClientConfig(t), t, tenant.Options{Trigger: db.Trigger(trigger), LogProgress: true})
		if errors.Is(err, syncrun.ErrLocked) {
			// Not done: the daemon retries it with backoff (the holder may be a frozen
			// replica, whose lock dies within database.lock_timeout).
			logger.Info("run skipped: another run holds the lock", "schema", t.Schema)
			return daemon.Outcome{Status: daemon.StatusSkipped, Started: time.Now(), Finished: time.Now()},
				fmt.Errorf("another run holds the lock on schema %s: %w", t.Schema, err)
		}
		if tenant.Final(err) {
			err = daemon.NoRetry(err) // a retry with the same credentials or config cannot help
		}
		return outcomeOf(res), err
	}
	entities := t.Sync.Entities
	dt := daemon.Tenant{Name: t.Name, Schedule: sched, Cron: t.Schedule.Cron, Spec: specOf(t.Schedule),
		RunOnStart: t.Schedule.RunOnStart, Timeout: t.Schedule.Timeout, Retries: t.Schedule.Retries,
		LastRun: store.RunLastStarted, Run: run,
		LastSuccess: func(ctx context.Context) (daemon.Freshness, error) { return lastSuccess(ctx, store, entities) },
		Migrated:    func(ctx context.Context) error { return migrated(ctx, pool, t.Schema) },
	}
	if len(t.Streams.Enabled) == 0 {
		return dt, nil // no stream job
	}
	ss := t.StreamsSchedule()
	if dt.StreamsSchedule, err = ss.Parse(); err != nil {
		return daemon.Tenant{}, usageErr("tenant %s: streams.schedule: %v", t.Name, err)
	}
	streams := slices.Clone(t.Streams.Enabled)
	dt.StreamsCron, dt.StreamsSpec, dt.Streams = ss.Cron, specOf(ss), streams
	dt.RunStreams = func(ctx context.Context, trigger string) (daemon.Outcome, error) {
		res, err := runs.Streams(ctx, store, runs.ClientConfig(t), t, tenant.StreamOptions{Trigger: db.Trigger(trigger), LogProgress: true})
		if errors.Is(err, syncrun.ErrLocked) {
			// Done, not failed: other processes read every sub-account's windows (each
			// sub-account is one process's at a time), and the next tick is minutes away.
			now := time.Now()
			return daemon.Outcome{Status: daemon.StatusSkipped, Started: now, Finished: now}, nil
		}
		if tenant.Final(err) {
			err = daemon.NoRetry(err) // as the runs': a stream job is never retried anyway
		}
		return streamOutcomeOf(res), err
	}
	dt.StreamLag = func(ctx context.Context) (map[entity.Name]time.Duration, error) {
		return streamLag(ctx, store, streams)
	}
	return dt, nil
}

// streamLag is a tenant's streams' lag as the daemon exports and checks it: per stream of
// streams (streams.enabled), the worst lag over its sub-accounts, leaving out the
// sub-accounts not entitled to it and those the sub-accounts table holds as deleted (their
// windows are never read again).
func streamLag(ctx context.Context, store *db.Store, streams []entity.Name) (map[entity.Name]time.Duration, error) {
	rows, err := store.StreamStatusGet(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the streams' freshness: %w", err)
	}
	return worstLag(rows, streams), nil
}

// worstLag is streamLag's reading of stream_freshness's rows.
func worstLag(rows []db.StreamStatus, streams []entity.Name) map[entity.Name]time.Duration {
	lags := map[entity.Name]time.Duration{}
	for _, r := range rows {
		if r.HighWater == nil || r.NotEntitled || !r.Live || !slices.Contains(streams, r.Stream) {
			continue
		}
		if l, ok := lags[r.Stream]; !ok || r.Lag > l {
			lags[r.Stream] = r.Lag
		}
	}
	return lags
}

// streamOutcomeOf turns a stream run's result into what the daemon's metrics observe.
func streamOutcomeOf(res *syncrun.StreamResult) daemon.Outcome {
	if res == nil {
		return noResult()
	}
	o := runOutcome(res.RunID, res.Status, res.Started, res.Finished, res.API)
	o.Windows = map[entity.Name]daemon.StreamWindows{}
	for _, sc := range res.Scopes {
		w := o.Windows[sc.Stream]
		w.Read, w.Failed, w.Left = w.Read+int64(sc.Read), w.Failed+int64(sc.Failed), w.Left+int64(sc.Left)
		o.Windows[sc.Stream] = w
	}
	return o
}

// noResult is the daemon.Outcome of a run, an entity run or a stream run, that returned no
// result: failed, started and finished now.
func noResult() daemon.Outcome {
	now := time.Now()
	return daemon.Outcome{Status: daemon.StatusFailed, Started: now, Finished: now}
}

// runOutcome is the daemon.Outcome of a run's result, an entity run's or a stream run's, with
// what both kinds have: its id, status, times and API counters.
func runOutcome(id int64, status db.RunStatus, started, finished time.Time, api engageclient.Stats) daemon.Outcome {
	return daemon.Outcome{
		RunID: id, Status: daemon.Status(status), Started: started, Finished: finished,
		APIRequests: api.Requests, Retries: api.Retries, RateLimited: api.RateLimited,
		TokenRefreshes: api.Refreshes,
	}
}

// migrated is /readyz's check of a tenant's schema: it holds every embedded migration.
func migrated(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if err := db.MigrateCheck(ctx, pool, schema); err != nil {
		return fmt.Errorf("%w: run 'syncer migrate up', or restart run without --no-migrate", err)
	}
	return nil
}

// scheduleSpec is a tenant's schedule as a replica that lacks the tenant reads it
// (daemon.Tenant.Spec), to enqueue its runs when it leads.
type scheduleSpec struct {
	Cron     string `json:"cron"`
	Seconds  bool   `json:"seconds,omitempty"`
	Timezone string `json:"timezone"`
}

// specOf is s as daemon.Tenant.Spec.
func specOf(s config.Schedule) string {
	b, _ := json.Marshal(scheduleSpec{Cron: s.Cron, Seconds: s.Seconds, Timezone: s.Timezone}) // strings and a bool: never fails
	return string(b)
}

// parseSpec reads a daemon.Tenant.Spec (specOf) back into a schedule.
func parseSpec(spec string) (river.PeriodicSchedule, error) {
	var s scheduleSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return nil, fmt.Errorf("reading schedule %q: %w", spec, err)
	}
	return config.Schedule{Cron: s.Cron, Seconds: s.Seconds, Timezone: s.Timezone}.Parse()
}

// outcomeOf turns a run's result into what the daemon's metrics observe.
func outcomeOf(res *syncrun.Result) daemon.Outcome {
	if res == nil {
		return noResult()
	}
	o := runOutcome(res.RunID, res.Status, res.Started, res.Finished, res.API)
	o.Rows = make(map[entity.Name]map[string]int64)
	if !res.DryRun && len(res.FieldChanges) > 0 {
		o.FieldChanges = make(map[entity.Name]map[string]int64)
		for _, c := range res.FieldChanges {
			if o.FieldChanges[c.Entity] == nil {
				o.FieldChanges[c.Entity] = map[string]int64{}
			}
			o.FieldChanges[c.Entity][string(c.Change)]++
		}
	}
	for e, t := range res.Totals() {
		o.Rows[e] = map[string]int64{
			"fetched": t.Fetched, "inserted": t.Inserted, "updated": t.Updated,
			"unchanged": t.Unchanged, "deleted": t.Deleted, "restored": t.Restored,
		}
	}
	return o
}
