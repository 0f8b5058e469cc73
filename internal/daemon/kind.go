package daemon

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
)

// jobKind is one of the two kinds of a tenant's jobs: its runs (SyncArgs) or its stream runs
// (StreamsArgs). It holds all that differs between them, for the daemon that runs and logs a
// job (runJob), the worker that hands it over (tenantWorker) and the registry that schedules
// and leaves to others the jobs of the tenants this replica lacks.
type jobKind struct {
	streams bool   // the stream runs: never retried (tenantWorker.Work), registered by streams_spec
	run     string // one job, for the logs: "run", "stream run"
	trigger string // the trigger the run is called with (sync_runs.trigger)

	fn       func(Tenant) RunFunc                   // the tenant's run function of this kind
	schedule func(Tenant) river.PeriodicSchedule    // the tenant's schedule of this kind
	observe  func(*metrics, string, Outcome)        // counts a run's outcome
	refresh  func(*Daemon, context.Context, Tenant) // reads again what a run changes
	counters func(Outcome) []any                    // the log attributes of a run's own counters
	skipped  string                                 // the log message of a skipped run
	// jobError is what River is told of a run that ended with out and err (nil: done).
	jobError func(out Outcome, err error) error

	what      string                                           // for the registry's logs: "a tenant", "the streams of a tenant"
	lacking   string                                           // for the registry's logs: what this replica lacks
	id        func(tenant string) string                       // the periodic job's id
	insert    func(tenant string) river.PeriodicJobConstructor // its constructor
	has       string                                           // the SQL condition of a registry row that has the jobs ("" for all)
	canceled  string                                           // the log message of a job no live replica has
	gone      string                                           // its error, a format of the tenant (%q)
	leftToOne string                                           // the log message of a job left to the replicas that have it
}

var (
	runsKind = jobKind{
		run: "run", trigger: "schedule",
		fn:       func(t Tenant) RunFunc { return t.Run },
		schedule: func(t Tenant) river.PeriodicSchedule { return t.Schedule },
		observe:  (*metrics).observe, refresh: (*Daemon).refreshLastSuccess,
		counters: func(out Outcome) []any {
			return []any{"api_requests", out.APIRequests, "retries", out.Retries, "rate_limited", out.RateLimited,
				"token_refreshes", out.TokenRefreshes}
		},
		skipped:  "run skipped: another process holds the lock",
		jobError: jobError,

		what: "a tenant", lacking: "a tenant of another replica is not in this replica's config",
		id: periodicID, insert: func(n string) river.PeriodicJobConstructor { return insertFor(Tenant{Name: n}) },
		canceled:  "run canceled: the tenant is in no live replica's config",
		gone:      "tenant %q is in no live replica's config",
		leftToOne: "a run of a tenant not in this replica's config: left to the replicas that have it",
	}
	streamsKind = jobKind{
		streams: true, run: "stream run", trigger: "streams",
		fn:       func(t Tenant) RunFunc { return t.RunStreams },
		schedule: func(t Tenant) river.PeriodicSchedule { return t.StreamsSchedule },
		observe:  (*metrics).observeStreams, refresh: (*Daemon).refreshStreamLag,
		counters: func(out Outcome) []any {
			var read, failed, left int64
			for _, w := range out.Windows {
				read, failed, left = read+w.Read, failed+w.Failed, left+w.Left
			}
			return []any{"windows_read", read, "windows_failed", failed, "windows_left", left,
				"api_requests", out.APIRequests, "rate_limited", out.RateLimited}
		},
		skipped:  "stream run skipped: other processes are reading every sub-account",
		jobError: streamJobError,

		what:    "the streams of a tenant",
		lacking: "the streams of a tenant of another replica are not in this replica's config",
		id:      streamsPeriodicID, insert: insertStreamsFor,
		has:       "streams_spec IS NOT NULL",
		canceled:  "stream run canceled: the tenant's streams are in no live replica's config",
		gone:      "the streams of tenant %q are in no live replica's config",
		leftToOne: "a stream run of a tenant whose streams are not in this replica's config: left to the replicas that have them",
	}
)

// streamJobError is jobError for a stream run: nil (the job is done) when it succeeded, was
// partial (its failed windows are due again at the next tick) or was skipped because other
// processes were reading every sub-account (the next tick comes in minutes); the run's error
// when it failed or was canceled (the worker cancels the job: the next tick is its retry).
func streamJobError(out Outcome, err error) error {
	switch out.Status {
	case StatusSucceeded, StatusSkipped, StatusPartial:
		return nil
	}
	if err == nil {
		err = fmt.Errorf("stream run %s", out.Status)
	}
	return err
}
