package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// startDaemon runs d in the background (fixture.Start); stop cancels its context and
// returns Run's error.
func startDaemon(t *testing.T, d *Daemon) (stop func() error) {
	t.Helper()
	return fixture.Start(t, d.Run)
}

// newTestDaemon builds a daemon on a fresh database whose control schema is migrated, polling
// for jobs every 100 ms.
func newTestDaemon(t *testing.T, cfg Config, tenants ...Tenant) *Daemon {
	t.Helper()
	pool := testPool(t)
	cfg.ControlSchema = controlSchema
	cfg.FetchPollInterval = 100 * time.Millisecond
	cfg.Logger = fixture.TestLogger(t)
	d, err := New(pool, cfg, tenants)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// testPool opens a pool on a fresh database with the control schema migrated.
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := openPool(t, dbtest.NewURL(t))
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	return pool
}

// schedule reads spec as the CLI reads a tenant's schedule.cron in UTC: an @every interval
// anchored (Every), anything else read in the zone (InZone).
func schedule(t *testing.T, spec string) river.PeriodicSchedule {
	t.Helper()
	s := every(t, spec)
	if e, ok := s.(cron.ConstantDelaySchedule); ok {
		return Every(e.Delay)
	}
	return InZone(s, time.UTC)
}

// testTenant is a tenant named name on the cron spec, running run, with a minute's timeout and
// no retries.
func testTenant(t *testing.T, name, spec string, runOnStart bool, run RunFunc) Tenant {
	t.Helper()
	return Tenant{Name: name, Schedule: schedule(t, spec), RunOnStart: runOnStart, Timeout: time.Minute, Cron: spec, Run: run}
}

func counterValue(d *Daemon, tenant, status string) float64 {
	return testutil.ToFloat64(d.metrics.runs.WithLabelValues(tenant, status))
}

// testDefaultTenant is the name the CLI gives the only tenant of a config that lists none.
const testDefaultTenant = "default"

// errLocked stands for the error of a run that found its tenant's lock held.
var errLocked = errors.New("sync: another run holds the lock")

func TestDaemonRunsOnScheduleWithoutOverlap(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	run := func(ctx context.Context, trigger string) (Outcome, error) {
		if trigger != "schedule" {
			t.Errorf("trigger = %q, want schedule", trigger)
		}
		if calls.Add(1) == 1 {
			close(started)
			select { // the first run outlasts several ticks
			case <-release:
			case <-ctx.Done():
				return Outcome{Status: "canceled"}, ctx.Err()
			}
		}
		return Outcome{Status: "succeeded"}, nil
	}
	d := newTestDaemon(t, Config{}, testTenant(t, "acme", "@every 1s", false, run))
	stop := startDaemon(t, d)
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the schedule did not fire within a minute")
	}
	time.Sleep(2500 * time.Millisecond) // two ticks or more while the first run is going
	if n := calls.Load(); n != 1 {
		t.Errorf("run was called %d times while the first run was going, want 1", n)
	}
	close(release)
	fixture.Eventually(t, "the first run to be counted", func() bool { return counterValue(d, "acme", "succeeded") >= 1 })
	fixture.Eventually(t, "a later tick to run again", func() bool { return calls.Load() >= 2 })
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestDaemonShutdownCancelsRun(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	runErr := make(chan error, 1)
	run := func(ctx context.Context, _ string) (Outcome, error) {
		close(started)
		<-ctx.Done()
		runErr <- ctx.Err()
		return Outcome{RunID: 1, Status: "canceled"}, ctx.Err()
	}
	d := newTestDaemon(t, Config{Grace: 20 * time.Second}, testTenant(t, "acme", "@daily", true, run))
	stop := startDaemon(t, d)
	<-started
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v after a clean stop, want nil", err)
	}
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the run's context ended with %v, want context.Canceled", err)
	}
	if got := counterValue(d, "acme", "canceled"); got != 1 {
		t.Errorf("runs_total{status=canceled} = %v, want 1", got)
	}
}

func TestDaemonGracePeriodExceeded(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	run := func(context.Context, string) (Outcome, error) {
		close(started)
		<-release // ignores its context
		return Outcome{Status: "canceled"}, context.Canceled
	}
	d := newTestDaemon(t, Config{Grace: 50 * time.Millisecond}, testTenant(t, "acme", "@daily", true, run))
	stop := startDaemon(t, d)
	<-started
	err := stop()
	close(release)
	if err == nil || !strings.Contains(err.Error(), "did not end within shutdown.grace_period") {
		t.Fatalf("Run = %v, want the grace period error", err)
	}
}

func TestDaemonRunOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		timeout    time.Duration
		run        RunFunc
		wantStatus string
		wantJob    string // the River job's state: completed, retryable, or cancelled (not retried, or its retries used up)
		check      func(t *testing.T, d *Daemon)
	}{
		{
			name:    "timeout fails the run",
			timeout: 300 * time.Millisecond,
			run: func(ctx context.Context, _ string) (Outcome, error) {
				<-ctx.Done()
				if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return Outcome{}, errors.New("unexpected: " + ctx.Err().Error())
				}
				return Outcome{}, ctx.Err()
			},
			wantStatus: "failed",
			wantJob:    "cancelled",
		},
		{
			name: "lock held elsewhere is skipped and retried, not completed",
			run: func(context.Context, string) (Outcome, error) {
				return Outcome{Status: "skipped"}, fmt.Errorf("another run holds the lock on schema engage: %w", errLocked)
			},
			wantStatus: "skipped",
			wantJob:    "retryable", // with backoff, though the tenant has no retries: it did not fail
			check: func(t *testing.T, d *Daemon) {
				mfs := scrapeHandler(t, d.Handler())
				if n := metricValue(t, mfs, "evsync_run_duration_seconds", map[string]string{"tenant": "acme"}); n != 0 {
					t.Errorf("a skipped run was timed: %v", mfs["evsync_run_duration_seconds"])
				}
			},
		},
		{
			name:       "panic is a failed run",
			run:        func(context.Context, string) (Outcome, error) { panic("boom") },
			wantStatus: "failed",
			wantJob:    "cancelled",
		},
		{
			name: "error without status",
			run: func(context.Context, string) (Outcome, error) {
				return Outcome{RunID: 3}, errors.New("listing agents: 500")
			},
			wantStatus: "failed",
			wantJob:    "cancelled",
		},
		{
			name: "auth rejected is not retried",
			run: func(context.Context, string) (Outcome, error) {
				return Outcome{RunID: 3, Status: "failed"}, NoRetry(errors.New("ringcentral jwt grant: 400 Bad Request: invalid_grant"))
			},
			wantStatus: "failed",
			wantJob:    "cancelled",
		},
		{
			name: "partial is not retried",
			run: func(context.Context, string) (Outcome, error) {
				return Outcome{Status: "partial"}, errors.New("1 scope failed")
			},
			wantStatus: "partial",
			wantJob:    "cancelled",
		},
		{
			name:       "nil error without status succeeded",
			run:        func(context.Context, string) (Outcome, error) { return Outcome{}, nil },
			wantStatus: "succeeded",
			wantJob:    "completed",
			check: func(t *testing.T, d *Daemon) {
				// The last success is the database's to say (LastSuccess, nil here), not a run's.
				if !d.metrics.lastSuccessTime("acme").IsZero() {
					t.Error("a succeeded run set the last success by itself")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := testTenant(t, "acme", "@yearly", true, tt.run)
			if tt.timeout > 0 {
				tn.Timeout = tt.timeout
			}
			d := newTestDaemon(t, Config{Grace: time.Second}, tn)
			stop := startDaemon(t, d)
			fixture.Eventually(t, "the run to be counted", func() bool { return counterValue(d, "acme", tt.wantStatus) == 1 })
			pool := d.pool
			fixture.Eventually(t, "the job to be "+tt.wantJob, func() bool {
				st := jobStatesOf(t, pool, "acme")
				return len(st) == 1 && st[0] == tt.wantJob
			})
			if err := stop(); err != nil {
				t.Errorf("Run: %v", err)
			}
			total := 0.0
			for _, s := range Statuses() {
				total += counterValue(d, "acme", string(s))
			}
			if total != 1 {
				t.Errorf("%v runs counted, want 1", total)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestJobError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tt := range []struct {
		out       Outcome
		err       error
		wantNil   bool
		wantFinal bool
	}{
		{Outcome{Status: "succeeded"}, nil, true, false},
		{Outcome{Status: "skipped"}, errLocked, false, false},
		{Outcome{Status: "skipped"}, nil, false, false},
		{Outcome{Status: "partial"}, nil, false, true},
		{Outcome{Status: "failed"}, NoRetry(boom), false, true},
		{Outcome{Status: "failed"}, boom, false, false},
		{Outcome{Status: "canceled"}, context.Canceled, false, false},
	} {
		err := jobError(tt.out, tt.err)
		if (err == nil) != tt.wantNil || errors.Is(err, ErrFinal) != tt.wantFinal {
			t.Errorf("jobError(%s, %v) = %v; want nil %v, not retried %v", tt.out.Status, tt.err, err, tt.wantNil, tt.wantFinal)
		}
	}
}

// replica became leader: a new leader keeps the phase, and replicas agree on it.
func TestNewDaemonErrors(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	ok := testTenant(t, "acme", "@daily", false, func(context.Context, string) (Outcome, error) { return Outcome{}, nil })
	noRun := ok
	noRun.Run = nil
	tests := []struct {
		name    string
		cfg     Config
		tenants []Tenant
		wantErr string
	}{
		{"no run func", Config{ControlSchema: "evsync"}, []Tenant{noRun}, "no run function"},
		{"no tenants", Config{ControlSchema: "evsync"}, nil, "no tenants"},
		{"bad control schema", Config{ControlSchema: "Not A Schema"}, []Tenant{ok}, "control schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(pool, tt.cfg, tt.tenants)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDaemonListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := newTestDaemon(t, Config{Listen: ln.Addr().String()},
		testTenant(t, "acme", "@daily", false, func(context.Context, string) (Outcome, error) { return Outcome{}, nil }))
	err = d.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "listening on http.listen") {
		t.Fatalf("Run = %v, want a listen error", err)
	}
}

func TestDaemonHTTP(t *testing.T) {
	t.Parallel()
	// What the database says, changed by the test between probes.
	var (
		mu        sync.Mutex
		pingErr   error
		last      time.Time
		lastErr   error
		runCalled = make(chan struct{})
		release   = make(chan struct{})
	)
	ready := func(context.Context) error { mu.Lock(); defer mu.Unlock(); return pingErr }
	lastSuccess := func(context.Context) (Freshness, error) {
		mu.Lock()
		defer mu.Unlock()
		return Freshness{Entity: "agents", RunID: 41, At: last}, lastErr
	}
	set := func(ping error, l time.Time, lerr error) {
		mu.Lock()
		defer mu.Unlock()
		pingErr, last, lastErr = ping, l, lerr
	}
	run := func(ctx context.Context, _ string) (Outcome, error) {
		close(runCalled)
		select {
		case <-release:
		case <-ctx.Done():
			return Outcome{Status: "canceled"}, ctx.Err()
		}
		now := time.Now()
		return Outcome{
			RunID: 42, Status: "succeeded", Started: now.Add(-3 * time.Second), Finished: now,
			Rows:        map[entity.Name]map[string]int64{"agents": {"fetched": 12, "inserted": 12}, "accounts": {"fetched": 1, "unchanged": 1}},
			APIRequests: 9, Retries: 1, RateLimited: 1, TokenRefreshes: 2,
		}, nil
	}
	tn := testTenant(t, testDefaultTenant, "@yearly", true, run)
	tn.LastSuccess = lastSuccess
	// Every probe of /healthz/data reads the database again, so that each sees what the test set.
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0", ReadyStaleness: 26 * time.Hour, DataCheckInterval: time.Nanosecond,
		DefaultTenant: testDefaultTenant}, tn)
	d.ready = ready // the database as the test says it is
	set(errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"), time.Time{}, nil)
	stop := startDaemon(t, d)
	<-d.listening
	base := "http://" + d.Addr()
	<-runCalled

	if code, body := fixture.HTTPGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
	probes := []struct {
		name     string
		path     string
		ping     error
		last     time.Time
		lastErr  error
		wantCode int
		wantBody string
	}{
		{"database down", "/readyz", errors.New("connection refused"), time.Time{}, nil, 503, "not ready: database: connection refused\n"},
		{"database up", "/readyz", nil, time.Time{}, nil, 200, "ready: the database answers, its schemas are migrated and River runs\n"},
		{"no success yet", "/healthz/data", nil, time.Time{}, nil, 503, "not fresh: agents has never been complete (a scope of it has not completed in any run)\n"},
		{"last success unreadable", "/healthz/data", nil, time.Time{}, errors.New("relation sync_runs does not exist"), 503, "not fresh: reading the last successful run: relation sync_runs does not exist\n"},
		{"stale", "/healthz/data", nil, time.Now().Add(-30 * time.Hour), nil, 503, "not fresh: agents is stale: its last complete run 41 finished 30h0m0s ago"},
		{"fresh", "/healthz/data", nil, time.Now().Add(-time.Minute), nil, 200, "fresh: every synced entity is complete as of 1m0s ago"},
	}
	for _, p := range probes {
		set(p.ping, p.last, p.lastErr)
		code, body := fixture.HTTPGet(t, base+p.path)
		if code != p.wantCode || !strings.Contains(body, p.wantBody) {
			t.Errorf("%s: %s = %d %q, want %d with %q", p.name, p.path, code, body, p.wantCode, p.wantBody)
		}
		if strings.Count(body, "\n") != 1 {
			t.Errorf("%s: %s body is not one line: %q", p.name, p.path, body)
		}
	}

	// Metrics before and after the run.
	code, body := fixture.HTTPGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	mfs := parseMetrics(t, strings.NewReader(body))
	if got := metricValue(t, mfs, "evsync_runs_total", map[string]string{"tenant": testDefaultTenant, "status": "succeeded"}); got != 0 {
		t.Errorf("runs_total{succeeded} = %v before the run ended", got)
	}
	close(release)
	fixture.Eventually(t, "the run to be counted", func() bool { return counterValue(d, testDefaultTenant, "succeeded") == 1 })
	_, body = fixture.HTTPGet(t, base+"/metrics")
	mfs = parseMetrics(t, strings.NewReader(body))
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"evsync_runs_total", map[string]string{"tenant": testDefaultTenant, "status": "succeeded"}, 1},
		{"evsync_rows_total", map[string]string{"tenant": testDefaultTenant, "entity": "agents", "kind": "inserted"}, 12},
		{"evsync_rows_total", map[string]string{"tenant": testDefaultTenant, "entity": "accounts", "kind": "unchanged"}, 1},
		{"evsync_api_requests_total", map[string]string{"tenant": testDefaultTenant}, 9},
		{"evsync_api_retries_total", map[string]string{"tenant": testDefaultTenant}, 1},
		{"evsync_api_rate_limited_total", map[string]string{"tenant": testDefaultTenant}, 1},
		{"evsync_token_refreshes_total", map[string]string{"tenant": testDefaultTenant}, 2},
		{"evsync_run_duration_seconds", map[string]string{"tenant": testDefaultTenant}, 1},
	}
	for _, w := range want {
		if got := metricValue(t, mfs, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if ts := metricValue(t, mfs, "evsync_last_success_timestamp_seconds", map[string]string{"tenant": testDefaultTenant}); time.Since(time.Unix(int64(ts), 0)) > time.Hour {
		t.Errorf("last success timestamp %v is not the run just finished", ts)
	}
	if code, _ := fixture.HTTPGet(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope = %d, want 404", code)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	// The server is down after Run returns.
	if _, err := net.DialTimeout("tcp", d.Addr(), time.Second); err == nil {
		t.Error("the HTTP server still accepts connections after Run returned")
	}
}

func TestDaemonSeedsLastSuccess(t *testing.T) {
	t.Parallel()
	seed := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tn := testTenant(t, "acme", "@daily", false, func(context.Context, string) (Outcome, error) { return Outcome{}, nil })
	tn.LastSuccess = func(context.Context) (Freshness, error) { return Freshness{Entity: "users", RunID: 3, At: seed}, nil }
	d := newTestDaemon(t, Config{}, tn)
	stop := startDaemon(t, d)
	<-d.listening
	fixture.Eventually(t, "the last success to be seeded", func() bool { return d.metrics.lastSuccessTime("acme").Equal(seed) })
	if got := testutil.ToFloat64(d.metrics.lastSuccess.WithLabelValues("acme")); got != float64(seed.Unix()) {
		t.Errorf("evsync_last_success_timestamp_seconds = %v, want %v", got, seed.Unix())
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestDaemonHealthzDataNamesTheStaleTenant(t *testing.T) {
	t.Parallel()
	noop := func(context.Context, string) (Outcome, error) { return Outcome{}, nil }
	fresh := testTenant(t, "acme", "@daily", false, noop)
	fresh.LastSuccess = func(context.Context) (Freshness, error) {
		return Freshness{Entity: "agents", RunID: 9, At: time.Now().Add(-time.Hour)}, nil
	}
	stale := testTenant(t, "globex", "@daily", false, noop)
	stale.LastSuccess = func(context.Context) (Freshness, error) {
		return Freshness{Entity: "users", RunID: 4, At: time.Now().Add(-30 * time.Hour)}, nil
	}
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0", ReadyStaleness: 26 * time.Hour}, fresh, stale)
	stop := startDaemon(t, d)
	<-d.listening
	code, body := fixture.HTTPGet(t, "http://"+d.Addr()+"/healthz/data")
	if want := "not fresh: tenant globex: users is stale: its last complete run 4 finished 30h0m0s ago"; code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
		t.Errorf("/healthz/data = %d %q, want 503 with %q", code, body, want)
	}
	mfs := scrapeHandler(t, d.Handler())
	for _, tenant := range []string{"acme", "globex"} {
		if v := metricValue(t, mfs, "evsync_last_success_timestamp_seconds", map[string]string{"tenant": tenant}); v == 0 {
			t.Errorf("tenant %s's last success is not exported", tenant)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// the replicas that lack it its schedule.

// A failed run that has an id logged its own error when it ended: "run finished" does not
// print it a second time. One that never started (no id) has no other line that says why.
func TestRunFinishedPrintsAFailureOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		out     Outcome
		wantErr bool
	}{
		{name: "run recorded", out: Outcome{RunID: 7, Status: StatusFailed}, wantErr: false},
		{name: "never started", out: Outcome{Status: StatusFailed}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := Tenant{Name: "acme", Schedule: Every(time.Hour), Timeout: time.Minute,
				Run: func(context.Context, string) (Outcome, error) { return tt.out, errors.New("the boom of acme") }}
			d := newTestDaemon(t, Config{}, tn)
			var logs fixture.Logs
			d.logger = logs.Logger()
			if err := d.runJob(t.Context(), runsKind, "acme", 1); err == nil {
				t.Fatal("runJob of a failed run returned nil")
			}
			var finished string
			for line := range strings.Lines(logs.String()) {
				if strings.Contains(line, `msg="run finished"`) {
					finished = line
				}
			}
			if finished == "" {
				t.Fatalf("no run finished line:\n%s", logs.String())
			}
			if got := strings.Contains(finished, "the boom of acme"); got != tt.wantErr {
				t.Errorf("run finished holds the error: %v, want %v:\n%s", got, tt.wantErr, finished)
			}
		})
	}
}
