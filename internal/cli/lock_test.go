package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

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
	a := &app{cfg: cfg, stdout: io.Discard, stderr: io.Discard, logger: fixture.TestLogger(t)}

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
		Logger: fixture.TestLogger(t), Registry: reg}, []daemon.Tenant{tn})
	if err != nil {
		t.Fatal(err)
	}
	stop := startDaemon(t, d)

	job := func() (j riverJob) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT state::text, attempt, coalesce(array_length(errors, 1), 0), coalesce(errors[array_length(errors, 1)]->>'error', '')
FROM `+testControlSchema+`.river_job WHERE args->>'tenant' = $1 ORDER BY id LIMIT 1`, config.TenantDefault).
			Scan(&j.State, &j.Attempt, &j.Errors, &j.LastError)
		if err != nil && !strings.Contains(err.Error(), "no rows") {
			t.Fatal(err)
		}
		return j
	}
	fixture.Eventually(t, "a run to find the lock held", func() bool { return counterValue(t, reg, config.TenantDefault, "skipped") >= 1 })
	fixture.Eventually(t, "the job to record the attempt", func() bool { return job().Errors >= 1 })
	if j := job(); j.State == "completed" || !strings.Contains(j.LastError, "lock") {
		t.Fatalf("job after a run found the lock held: %+v; want it not completed, its error naming the lock", j)
	}
	holder.Release()
	fixture.Eventually(t, "a retry to run and complete the job", func() bool { return job().State == "completed" })
	if j := job(); j.Attempt < 2 {
		t.Errorf("job %+v completed at attempt %d, want a retry", j, j.Attempt)
	}
	if n := counterValue(t, reg, config.TenantDefault, "succeeded"); n < 1 {
		t.Errorf("runs_total{status=succeeded} = %v, want the retry counted", n)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
