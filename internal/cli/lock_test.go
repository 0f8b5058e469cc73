package cli

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// eventually polls cond until it holds; the minute only keeps a broken test from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// riverJob is what a test reads of a tenant's first River job.
type riverJob struct {
	State     string
	Attempt   int
	Errors    int
	LastError string
}

// A scheduled run that finds its tenant's lock held (a manual sync beside the daemon, or a
// replica that froze holding it) is not counted done: River retries it with backoff, the
// attempt recorded in the job, and the retry that finds the lock free runs. Before, the job
// completed at once and the tenant waited for its next tick.
func TestDaemonRetriesARunThatFoundTheLockHeld(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fake := engagefake.New(engagefake.Options{Seed: 89,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 2, Users: 2,
			QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}})
	fake.Start()
	t.Cleanup(fake.Close)
	pool := testPool(t) // River's tables migrated
	if err := db.MigrateUp(ctx, pool, "engage"); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	o := fake.Options()
	cfg.RingCentral.ServerURL, cfg.Engage.ServerURL = fake.URL(), fake.URL()
	cfg.RingCentral.ClientID, cfg.RingCentral.ClientSecret, cfg.RingCentral.JWT = o.ClientID, o.ClientSecret, o.JWT
	cfg.Engage.RequestsPerMinute = 60000
	// Retries come a tenth of the interval apart, doubling: 1 s, 2 s, 4 s, ...
	cfg.Schedule.Cron, cfg.Schedule.RunOnStart, cfg.Schedule.Retries = "@every 10s", true, 5
	a := &app{cfg: cfg, stdout: io.Discard, stderr: io.Discard, logger: testLogger(t)}

	holder, err := dbtest.Store(t, pool, "engage").LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	tn, err := a.daemonTenant(pool, cfg.Tenants()[0])
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	d, err := daemon.New(pool, daemon.Config{ControlSchema: testControlSchema, FetchPollInterval: 100 * time.Millisecond,
		Logger: testLogger(t), Registry: reg}, []daemon.Tenant{tn})
	if err != nil {
		t.Fatal(err)
	}
	stop := startDaemon(t, d)

	job := func() (j riverJob) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT state::text, attempt, coalesce(array_length(errors, 1), 0), coalesce(errors[array_length(errors, 1)]->>'error', '')
FROM `+testControlSchema+`.river_job WHERE args->>'tenant' = $1 ORDER BY id LIMIT 1`, config.DefaultTenant).
			Scan(&j.State, &j.Attempt, &j.Errors, &j.LastError)
		if err != nil && !strings.Contains(err.Error(), "no rows") {
			t.Fatal(err)
		}
		return j
	}
	eventually(t, "a run to find the lock held", func() bool { return counterValue(t, reg, config.DefaultTenant, "skipped") >= 1 })
	eventually(t, "the job to record the attempt", func() bool { return job().Errors >= 1 })
	if j := job(); j.State == "completed" || !strings.Contains(j.LastError, "lock") {
		t.Fatalf("job after a run found the lock held: %+v; want it not completed, its error naming the lock", j)
	}
	holder.Release()
	eventually(t, "a retry to run and complete the job", func() bool { return job().State == "completed" })
	if j := job(); j.Attempt < 2 {
		t.Errorf("job %+v completed at attempt %d, want a retry", j, j.Attempt)
	}
	if n := counterValue(t, reg, config.DefaultTenant, "succeeded"); n < 1 {
		t.Errorf("runs_total{status=succeeded} = %v, want the retry counted", n)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// The lock dies with its holder, for real: a `syncer sync` stopped by SIGSTOP mid-fetch holds
// its tenant's lock for database.lock_timeout at most; another sync then takes the lock and
// succeeds. The stopped one, continued, finds that it lost the lock and fails without
// publishing. Before, the lock stayed with the stopped process (until TCP keepalive gave up,
// hours later) and every other sync exited 4.
func TestE2EFrozenSyncLosesItsLock(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 97})
	e.writeConfig("database:\n  lock_timeout: 2s\nengage:\n  requests_per_minute: 6000\n")
	e.mustRun(0, "migrate")
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 5 * time.Minute})
	frozen := e.command(t.Context(), "sync")
	var out bytes.Buffer
	frozen.Stdout, frozen.Stderr = &out, &out
	if err := frozen.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = frozen.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = frozen.Process.Kill() // SIGKILL ends a stopped process too
		<-exited
	})
	eventually(t, "the first sync to fetch agents", func() bool { return e.fake.Stats().Requests["agents"] > 0 })
	if err := frozen.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	e.fake.ClearFaults()

	deadline := time.Now().Add(2 * time.Minute) // generous: the lock dies 2 s after the stop
	for {
		r := e.run("sync")
		if r.code == 0 {
			break
		}
		if r.code != exitLocked || time.Now().After(deadline) {
			t.Fatalf("sync beside a stopped holder: exit %d, want 4 and then 0\nstderr:\n%s", r.code, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := frozen.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		t.Fatal("the continued sync did not end")
	}
	err := waitErr
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailed || !strings.Contains(out.String(), "lost the advisory lock of schema engage") {
		t.Fatalf("continued sync: %v, want exit 1 saying it lost the advisory lock; output:\n%s", err, out.String())
	}
	// The stopped run's row was closed by the run that took the lock; nothing else was
	// recorded, and the tables are the second run's.
	if n := e.count(`SELECT count(*) FROM engage.sync_runs WHERE (run_id = 1 AND status = 'failed' AND error = 'abandoned')
 OR (run_id = 2 AND status = 'succeeded')`); n != 2 {
		t.Errorf("sync_runs: want run 1 failed/abandoned and run 2 succeeded, and no other")
	}
	if n := e.count(`SELECT count(*) FROM engage.sync_runs`); n != 2 {
		t.Errorf("%d runs recorded, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE last_run_id <> 2`); n != 0 {
		t.Errorf("%d agents published by another run than the second", n)
	}
}
