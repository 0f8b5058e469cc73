// Package daemon is all of `syncer run`: it runs the tenants' syncs on their schedules
// through River (github.com/riverqueue/river), with Postgres as the only thing replicas share,
// logs and counts every run (the evsync_* metrics), and serves /healthz, /healthz/data,
// /readyz and /metrics.
//
// Call order: Migrate (the control schema's River tables and the replicas' registry, under an
// advisory lock), New (one periodic job per Tenant, registered on every replica; only the
// elected leader enqueues), and Run, which serves HTTP and works the runs until its context
// ends, then stops fetching, cancels the running runs and waits for them up to Config.Grace.
//
// A run is a Tenant's RunFunc: it returns an Outcome (its Status, run id, rows and API
// counters) and an error. Whether it is retried is decided in one place (jobError) from the
// two: a succeeded run completes its job; a StatusSkipped run, or an error matching ErrBusy
// (Busy), is retried without using up a retry; a StatusPartial run, or an error matching
// ErrFinal (NoRetry), is not retried; any other failure is retried Tenant.Retries times.
//
// Contract:
//   - A tenant's job is unique while available, scheduled, running or retryable, so no tenant
//     ever has two runs queued or running across replicas, and a finished run never blocks
//     the next tick. RunOnStart therefore never queues a duplicate when replicas start
//     together; it inserts once per process start (Run), never on a leader election, and
//     only for a tenant without a run since its schedule's latest tick (Tenant.LastRun).
//   - At most Config.MaxConcurrentRuns runs are in flight per replica; each runs under its
//     tenant's Timeout (River's 1-minute default is replaced).
//   - A failed run is retried Tenant.Retries times, spaced to fall before the next tick; a
//     final one cancels the job instead; a busy one (the tenant's lock held by another run) is
//     retried with the same backoff without using up a retry (at most 10 tries).
//   - A job whose replica died is rescued after the longest Timeout plus Config.Grace and
//     runs again without using up a retry (at most 5 times); a job given up, after its
//     retries or its rescues, is logged at warn.
//   - Every replica lists its tenants (name, Spec) in the control schema every 10 s;
//     each one also schedules the tenants of the other live replicas that it lacks, so the
//     leader enqueues a tenant that any live replica has. A replica that fetches a job of a
//     tenant it lacks snoozes it for a replica that has it, or cancels it when none does;
//     both warn naming the tenant and the replica.
//   - A tenant with RunStreams has a second periodic job (StreamsArgs, kind evsync_streams) on
//     its StreamsSchedule, unique per tenant in the same states but retryable (a job an older
//     replica failed, having no worker for the kind, never holds back the next tick), under
//     the same Timeout,
//     registered (StreamsSpec) and left to other replicas the same way. It is never retried: a
//     run that found every sub-account being read elsewhere (StatusSkipped), a partial one and
//     a succeeded one complete the job; a failed one cancels it, and the next tick is its
//     retry. Its outcome counts in the evsync_stream_* metrics (and the API counters), not in
//     the runs'; its lag (Tenant.StreamLag) in evsync_stream_lag_seconds and /healthz/data.
//
// The package knows nothing of what a run does: the CLI gives it each Tenant's RunFunc and
// LastSuccess, and maps the sync's results and errors onto Outcome, ErrBusy and ErrFinal.
package daemon
