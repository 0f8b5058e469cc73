package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/robfig/cron/v3"

	"github.com/evsync/evsync/internal/buildinfo"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// segments is a reporting stream's name, for the tests that need a second stream.
const segments entity.Name = "interaction_segments"

// streamsTenant is a tenant whose runs never come (@yearly) and whose stream runs, reading
// audit_log, are runStreams on the streams spec.
func streamsTenant(t *testing.T, name, streamsSpec string, runStreams RunFunc) Tenant {
	t.Helper()
	tn := testTenant(t, name, "@yearly", false, func(context.Context, string) (Outcome, error) {
		t.Errorf("tenant %s: its entity run ran", name)
		return Outcome{}, nil
	})
	tn.RunStreams, tn.StreamsSchedule, tn.StreamsCron = runStreams, schedule(t, streamsSpec), streamsSpec
	tn.Streams = []entity.Name{entity.AuditLog}
	return tn
}

// streamJobStatesOf is the states of tenant's stream jobs, oldest first.
func streamJobStatesOf(t *testing.T, pool *pgxpool.Pool, tenant string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT state::text FROM evsync.river_job WHERE kind = $1 AND args->>'tenant' = $2 ORDER BY id", StreamsArgs{}.Kind(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return states
}

// insertStreamsJob inserts tenant's stream job as its periodic job does.
func insertStreamsJob(t *testing.T, pool *pgxpool.Pool, tenant string) {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: controlSchema})
	if err != nil {
		t.Fatal(err)
	}
	args, opts := insertStreamsFor(tenant)()
	if _, err := client.Insert(t.Context(), args, opts); err != nil {
		t.Fatal(err)
	}
}

// A stream job left retryable, as a replica older than the streams leaves it (River fails
// the attempt of a kind without a worker and retries it with a backoff growing to hours),
// does not hold back the next tick's job; one queued does.
func TestStreamsRetryableJobDoesNotBlockTheNextTick(t *testing.T) {
	t.Parallel()
	pool := openPool(t, dbtest.NewURL(t))
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: controlSchema})
	if err != nil {
		t.Fatal(err)
	}
	insert := func() bool {
		t.Helper()
		args, opts := insertStreamsFor("acme")()
		res, err := client.Insert(t.Context(), args, opts)
		if err != nil {
			t.Fatal(err)
		}
		return !res.UniqueSkippedAsDuplicate
	}
	if !insert() {
		t.Fatal("the first stream job was not inserted")
	}
	if insert() {
		t.Fatal("a second stream job was inserted beside an available one")
	}
	if _, err := pool.Exec(t.Context(), `UPDATE evsync.river_job SET state = 'retryable', attempt = 3,
	scheduled_at = now() + interval '2 hours' WHERE kind = $1`, StreamsArgs{}.Kind()); err != nil {
		t.Fatal(err)
	}
	if !insert() {
		t.Fatal("the next tick's stream job was not inserted beside a retryable one")
	}
	if got := streamJobStatesOf(t, pool, "acme"); strings.Join(got, ",") != "retryable,available" {
		t.Fatalf("stream jobs: %v, want [retryable available]", got)
	}
}

// Each tenant's stream runs come on its streams schedule, apart from its entity runs (which
// never come here), with the trigger "streams"; a stream run that outlasts its ticks is not
// queued again meanwhile (its job is unique per tenant).
func TestStreamsRunOnTheirOwnScheduleUniquePerTenant(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	runStreams := func(name string) RunFunc {
		return func(ctx context.Context, trigger string) (Outcome, error) {
			if trigger != "streams" {
				t.Errorf("trigger = %q, want streams", trigger)
			}
			mu.Lock()
			calls[name]++
			n := calls[name]
			mu.Unlock()
			if name == "acme" && n == 1 {
				once.Do(func() { close(started) })
				select { // the first run outlasts several ticks
				case <-release:
				case <-ctx.Done():
					return Outcome{Status: StatusCanceled}, ctx.Err()
				}
			}
			return Outcome{Status: StatusSucceeded}, nil
		}
	}
	d := newTestDaemon(t, Config{},
		streamsTenant(t, "acme", "@every 1s", runStreams("acme")),
		streamsTenant(t, "globex", "@every 1s", runStreams("globex")))
	stop := startDaemon(t, d)
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the streams schedule did not fire within a minute")
	}
	time.Sleep(2500 * time.Millisecond) // two ticks or more while acme's first stream run is going
	mu.Lock()
	acme, globex := calls["acme"], calls["globex"]
	mu.Unlock()
	if acme != 1 {
		t.Errorf("acme's stream run was called %d times while its first was going, want 1", acme)
	}
	if globex < 2 {
		t.Errorf("globex's stream runs were called %d times in 2.5 s of a 1 s schedule, want 2 or more: a tenant's busy stream run held up another's", globex)
	}
	if st := streamJobStatesOf(t, d.pool, "acme"); len(st) != 1 || st[0] != "running" {
		t.Errorf("acme's stream jobs while its run is going: %v, want one running", st)
	}
	close(release)
	fixture.Eventually(t, "acme's first stream run to be counted", func() bool {
		return testutil.ToFloat64(d.metrics.streamRuns.WithLabelValues("acme", "succeeded")) >= 1
	})
	fixture.Eventually(t, "a later tick to run acme's streams again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls["acme"] >= 2
	})
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	for _, tenant := range []string{"acme", "globex"} {
		if n := counterValue(d, tenant, "succeeded"); n != 0 {
			t.Errorf("evsync_runs_total{tenant=%s,status=succeeded} = %v: stream runs counted as entity runs", tenant, n)
		}
	}
}

// A stream job ends at its first try: done when the run succeeded, was partial or found every
// sub-account read by another process (not a failure, not retried as busy: the next tick
// comes in minutes), canceled with the error when it failed, whatever the tenant's retries.
func TestStreamJobOutcomes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		out        Outcome
		err        error
		wantStatus Status
		wantJob    string
	}{
		{"locked everywhere", Outcome{Status: StatusSkipped}, nil, StatusSkipped, "completed"},
		{"busy error", Outcome{}, Busy(errors.New("every sub-account is being read")), StatusSkipped, "completed"},
		{"partial", Outcome{RunID: 4, Status: StatusPartial}, nil, StatusPartial, "completed"},
		{"succeeded", Outcome{RunID: 4}, nil, StatusSucceeded, "completed"},
		{"failed", Outcome{RunID: 4, Status: StatusFailed}, errors.New("listing accounts: 500"), StatusFailed, "cancelled"},
		{"config error", Outcome{}, NoRetry(errors.New("streams.window: 5h does not divide a day")), StatusFailed, "cancelled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			tn := streamsTenant(t, "acme", "@yearly", func(context.Context, string) (Outcome, error) {
				calls.Add(1)
				return tt.out, tt.err
			})
			tn.Retries = 3
			d := newTestDaemon(t, Config{Grace: time.Second}, tn)
			stop := startDaemon(t, d)
			insertStreamsJob(t, d.pool, "acme")
			fixture.Eventually(t, "the stream job to be "+tt.wantJob, func() bool {
				st := streamJobStatesOf(t, d.pool, "acme")
				return len(st) == 1 && st[0] == tt.wantJob
			})
			time.Sleep(300 * time.Millisecond) // a retry would come within a second (@yearly's backoff is 10 min, a busy one too)
			if err := stop(); err != nil {
				t.Errorf("Run: %v", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the stream run was called %d times, want 1", n)
			}
			if v := testutil.ToFloat64(d.metrics.streamRuns.WithLabelValues("acme", string(tt.wantStatus))); v != 1 {
				t.Errorf("evsync_stream_runs_total{status=%s} = %v, want 1", tt.wantStatus, v)
			}
		})
	}
}

// A stream run's outcome moves the stream counters and the tenant's API counters; a skipped
// one only its status; the entity runs' counters never.
func TestMetricsObserveStreams(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, []string{"acme"}, buildinfo.Info{})
	if err != nil {
		t.Fatal(err)
	}
	m.addStreams("acme", []entity.Name{entity.AuditLog, segments})
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mfs := scrapeHandler(t, h)
	if got, want := len(mfs["evsync_stream_windows_total"].GetMetric()), 2*len(WindowResults()); got != want {
		t.Errorf("evsync_stream_windows_total has %d series before any run, want %d", got, want)
	}
	if got, want := len(mfs["evsync_stream_runs_total"].GetMetric()), len(Statuses()); got != want {
		t.Errorf("evsync_stream_runs_total has %d series before any run, want %d", got, want)
	}
	t0 := time.Now()
	m.observeStreams("acme", Outcome{RunID: 8, Status: StatusPartial, Started: t0, Finished: t0.Add(time.Minute),
		Windows: map[entity.Name]StreamWindows{
			entity.AuditLog: {Read: 3},
			segments:        {Read: 5, Failed: 2, Left: 7},
		},
		APIRequests: 12, Retries: 1, RateLimited: 1, TokenRefreshes: 1})
	m.observeStreams("acme", Outcome{Status: StatusSkipped, Windows: map[entity.Name]StreamWindows{entity.AuditLog: {Read: 100}}, APIRequests: 100})
	mfs = scrapeHandler(t, h)
	for _, w := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"evsync_stream_windows_total", map[string]string{"tenant": "acme", "stream": "audit_log", "result": "read"}, 3},
		{"evsync_stream_windows_total", map[string]string{"tenant": "acme", "stream": "interaction_segments", "result": "read"}, 5},
		{"evsync_stream_windows_total", map[string]string{"tenant": "acme", "stream": "interaction_segments", "result": "failed"}, 2},
		{"evsync_stream_windows_total", map[string]string{"tenant": "acme", "stream": "interaction_segments", "result": "left"}, 7},
		{"evsync_stream_runs_total", map[string]string{"tenant": "acme", "status": "partial"}, 1},
		{"evsync_stream_runs_total", map[string]string{"tenant": "acme", "status": "skipped"}, 1},
		{"evsync_api_requests_total", map[string]string{"tenant": "acme"}, 12},
		{"evsync_api_rate_limited_total", map[string]string{"tenant": "acme"}, 1},
		{"evsync_runs_total", map[string]string{"tenant": "acme", "status": "partial"}, 0},
		{"evsync_run_duration_seconds", map[string]string{"tenant": "acme"}, 0},
	} {
		if got := metricValue(t, mfs, w.name, w.labels); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.want)
		}
	}
}

// lagTenant is a tenant with streams whose lag is what lag returns.
func lagTenant(t *testing.T, name string, lag func() (map[entity.Name]time.Duration, error)) Tenant {
	t.Helper()
	tn := streamsTenant(t, name, "@yearly", func(context.Context, string) (Outcome, error) { return Outcome{}, nil })
	tn.LastSuccess = func(context.Context) (Freshness, error) {
		return Freshness{Entity: "agents", RunID: 1, At: time.Now().Add(-time.Hour)}, nil
	}
	tn.StreamLag = func(context.Context) (map[entity.Name]time.Duration, error) { return lag() }
	return tn
}

// evsync_stream_lag_seconds is the lag StreamLag read, growing with the time since the read;
// a stream StreamLag leaves out (never read) has no series; a read that fails leaves the
// gauge as it was.
func TestStreamLagGauge(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	lags := map[entity.Name]time.Duration{entity.AuditLog: 2 * time.Hour}
	var lagErr error
	d := newTestDaemon(t, Config{}, lagTenant(t, "acme", func() (map[entity.Name]time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		return lags, lagErr
	}))
	now := time.Now()
	d.metrics.streamLag.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d.refreshStreamLag(t.Context(), d.byName["acme"])
	lagOf := func(stream string) float64 {
		return metricValue(t, scrapeHandler(t, d.Handler()), "evsync_stream_lag_seconds", map[string]string{"tenant": "acme", "stream": stream})
	}
	if got := lagOf("audit_log"); got < 7190 || got > 7210 {
		t.Errorf("evsync_stream_lag_seconds{audit_log} = %v just after the read, want about 7200", got)
	}
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	if got := lagOf("audit_log"); got < 7790 || got > 7810 {
		t.Errorf("evsync_stream_lag_seconds{audit_log} = %v 10 min after the read, want about 7800", got)
	}
	if mf := scrapeHandler(t, d.Handler())["evsync_stream_lag_seconds"]; len(mf.GetMetric()) != 1 {
		t.Errorf("evsync_stream_lag_seconds has %d series, want 1 (audit_log's)", len(mf.GetMetric()))
	}
	mu.Lock()
	lagErr = errors.New("relation stream_freshness does not exist")
	mu.Unlock()
	d.refreshStreamLag(t.Context(), d.byName["acme"])
	if got := lagOf("audit_log"); got < 7790 || got > 7810 {
		t.Errorf("evsync_stream_lag_seconds{audit_log} = %v after a failed read, want it as it was (about 7800)", got)
	}
}

// /healthz/data is not fresh while a stream lags more than http.ready_staleness, or its lag
// cannot be read; it is fresh again once the lag is back under it.
func TestHealthzDataChecksTheStreamsLag(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lags map[entity.Name]time.Duration
	var lagErr error
	set := func(l map[entity.Name]time.Duration, err error) { mu.Lock(); defer mu.Unlock(); lags, lagErr = l, err }
	fresh := lagTenant(t, "acme", func() (map[entity.Name]time.Duration, error) {
		return map[entity.Name]time.Duration{entity.AuditLog: time.Hour}, nil
	})
	lagging := lagTenant(t, "globex", func() (map[entity.Name]time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		return lags, lagErr
	})
	// Every probe reads the database again.
	d := newTestDaemon(t, Config{ReadyStaleness: 26 * time.Hour, DataCheckInterval: time.Nanosecond}, fresh, lagging)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	for _, p := range []struct {
		name     string
		lags     map[entity.Name]time.Duration
		err      error
		wantCode int
		wantBody string
	}{
		{"lagging", map[entity.Name]time.Duration{entity.AuditLog: 30 * time.Hour, segments: 27 * time.Hour}, nil,
			http.StatusServiceUnavailable, "not fresh: tenant globex: stream audit_log lags 30h0m0s: its windows are read up to "},
		{"unreadable", nil, errors.New("relation stream_freshness does not exist"),
			http.StatusServiceUnavailable, "not fresh: tenant globex: reading the streams' lag: relation stream_freshness does not exist"},
		{"never read", map[entity.Name]time.Duration{}, nil, http.StatusOK, "fresh: "},
		{"under the staleness", map[entity.Name]time.Duration{entity.AuditLog: 25 * time.Hour}, nil, http.StatusOK, "fresh: "},
	} {
		set(p.lags, p.err)
		code, body := fixture.HTTPGet(t, srv.URL+"/healthz/data")
		if code != p.wantCode || !strings.Contains(body, p.wantBody) {
			t.Errorf("%s: /healthz/data = %d %q, want %d with %q", p.name, code, body, p.wantCode, p.wantBody)
		}
		if strings.Count(body, "\n") != 1 {
			t.Errorf("%s: /healthz/data body is not one line: %q", p.name, body)
		}
	}
}

// A stream job of a tenant whose streams this replica lacks is left to a live replica that
// has them, and canceled when the live replicas have the tenant but not its streams.
func TestLeaveStreamsToOthers(t *testing.T) {
	t.Parallel()
	pool := openPool(t, dbtest.NewURL(t))
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	reg := &registry{pool: pool, table: "evsync." + registryTable, replica: "a", interval: time.Second, logger: logger}
	noop := func(context.Context, string) (Outcome, error) { return Outcome{}, nil }
	b := &registry{pool: pool, table: reg.table, replica: "b", interval: time.Second, logger: logger,
		tenants: []Tenant{{Name: "newco"}, {Name: "initech", RunStreams: noop, StreamsSpec: `{"cron":"*/15 * * * *"}`}}}
	b.beat(t.Context())
	var snooze *river.JobSnoozeError
	if err := reg.leaveToOthers(t.Context(), "initech", streamsKind); !errors.As(err, &snooze) {
		t.Errorf("a stream job of a tenant whose streams live replica b has: %v, want a snooze", err)
	}
	if !strings.Contains(logs.String(), `"tenant":"initech","replica":"a","configured_on":"b"`) {
		t.Errorf("no warning naming initech, this replica and b:\n%s", logs)
	}
	var cancel *river.JobCancelError
	if err := reg.leaveToOthers(t.Context(), "newco", streamsKind); !errors.As(err, &cancel) {
		t.Errorf("a stream job of a tenant whose streams no live replica has: %v, want it canceled", err)
	}
	if err := reg.leaveToOthers(t.Context(), "newco", runsKind); !errors.As(err, &snooze) {
		t.Errorf("a job of a tenant that live replica b has: %v, want a snooze", err)
	}
}

// The streams of a tenant that only a follower has (the leader has the tenant, not its
// streams: a rolling deploy that enables them) run on their schedule, on that follower; the
// leader schedules them from the follower's spec and leaves their jobs to it.
func TestStreamsOnlyAFollowerHasRun(t *testing.T) {
	if testing.Short() {
		t.Skip("two replicas and a leader election (about 25 s): skipped with -short, as TestATenantOnlyAFollowerKnowsRuns")
	}
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	rec := &recorder{}
	parse := func(spec string) (river.PeriodicSchedule, error) { return cron.ParseStandard(spec) }
	noop := func(context.Context, string) (Outcome, error) { return Outcome{}, nil }
	cfg := func(replica int, logs *logBuffer, tn Tenant) schedulerConfig {
		return schedulerConfig{Schema: controlSchema, MaxWorkers: 2, Grace: time.Second, FetchPollInterval: 100 * time.Millisecond,
			Heartbeat: 200 * time.Millisecond, ParseSchedule: parse, Tenants: []Tenant{tn},
			Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			Run: func(_ context.Context, tenant string, _ int) error {
				t.Errorf("replica %d ran %s's entity run", replica, tenant)
				return nil
			},
			RunStreams: func(_ context.Context, tenant string, attempt int) error {
				rec.add(interval{tenant: tenant, attempt: attempt, start: time.Now(), end: time.Now(), replica: replica})
				return nil
			}}
	}
	acme := Tenant{Name: "acme", Schedule: every(t, "@yearly"), Spec: "@yearly", Timeout: time.Minute}
	logsA := &logBuffer{}
	a := startReplica(t, url, cfg(0, logsA, acme))
	if !waitFor(20*time.Second, func() bool { return leaderID(t, pool) == a.client.ID() }) {
		t.Fatalf("replica a did not become leader; the leader is %q", leaderID(t, pool))
	}
	withStreams := acme
	withStreams.RunStreams, withStreams.StreamsSchedule, withStreams.StreamsSpec = noop, every(t, "@every 1s"), "@every 1s"
	startReplica(t, url, cfg(1, &logBuffer{}, withStreams))
	if !waitFor(2*time.Minute, func() bool { return len(rec.of("acme")) >= 2 }) {
		t.Fatalf("acme's streams, configured on the follower only, ran %d times in 2 min, want them on their 1 s schedule; jobs %v",
			len(rec.of("acme")), streamJobStatesOf(t, pool, "acme"))
	}
	for _, iv := range rec.of("acme") {
		if iv.replica != 1 {
			t.Errorf("acme's streams ran on replica %d, which lacks them", iv.replica)
		}
	}
	if !strings.Contains(logsA.String(), `the streams of a tenant of another replica are not in this replica's config; scheduled here`) {
		t.Errorf("the leader did not warn that it schedules acme's streams from the follower's spec; its log:\n%s", logsA)
	}
}
