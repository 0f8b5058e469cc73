package cli

import (
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/tenant"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
	syncrun "github.com/evsync/evsync/sync"
)

// startDaemon runs d in the background (fixture.Start); stop cancels its context and
// returns Run's error.
func startDaemon(t *testing.T, d *daemon.Daemon) (stop func() error) {
	t.Helper()
	return fixture.Start(t, d.Run)
}

// testControlSchema is the control schema of the daemon tests' databases.
const testControlSchema = "evsync"

// testPool opens a pool on a fresh database with the control schema migrated.
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := daemon.Migrate(t.Context(), pool, testControlSchema); err != nil {
		t.Fatal(err)
	}
	return pool
}

// testTenant is a tenant named name on the cron spec, running run, with a minute's timeout and
// no retries.
func testTenant(t *testing.T, name, spec string, runOnStart bool, run daemon.RunFunc) daemon.Tenant {
	t.Helper()
	sched, err := config.Schedule{Cron: spec, Timezone: "UTC"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return daemon.Tenant{Name: name, Schedule: sched, RunOnStart: runOnStart, Timeout: time.Minute, Cron: spec, Run: run}
}

// metricValue is the value of the counter or gauge name{labels} that reg holds, or 0.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// counterValue is evsync_runs_total{tenant, status} as reg holds it.
func counterValue(t *testing.T, reg *prometheus.Registry, tenant, status string) float64 {
	return metricValue(t, reg, "evsync_runs_total", map[string]string{"tenant": tenant, "status": status})
}

// The daemon's statuses and field changes are db's: evsync_runs_total and
// evsync_api_field_changes_total export every one of them from the start.
func TestDaemonVocabularyIsDBs(t *testing.T) {
	t.Parallel()
	statuses := map[daemon.Status]bool{}
	for _, s := range daemon.Statuses() {
		statuses[s] = true
	}
	for _, s := range db.RunStatuses() {
		if s != db.RunRunning && !statuses[daemon.Status(s)] {
			t.Errorf("run status %q is not a daemon.Status", s)
		}
	}
	if !statuses[daemon.StatusSkipped] || len(statuses) != len(db.RunStatuses()) {
		t.Errorf("daemon.Statuses() = %v, want db's final statuses %v and skipped", daemon.Statuses(), db.RunStatuses())
	}
	changes := map[string]bool{}
	for _, c := range daemon.FieldChangeKinds() {
		changes[c] = true
	}
	for _, c := range db.FieldChangeKinds() {
		if !changes[string(c)] {
			t.Errorf("field change %q is not in daemon.FieldChangeKinds()", c)
		}
	}
	if len(changes) != len(db.FieldChangeKinds()) {
		t.Errorf("daemon.FieldChangeKinds() = %v, want db's %v", daemon.FieldChangeKinds(), db.FieldChangeKinds())
	}
}

func TestParseCronErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s       config.Schedule
		wantErr string
	}{
		{config.Schedule{Cron: "sometimes", Timezone: "UTC"}, `parsing schedule.cron "sometimes"`},
		{config.Schedule{Cron: "*/1 * * * * *", Timezone: "UTC"}, "parsing schedule.cron"},
		{config.Schedule{Cron: "@daily", Timezone: "Atlantis/Capital"}, `loading schedule.timezone "Atlantis/Capital"`},
	} {
		if _, err := tt.s.Parse(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Parse(%+v) = %v, want an error containing %q", tt.s, err, tt.wantErr)
		}
	}
	if _, err := (config.Schedule{Cron: "*/1 * * * * *", Seconds: true, Timezone: "Europe/Berlin"}).Parse(); err != nil {
		t.Errorf("six fields with Seconds: %v", err)
	}
}

// An @every schedule ticks at fixed multiples of its interval, not counted from whenever a
// replica became leader: a new leader keeps the phase, and replicas agree on it.
func TestParseCronAnchorsEvery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		spec     string
		from     time.Time
		wantNext time.Time
	}{
		{"@every 1h", time.Date(2026, 12, 2, 10, 20, 0, 0, time.UTC), time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)},
		{"@every 1h", time.Date(2026, 12, 2, 10, 59, 59, 0, time.UTC), time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)},
		{"@every 1h", time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)},
		{"@every 6h", time.Date(2026, 12, 2, 13, 5, 0, 0, time.UTC), time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)},
		{"@every 90m", time.Date(2026, 12, 2, 0, 10, 0, 0, time.UTC), time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)},
	} {
		sched, err := config.Schedule{Cron: tt.spec, Timezone: "Europe/Berlin"}.Parse()
		if err != nil {
			t.Fatal(err)
		}
		if got := sched.Next(tt.from); !got.Equal(tt.wantNext) {
			t.Errorf("%s: next after %s = %s, want %s", tt.spec, tt.from.Format(time.TimeOnly), got.UTC().Format(time.TimeOnly), tt.wantNext.Format(time.TimeOnly))
		}
	}
}

// The daemon's tenant tells run_on_start when its latest run started, from its ledger, and
// the replicas that lack it its schedule.
func TestDaemonTenantLastRunAndSpec(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	c, err := config.Load(fixture.WriteFile(t, "c.yaml", "schedule:\n  run_on_start: true\n  cron: '*/20 3 * * * *'\n  seconds: true\n  timezone: Europe/Berlin\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tn := c.TopLevelTenant()
	tn.Schema = schema
	dt, err := (&app{cfg: c, logger: slog.New(slog.DiscardHandler)}).daemonTenant(pool, tn)
	if err != nil {
		t.Fatal(err)
	}
	if dt.LastRun == nil || !dt.RunOnStart {
		t.Fatal("the daemon's tenant has no LastRun, or no RunOnStart")
	}
	sched, err := parseSpec(dt.Spec)
	if err != nil {
		t.Fatalf("parseSpec(%s): %v", dt.Spec, err)
	}
	for _, from := range []time.Time{time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 2, 0, 30, 0, time.UTC)} {
		if got, want := sched.Next(from), dt.Schedule.Next(from); !got.Equal(want) {
			t.Errorf("the schedule read from the spec %s: next after %s is %s, want %s", dt.Spec, from, got, want)
		}
	}
	if _, err := parseSpec("not json"); err == nil {
		t.Error("parseSpec of a bad spec: nil error")
	}
	if last, err := dt.LastRun(t.Context()); err != nil || !last.IsZero() {
		t.Fatalf("LastRun of an empty ledger = %s, %v; want zero", last, err)
	}
	store, err := db.NewStore(pool, schema)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := store.RunCreate(t.Context(), "manual"); err != nil {
		t.Fatal(err)
	}
	if last, err := dt.LastRun(t.Context()); err != nil || last.Before(before.Add(-time.Second)) {
		t.Errorf("LastRun after a run started at %s = %s, %v", before, last, err)
	}
}

// A configuration the client refuses is final: `sync` exits 2 (a usage error, as before) and the
// daemon's run of the tenant is not retried.
func TestSyncOnceConfigErrorIsFinal(t *testing.T) {
	t.Parallel()
	a := &app{cfg: config.Default(), stderr: io.Discard}
	_, err := a.runs().Sync(t.Context(), nil, engageclient.Config{}, config.Tenant{}, tenant.Options{})
	if !errors.Is(err, tenant.ErrConfig) {
		t.Fatalf("syncOnce with no credentials = %v, want tenant.ErrConfig", err)
	}
	var ee *exitError
	if exit := syncExit(nil, err, "engage"); !errors.As(exit, &ee) || ee.code != exitUsage {
		t.Errorf("sync's exit for it = %v, want a usage error", exit)
	}
	if want := "engageclient: Config.ClientID is required"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error text = %q, want it to start with %q", err, want)
	}

	tn := a.cfg.TopLevelTenant()
	tn.RingCentral = config.RingCentral{} // no credentials: the client refuses its config
	dt, err := a.daemonTenant(nil, tn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dt.Run(t.Context(), "schedule"); !errors.Is(err, daemon.ErrFinal) || !errors.Is(err, tenant.ErrConfig) {
		t.Errorf("the daemon's run = %v, want an error matching daemon.ErrFinal", err)
	}
}

// A daemon started on a migrated database is ready at once, before any run; a tenant schema
// dropped under it makes /readyz answer 503 naming the tenant's schema.
func TestReadyzChecksTheTenantSchemas(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	if err := daemon.Migrate(t.Context(), pool, testControlSchema); err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	tn := c.TopLevelTenant()
	tn.Schema = schema
	dt, err := (&app{cfg: c, logger: slog.New(slog.DiscardHandler)}).daemonTenant(pool, tn)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(pool, daemon.Config{ControlSchema: testControlSchema, Listen: "127.0.0.1:0",
		DefaultTenant: config.TenantDefault, Logger: fixture.TestLogger(t), Registry: prometheus.NewRegistry()}, []daemon.Tenant{dt})
	if err != nil {
		t.Fatal(err)
	}
	stop := startDaemon(t, d)
	<-d.Listening()
	url := "http://" + d.Addr() + "/readyz"
	fixture.Eventually(t, "/readyz to answer 200", func() bool { code, _ := fixture.HTTPGet(t, url); return code == 200 })
	if _, err := pool.Exec(t.Context(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Fatal(err)
	}
	code, body := fixture.HTTPGet(t, url)
	if want := "not ready: migrations: schema " + schema + " does not exist: run 'syncer migrate up'"; code != 503 || !strings.HasPrefix(body, want) {
		t.Errorf("/readyz with the tenant's schema dropped = %d %q, want 503 %q...", code, body, want)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// A tenant with streams has the daemon's stream job: its streams schedule (which the replicas
// that lack it read back from its spec), its stream run, whose config errors are final, and
// its lag; a tenant with streams.enabled empty has none.
func TestDaemonTenantStreams(t *testing.T) {
	t.Parallel()
	a := &app{cfg: config.Default(), stderr: io.Discard, logger: slog.New(slog.DiscardHandler)}
	tn := a.cfg.TopLevelTenant()
	tn.RingCentral = config.RingCentral{} // no credentials: the client refuses its config
	dt, err := a.daemonTenant(nil, tn)
	if err != nil {
		t.Fatal(err)
	}
	if dt.RunStreams == nil || dt.StreamLag == nil || dt.StreamsSchedule == nil {
		t.Fatal("a tenant with streams.enabled has no RunStreams, StreamLag or StreamsSchedule")
	}
	if !slices.Equal(dt.Streams, tn.Streams.Enabled) || dt.StreamsCron != config.StreamsScheduleDefault {
		t.Errorf("streams %v on %q, want %v on %q", dt.Streams, dt.StreamsCron, tn.Streams.Enabled, config.StreamsScheduleDefault)
	}
	sched, err := parseSpec(dt.StreamsSpec)
	if err != nil {
		t.Fatalf("parseSpec(%s): %v", dt.StreamsSpec, err)
	}
	from := time.Date(2026, 12, 2, 1, 7, 0, 0, time.UTC)
	if got, want := sched.Next(from), time.Date(2026, 12, 2, 1, 15, 0, 0, time.UTC); !got.Equal(want) || !dt.StreamsSchedule.Next(from).Equal(want) {
		t.Errorf("the streams schedule's next after %s: %s from the spec, %s from the tenant; want %s", from, got, dt.StreamsSchedule.Next(from), want)
	}
	if _, err := dt.RunStreams(t.Context(), "streams"); !errors.Is(err, daemon.ErrFinal) || !errors.Is(err, tenant.ErrConfig) {
		t.Errorf("the daemon's stream run = %v, want an error matching daemon.ErrFinal", err)
	}
	tn.Streams.Enabled = nil
	if dt, err = a.daemonTenant(nil, tn); err != nil {
		t.Fatal(err)
	}
	if dt.RunStreams != nil || dt.StreamLag != nil {
		t.Error("a tenant without streams has a stream run or a lag")
	}
}

// The lag the daemon exports and checks is each enabled stream's worst sub-account's, leaving
// out the sub-accounts not entitled, those deleted upstream, and the streams not enabled. A
// stream never read lags from its first window.
func TestWorstLag(t *testing.T) {
	t.Parallel()
	hw := time.Now()
	rows := []db.StreamStatus{
		{Stream: entity.AuditLog, SubAccountID: "1", HighWater: &hw, Lag: time.Hour, Live: true},
		{Stream: entity.AuditLog, SubAccountID: "2", HighWater: &hw, Lag: 3 * time.Hour, Live: true},
		{Stream: entity.AuditLog, SubAccountID: "3", HighWater: &hw, Lag: 90 * time.Hour, NotEntitled: true, Live: true},
		{Stream: entity.AuditLog, SubAccountID: "4", HighWater: &hw, Lag: 50 * time.Hour}, // deleted upstream
		{Stream: "interaction_segments", SubAccountID: "1", HighWater: &hw, Lag: 5 * time.Hour, Live: true},
		{Stream: "agent_stats", SubAccountID: "1", HighWater: &hw, Lag: 7 * time.Hour, Live: true}, // never read
	}
	got := worstLag(rows, []entity.Name{entity.AuditLog, "agent_stats"})
	want := map[entity.Name]time.Duration{entity.AuditLog: 3 * time.Hour, "agent_stats": 7 * time.Hour}
	if !maps.Equal(got, want) {
		t.Errorf("worstLag = %v, want %v", got, want)
	}
}

// A stream run's result becomes the daemon's outcome: its status, API counters and windows
// per stream summed over the sub-accounts.
func TestStreamOutcomeOf(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	o := streamOutcomeOf(&syncrun.StreamResult{RunID: 9, Status: db.RunPartial, Started: t0, Finished: t0.Add(time.Minute),
		Scopes: []syncrun.StreamScope{
			{Stream: entity.AuditLog, SubAccountID: "1", Read: 2, Failed: 1},
			{Stream: entity.AuditLog, SubAccountID: "2", Read: 3, Left: 4},
		},
		API: engageclient.Stats{Requests: 7, RateLimited: 1}})
	if o.RunID != 9 || o.Status != daemon.StatusPartial || o.APIRequests != 7 || o.RateLimited != 1 || !o.Finished.Equal(t0.Add(time.Minute)) {
		t.Errorf("outcome = %+v", o)
	}
	if got, want := o.Windows[entity.AuditLog], (daemon.StreamWindows{Read: 5, Failed: 1, Left: 4}); got != want || len(o.Windows) != 1 {
		t.Errorf("windows = %v, want audit_log %v", o.Windows, want)
	}
	if o := streamOutcomeOf(nil); o.Status != daemon.StatusFailed {
		t.Errorf("the outcome of no result: status %s, want failed", o.Status)
	}
}
