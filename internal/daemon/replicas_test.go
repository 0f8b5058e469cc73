package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

// logBuffer is a slog destination that tests read while the daemon writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every 50 ms until it holds or d has passed, and reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// plantDeadJob inserts tenant t's job as the periodic job would, then makes it look like a
// run whose replica died during attempt: running, attempted an hour ago by a replica that no
// longer exists, with failed earlier attempts (errors) recorded as River records them.
func plantDeadJob(t *testing.T, pool *pgxpool.Pool, tn Tenant, attempt int, failures []string) int64 {
	t.Helper()
	ctx := context.Background()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: controlSchema})
	if err != nil {
		t.Fatal(err)
	}
	args, opts := insertFor(tn)()
	res, err := client.Insert(ctx, args, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
UPDATE evsync.river_job SET state = 'running', attempt = $2, attempted_at = now() - interval '1 hour',
  attempted_by = ARRAY['dead-replica'],
  errors = (SELECT array_agg(jsonb_build_object('at', now() - interval '2 hours', 'attempt', n, 'error', e, 'trace', ''))
            FROM unnest($3::text[]) WITH ORDINALITY AS f(e, n))
WHERE id = $1`, res.Job.ID, attempt, failures); err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// jobState is the state of the job id.
func jobState(t *testing.T, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), "SELECT state FROM evsync.river_job WHERE id = $1", id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRescuedJobRunsAgain: a job whose replica died mid-run is rescued and run again, even
// with schedule.retries 0 and when the death hit the last attempt; the rescue does not use up
// a failure's retry.
func TestRescuedJobRunsAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's rescuer: skipped with -short")
	}
	t.Parallel()
	for _, tt := range []struct {
		name        string
		retries     int
		attempt     int      // the attempt the replica died in
		failures    []string // the errors of the attempts before it
		wantAttempt int      // the attempt the re-run is given
	}{
		{"retries 0, died in attempt 1", 0, 1, nil, 1},
		{"died in the last attempt", 1, 2, []string{"API down"}, 2},
		{"rescued twice before", 0, 3, []string{rescuedError, rescuedError}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t)
			pool := openPool(t, url)
			if err := Migrate(context.Background(), pool, controlSchema); err != nil {
				t.Fatal(err)
			}
			tn := Tenant{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Second, Retries: tt.retries}
			id := plantDeadJob(t, pool, tn, tt.attempt, tt.failures)
			attempts := make(chan int, 10)
			logs := &logBuffer{}
			startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Tenants: []Tenant{tn}, Grace: time.Second,
				FetchPollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
				Run: func(_ context.Context, _ string, attempt int) error { attempts <- attempt; return nil }})
			// River's rescuer looks for stuck jobs when its replica becomes leader, then
			// every 30 s.
			var got int
			if !waitFor(40*time.Second, func() bool {
				select {
				case got = <-attempts:
					return true
				default:
					s := jobState(t, pool, id)
					return s == "discarded" || s == "cancelled"
				}
			}) || got == 0 {
				t.Fatalf("the rescued job did not run again; it is %s", jobState(t, pool, id))
			}
			if got != tt.wantAttempt {
				t.Errorf("the rescued run was given attempt %d, want %d (a rescue is not a failure)", got, tt.wantAttempt)
			}
			if !waitFor(10*time.Second, func() bool { return jobState(t, pool, id) == "completed" }) {
				t.Errorf("the rescued job is %s, want completed", jobState(t, pool, id))
			}
			if !strings.Contains(logs.String(), `"msg":"run rescued`) || !strings.Contains(logs.String(), `"tenant":"acme"`) {
				t.Errorf("no warning of the rescue in the log:\n%s", logs)
			}
		})
	}
}

// TestGivingUpIsLoggedAtWarn: a run that failed with no retry left ends its job with a
// warning that names the tenant, the failures and the error; rescues before it used no retry.
func TestGivingUpIsLoggedAtWarn(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	if err := Migrate(context.Background(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	tn := Tenant{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Second, Retries: 0}
	id := plantDeadJob(t, pool, tn, 2, []string{rescuedError})
	attempts := make(chan int, 10)
	logs := &logBuffer{}
	startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Tenants: []Tenant{tn}, Grace: time.Second,
		FetchPollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Run: func(_ context.Context, _ string, attempt int) error {
			attempts <- attempt
			return errors.New("API down")
		}})
	// The rescues used no retry: the job runs as attempt 1, fails, and is given up.
	select {
	case a := <-attempts:
		if a != 1 {
			t.Errorf("the rescued job ran as attempt %d, want 1", a)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("the rescued job did not run within 40 s; it is %s", jobState(t, pool, id))
	}
	if !waitFor(10*time.Second, func() bool { s := jobState(t, pool, id); return s == "cancelled" || s == "discarded" }) {
		t.Fatalf("the job is %s after its last retry failed, want it given up", jobState(t, pool, id))
	}
	select {
	case a := <-attempts:
		t.Errorf("attempt %d ran after the retries were used up", a)
	default:
	}
	var warn string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "given up") {
			warn = l
		}
	}
	if !strings.Contains(warn, `"tenant":"acme"`) || !strings.Contains(warn, `"failed_attempts":1`) || !strings.Contains(warn, "API down") {
		t.Errorf("no warning naming the tenant, its 1 failure and the error when the job was given up; log:\n%s", logs)
	}
}

// leaderID is the id of the River client that leads, or "" while none does.
func leaderID(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var id string
	err := pool.QueryRow(context.Background(), "SELECT leader_id FROM evsync.river_leader").Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return id
}

// TestRunOnStartOncePerProcess: run_on_start inserts a run when a process starts, not when a
// replica becomes leader; and a replica that starts after the tenant's run in its current
// period inserts none.
func TestRunOnStartOncePerProcess(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	rec := &recorder{}
	lastRun := func(context.Context) (time.Time, error) {
		runs := rec.of("acme")
		if len(runs) == 0 {
			return time.Time{}, nil
		}
		return runs[len(runs)-1].start, nil
	}
	cfg := func(replica int) schedulerConfig {
		return schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Grace: time.Second, FetchPollInterval: 100 * time.Millisecond,
			Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), RunOnStart: true, Timeout: time.Minute, LastRun: lastRun}},
			Run: func(_ context.Context, tenant string, attempt int) error {
				rec.add(interval{tenant: tenant, attempt: attempt, start: time.Now(), end: time.Now(), replica: replica})
				return nil
			}}
	}
	a := startReplica(t, url, cfg(0))
	if !waitFor(20*time.Second, func() bool { return len(rec.of("acme")) == 1 && leaderID(t, pool) == a.client.ID() }) {
		t.Fatalf("replica a: %d runs, leader %q; want its run on start, and it the leader", len(rec.of("acme")), leaderID(t, pool))
	}
	b := startReplica(t, url, cfg(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !waitFor(40*time.Second, func() bool { return leaderID(t, pool) == b.client.ID() }) {
		t.Fatalf("replica b did not become leader; the leader is %q", leaderID(t, pool))
	}
	// A new leader inserts what it inserts at once, and the run would start within the fetch
	// poll interval.
	time.Sleep(3 * time.Second)
	if runs := rec.of("acme"); len(runs) != 1 {
		t.Errorf("acme ran %d times, want once: the new leader or the second process queued a run", len(runs))
	}
}

// TestRunOnStartSkipsATenantThatRanThisPeriod: run_on_start inserts a run only for a tenant
// without a run since its schedule's latest tick.
func TestRunOnStartSkipsATenantThatRanThisPeriod(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	rec := &recorder{}
	at := func(ts time.Time) func(context.Context) (time.Time, error) {
		return func(context.Context) (time.Time, error) { return ts, nil }
	}
	now := time.Now()
	var tenants []Tenant
	for name, last := range map[string]time.Time{"fresh": now, "stale": now.Add(-49 * time.Hour), "never": {}} {
		tenants = append(tenants, Tenant{Name: name, Schedule: every(t, "@daily"), RunOnStart: true, Timeout: time.Minute, LastRun: at(last)})
	}
	startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 3, Grace: time.Second, FetchPollInterval: 100 * time.Millisecond,
		Tenants: tenants, Run: func(_ context.Context, tenant string, attempt int) error {
			rec.add(interval{tenant: tenant, attempt: attempt, start: time.Now(), end: time.Now()})
			return nil
		}})
	if !waitFor(20*time.Second, func() bool { return len(rec.of("stale")) == 1 && len(rec.of("never")) == 1 }) {
		t.Fatalf("stale ran %d times, never %d times; want once each", len(rec.of("stale")), len(rec.of("never")))
	}
	time.Sleep(2 * time.Second) // the three jobs were inserted together
	if n := len(rec.of("fresh")); n != 0 {
		t.Errorf("fresh, which ran in its current period, ran %d times on start", n)
	}
}

func TestPeriodStart(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, tt := range []struct {
		spec, now, want string
	}{
		{"@daily", "2026-12-02T10:00:00Z", "2026-12-02T00:00:00Z"},
		{"0 2 * * *", "2026-12-02T01:00:00Z", "2026-12-01T02:00:00Z"},
		{"*/15 * * * *", "2026-12-02T10:07:30Z", "2026-12-02T10:00:00Z"},
		{"*/15 * * * *", "2026-12-02T10:15:00Z", "2026-12-02T10:15:00Z"},
		{"@yearly", "2026-12-02T10:00:00Z", "2026-01-01T00:00:00Z"},
		{"0 9 1 * *", "2026-12-01T08:59:59Z", "2026-11-01T09:00:00Z"},
	} {
		if got := periodStart(every(t, tt.spec), at(tt.now)); !got.Equal(at(tt.want)) {
			t.Errorf("periodStart(%s, %s) = %s, want %s", tt.spec, tt.now, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
}

// TestATenantOnlyAFollowerKnowsRuns: a tenant configured on a replica that is not the leader
// (a rolling deploy that adds it) runs on its schedule, on that replica; the leader, which
// lacks it, warns naming the tenant and itself, and leaves the tenant's jobs to the replica
// that has it instead of canceling them.
func TestATenantOnlyAFollowerKnowsRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("two replicas, one lacking the tenant: skipped with -short")
	}
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	rec := &recorder{}
	parse := func(spec string) (river.PeriodicSchedule, error) { return cron.ParseStandard(spec) }
	tenant := func(name, spec string) Tenant {
		return Tenant{Name: name, Schedule: every(t, spec), Spec: spec, Timeout: time.Minute}
	}
	cfg := func(replica int, logs *logBuffer, tenants ...Tenant) schedulerConfig {
		return schedulerConfig{Schema: controlSchema, MaxWorkers: 2, Grace: time.Second, FetchPollInterval: 100 * time.Millisecond,
			Heartbeat: 200 * time.Millisecond, ParseSchedule: parse, Tenants: tenants,
			Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			Run: func(_ context.Context, tenant string, attempt int) error {
				rec.add(interval{tenant: tenant, attempt: attempt, start: time.Now(), end: time.Now(), replica: replica})
				return nil
			}}
	}
	logsA := &logBuffer{}
	a := startReplica(t, url, cfg(0, logsA, tenant("acme", "@yearly")))
	if !waitFor(20*time.Second, func() bool { return leaderID(t, pool) == a.client.ID() }) {
		t.Fatalf("replica a did not become leader; the leader is %q", leaderID(t, pool))
	}
	startReplica(t, url, cfg(1, &logBuffer{}, tenant("acme", "@yearly"), tenant("newco", "@every 1s")))
	// A generous deadline: on a busy machine the put-backs between replicas take their time.
	if !waitFor(2*time.Minute, func() bool { return len(rec.of("newco")) >= 3 }) {
		t.Fatalf("newco, configured on the follower only, ran %d times in 2 min, want it on its 1 s schedule; jobs %v",
			len(rec.of("newco")), jobStatesOf(t, pool, "newco"))
	}
	for _, iv := range rec.of("newco") {
		if iv.replica != 1 {
			t.Errorf("newco ran on replica %d, which lacks it", iv.replica)
		}
	}
	for _, s := range jobStatesOf(t, pool, "newco") {
		if s == "cancelled" || s == "discarded" {
			t.Errorf("a job of newco was %s", s)
		}
	}
	var warned bool
	for _, l := range strings.Split(logsA.String(), "\n") {
		warned = warned || strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, `"tenant":"newco"`) &&
			strings.Contains(l, `"replica":"`+a.client.ID()+`"`)
	}
	if !warned {
		t.Errorf("the leader did not warn naming newco and itself; its log:\n%s", logsA)
	}
}

// jobStatesOf is the states of tenant's jobs, oldest first.
func jobStatesOf(t *testing.T, pool *pgxpool.Pool, tenant string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT state::text FROM evsync.river_job WHERE args->>'tenant' = $1 ORDER BY id", tenant)
	if err != nil {
		t.Fatal(err)
	}
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return states
}

// A job of a tenant this replica lacks is snoozed while a live replica has the tenant, and
// canceled with a warning when none does (that replica gone).
func TestLeaveToOthers(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	if err := Migrate(context.Background(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	reg := &registry{pool: pool, table: "evsync." + registryTable, replica: "a", interval: time.Second,
		logger: slog.New(slog.NewJSONHandler(logs, nil)), foreign: map[string]string{}, warned: map[string]bool{}}
	b := &registry{pool: pool, table: reg.table, replica: "b", interval: time.Second, tenants: []Tenant{{Name: "newco"}},
		logger: reg.logger, foreign: map[string]string{}, warned: map[string]bool{}}
	b.beat(t.Context())
	var snooze *river.JobSnoozeError
	if err := reg.leaveToOthers(t.Context(), "newco", runsKind); !errors.As(err, &snooze) {
		t.Errorf("a job of a tenant that live replica b has: %v, want a snooze", err)
	}
	if !strings.Contains(logs.String(), `"tenant":"newco","replica":"a","configured_on":"b"`) {
		t.Errorf("no warning naming newco, this replica and b:\n%s", logs)
	}
	if _, err := pool.Exec(t.Context(), "UPDATE evsync."+registryTable+" SET seen_at = now() - interval '1 minute'"); err != nil {
		t.Fatal(err)
	}
	var cancel *river.JobCancelError
	if err := reg.leaveToOthers(t.Context(), "newco", runsKind); !errors.As(err, &cancel) {
		t.Errorf("a job of a tenant no live replica has: %v, want it canceled", err)
	}
	if !strings.Contains(logs.String(), `"msg":"run canceled: the tenant is in no live replica's config","tenant":"newco","replica":"a"`) {
		t.Errorf("no warning of the canceled run:\n%s", logs)
	}
}

func TestPeriodStartOfEvery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 10, 20, 0, 0, time.UTC)
	if got, want := periodStart(Every(time.Hour), now), time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("periodStart(Every(1h), 10:20) = %s, want %s", got, want)
	}
}

// A run canceled by Stop is no failure either, even with no retry left: River hands the job
// back (available) for another replica, and it is not logged as given up.
func TestStopIsNotAFailure(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	running := make(chan struct{})
	logs := &logBuffer{}
	d := startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Grace: time.Second,
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), RunOnStart: true, Timeout: time.Hour}},
		Run: func(ctx context.Context, _ string, _ int) error {
			close(running)
			<-ctx.Done()
			return fmt.Errorf("run canceled: %w", ctx.Err())
		}})
	select {
	case <-running:
	case <-time.After(10 * time.Second):
		t.Fatal("the run on start did not begin within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := jobStatesOf(t, pool, "acme"); len(got) != 1 || got[0] != "available" {
		t.Errorf("the stopped run's job is %v, want [available]", got)
	}
	if strings.Contains(logs.String(), "given up") {
		t.Errorf("a stopped run was logged as given up:\n%s", logs)
	}
}

// A try that finds the tenant busy elsewhere (its lock held) is retried with backoff and its
// error recorded, but it is no failure: a tenant without retries still runs again, as the
// same attempt, and the job completes.
func TestBusyIsRetriedWithoutUsingARetry(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	attempts := make(chan int, 10)
	var calls atomic.Int32
	logs := &logBuffer{}
	startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Grace: time.Second,
		FetchPollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@every 10s"), RunOnStart: true, Timeout: time.Minute, Retries: 0}},
		Run: func(_ context.Context, _ string, attempt int) error {
			attempts <- attempt
			if calls.Add(1) <= 2 {
				return Busy(errors.New("another run holds the lock on schema engage_acme"))
			}
			return nil
		}})
	for i := range 3 {
		select {
		case a := <-attempts:
			if a != 1 {
				t.Errorf("try %d ran as attempt %d, want 1: a busy try is no failure", i+1, a)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("try %d did not run; the jobs are %v", i+1, jobStatesOf(t, pool, "acme"))
		}
	}
	if !waitFor(time.Minute, func() bool { s := jobStatesOf(t, pool, "acme"); return len(s) > 0 && s[0] == "completed" }) {
		t.Fatalf("the job is %v, want completed", jobStatesOf(t, pool, "acme"))
	}
	var errs []string
	if err := pool.QueryRow(t.Context(), `SELECT coalesce(array_agg(e->>'error'), '{}') FROM evsync.river_job, unnest(errors) e WHERE args->>'tenant' = 'acme'`).Scan(&errs); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "holds the lock") {
		t.Errorf("the job recorded %q, want the two busy tries' errors", errs)
	}
	if got := strings.Count(logs.String(), `"msg":"run to be retried: the tenant is busy elsewhere"`); got != 2 {
		t.Errorf("%d busy tries logged as to be retried, want 2; log:\n%s", got, logs)
	}
}

// The heartbeat ends with Start's ctx, as the client does: a replica whose client stopped
// does not keep listing its tenants (the others would keep snoozing their jobs for it).
func TestHeartbeatEndsWithStartsContext(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	if err := Migrate(context.Background(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	d, err := newScheduler(pool, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Heartbeat: 100 * time.Millisecond,
		Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Minute}},
		Run:     func(context.Context, string, int) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = d.Stop(sctx)
	})
	cancel()
	ended := make(chan struct{})
	go func() { d.beating.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the heartbeat still runs 10 s after Start's ctx ended")
	}
}

// A Busy error that the run function wrapped once more is still a busy try: retried, not
// given up as a failure, and recorded so that pastTries counts it as busy.
func TestWrappedBusyIsBusy(t *testing.T) {
	t.Parallel()
	tn := Tenant{Name: "acme", Schedule: Every(time.Hour), Timeout: time.Minute, Retries: 0}
	w := &syncWorker{kind: runsKind, tenants: map[string]Tenant{"acme": tn}, logger: slog.New(slog.DiscardHandler),
		run: func(context.Context, string, int) error {
			return fmt.Errorf("tenant acme: %w", Busy(errors.New("another run holds the lock")))
		}}
	job := &river.Job[SyncArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: SyncArgs{Tenant: "acme"}}
	err := w.Work(t.Context(), job)
	var cancel *river.JobCancelError
	if err == nil || errors.As(err, &cancel) {
		t.Fatalf("Work = %v, want the busy try handed back for a retry", err)
	}
	job.Errors = append(job.Errors, rivertype.AttemptError{Attempt: 1, Error: err.Error()})
	if failed, _, busy := pastTries(job.JobRow); failed != 0 || busy != 1 {
		t.Errorf("the recorded %q counts as %d failed, %d busy; want 0 failed, 1 busy", err, failed, busy)
	}
}
