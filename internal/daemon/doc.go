// Package daemon runs the tenants' syncs on their schedules through River
// (github.com/riverqueue/river), with Postgres as the only thing replicas share.
//
// Call order: Migrate (the control schema's River tables and the replicas' registry, under an
// advisory lock), New (one periodic job per tenant, registered on every replica; only the
// elected leader enqueues), Start, and Stop (stop fetching, cancel the running runs, wait for
// them).
//
// Contract:
//   - A tenant's job is unique while available, scheduled, running or retryable, so no tenant
//     ever has two runs queued or running across replicas, and a finished run never blocks
//     the next tick. RunOnStart therefore never queues a duplicate when replicas start
//     together; it inserts once per process start (Start), never on a leader election, and
//     only for a tenant without a run since its schedule's latest tick (Tenant.LastRun).
//   - At most Config.MaxWorkers runs are in flight per replica; each runs under its tenant's
//     Timeout (River's 1-minute default is replaced).
//   - A RunFunc error is retried Tenant.Retries times, spaced to fall before the next tick;
//     an error wrapped with NoRetry cancels the job instead; one wrapped with Busy (the
//     tenant's lock held by another run) is retried with the same backoff without using up a
//     retry (at most 10 tries); nil completes it.
//   - A job whose replica died is rescued after the longest Timeout plus Config.Grace and
//     runs again without using up a retry (at most 5 times); a job given up, after its
//     retries or its rescues, is logged at warn.
//   - Every replica lists its tenants (name, Spec) in the control schema every Heartbeat;
//     each one also schedules the tenants of the other live replicas that it lacks, so the
//     leader enqueues a tenant that any live replica has. A replica that fetches a job of a
//     tenant it lacks snoozes it for a replica that has it, or cancels it when none does;
//     both warn naming the tenant and the replica.
//
// The package knows nothing of what a run does: cmd/syncer gives it the RunFunc.
package daemon
