package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

func cmdRun(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("run", "run [--no-migrate]")
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("run: unexpected argument %q", fs.Arg(0))
	}
	if err := a.cfg.requireCredentials(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	logger := a.setupLogger()
	// Connecting and migrating at start get the time of a run: a database that does not
	// answer fails the start instead of hanging it.
	octx, cancel := context.WithTimeoutCause(ctx, a.cfg.Schedule.Timeout, fmt.Errorf("starting exceeded schedule.timeout (%s)", a.cfg.Schedule.Timeout))
	defer cancel()
	pool, store, err := a.openStore(octx, !*noMigrate)
	if err != nil {
		return err
	}
	defer pool.Close()

	run := func(ctx context.Context, trigger string) (runOutcome, error) {
		res, err := a.syncOnce(ctx, store, a.clientConfig(), syncOptions{Trigger: trigger})
		if errors.Is(err, syncrun.ErrLocked) {
			logger.Info("run skipped: another run holds the lock", "schema", a.cfg.Database.Schema)
			return runOutcome{Status: outcomeSkipped, Started: time.Now(), Finished: time.Now()}, nil
		}
		return outcomeOf(res), err
	}
	last := func(ctx context.Context) (freshness, error) { return lastSuccess(ctx, store, a.cfg.Sync.Entities) }
	d, err := newDaemon(a.cfg.daemonConfig(), run, pool.Ping, last, logger, prometheus.NewRegistry())
	if err != nil {
		return usageErr("%v", err)
	}
	return d.Run(ctx)
}

// outcomeOf turns a run's result into what the daemon's metrics observe.
func outcomeOf(res *syncrun.Result) runOutcome {
	if res == nil {
		now := time.Now()
		return runOutcome{Status: db.RunFailed, Started: now, Finished: now}
	}
	o := runOutcome{
		RunID: res.RunID, Status: res.Status, Started: res.Started, Finished: res.Finished,
		Rows:        make(map[entity.Name]map[string]int64),
		APIRequests: res.API.Requests, Retries: res.API.Retries, RateLimited: res.API.RateLimited,
		TokenRefreshes: res.API.Refreshes,
	}
	for e, t := range res.Totals() {
		o.Rows[e] = map[string]int64{
			"fetched": t.Fetched, "inserted": t.Inserted, "updated": t.Updated,
			"unchanged": t.Unchanged, "deleted": t.Deleted, "restored": t.Restored,
		}
	}
	return o
}
