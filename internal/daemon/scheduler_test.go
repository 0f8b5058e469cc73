package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

const controlSchema = "evsync"

// openPool opens a pool on url, closed when the test ends.
func openPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func every(t testing.TB, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// interval is one run of a tenant as the run function saw it.
type interval struct {
	tenant     string
	attempt    int
	start, end time.Time
	replica    int
}

// recorder records the runs of every replica.
type recorder struct {
	mu   sync.Mutex
	runs []interval
}

func (r *recorder) add(iv interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, iv)
}

func (r *recorder) of(tenant string) []interval {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []interval
	for _, iv := range r.runs {
		if iv.tenant == tenant {
			out = append(out, iv)
		}
	}
	return out
}

// startReplica starts a daemon on its own pool; it is stopped when the test ends unless the
// test stops it first.
func startReplica(t testing.TB, url string, cfg schedulerConfig) *scheduler {
	t.Helper()
	pool := openPool(t, url)
	if err := Migrate(context.Background(), pool, cfg.Schema); err != nil {
		t.Fatal(err)
	}
	d, err := newScheduler(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Stop(ctx) // stopping twice is harmless; the test checked the first stop
	})
	return d
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- Migrate(context.Background(), pool, controlSchema) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'river_job'", controlSchema).Scan(&n); err != nil || n != 1 {
		t.Fatalf("river_job in %s: %d tables, err %v", controlSchema, n, err)
	}
	if err := Migrate(context.Background(), pool, "bad-schema"); err == nil {
		t.Fatal("Migrate with a bad schema name: got nil")
	}
}

// A role that owns the control schema, with TEMP but no CREATE on the database, migrates
// River's tables into it and runs a tenant (issue 21, #14).
func TestMigrateAsControlSchemaOwnerOnly(t *testing.T) {
	t.Parallel()
	pool := openPool(t, dbtest.NewRole(t, dbtest.NewURL(t), controlSchema))
	for i := range 2 {
		if err := Migrate(t.Context(), pool, controlSchema); err != nil {
			t.Fatalf("Migrate #%d as the control schema's owner: %v", i+1, err)
		}
	}
	ran := make(chan struct{}, 1)
	d, err := newScheduler(pool, schedulerConfig{Schema: controlSchema, MaxWorkers: 1,
		Tenants: []Tenant{{Name: "a", Schedule: every(t, "@hourly"), RunOnStart: true, Timeout: time.Minute}},
		Run: func(context.Context, string, int) error {
			select {
			case ran <- struct{}{}:
			default:
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stopping: %v", err)
		}
	}()
	select {
	case <-ran:
	case <-time.After(2 * time.Minute):
		t.Fatal("the tenant did not run within 2 minutes")
	}
}

// A replica's role that only reads and writes the control schema's tables, created by another
// role (an operator's `migrate up`), migrates again and registers its tenants: Migrate asks
// neither CREATE nor ownership for what exists already (the registry's streams_spec column
// included).
func TestMigrateAsReaderWriterOfAnotherRolesTables(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	admin := openPool(t, url)
	if err := Migrate(t.Context(), admin, controlSchema); err != nil {
		t.Fatal(err)
	}
	role := dbtest.NewRole(t, url) // owns no schema: the tables and the schema are the admin's
	pool := openPool(t, role)      // NewRole drops the role, its grants with it, when the test ends
	var name string
	if err := pool.QueryRow(t.Context(), "SELECT current_user").Scan(&name); err != nil {
		t.Fatal(err)
	}
	r := pgx.Identifier{name}.Sanitize()
	s := pgx.Identifier{controlSchema}.Sanitize()
	for _, stmt := range []string{
		"GRANT USAGE ON SCHEMA " + s + " TO " + r,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + s + " TO " + r,
	} {
		if _, err := admin.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatalf("Migrate as a reader and writer of the admin's tables: %v", err)
	}
	d, err := newScheduler(pool, schedulerConfig{Schema: controlSchema, MaxWorkers: 1,
		Tenants: []Tenant{{Name: "a", Schedule: every(t, "@hourly"), Timeout: time.Minute,
			RunStreams:  func(context.Context, string) (Outcome, error) { return Outcome{}, nil },
			StreamsSpec: "*/15 * * * *", StreamsSchedule: every(t, "*/15 * * * *")}},
		Run:        func(context.Context, string, int) error { return nil },
		RunStreams: func(context.Context, string, int) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	d.reg.beat(t.Context())
	var spec *string
	if err := admin.QueryRow(t.Context(), "SELECT streams_spec FROM "+s+"."+registryTable+" WHERE tenant = 'a'").Scan(&spec); err != nil {
		t.Fatalf("reading the registry: %v", err)
	}
	if spec == nil || *spec != "*/15 * * * *" {
		t.Fatalf("streams_spec registered: %v, want */15 * * * *", spec)
	}
}

// A registry table of a release before the streams (no streams_spec) gets the column.
func TestMigrateAddsStreamsSpecToAnOldRegistry(t *testing.T) {
	t.Parallel()
	pool := openPool(t, dbtest.NewURL(t))
	s := pgx.Identifier{controlSchema}.Sanitize()
	for _, stmt := range []string{"CREATE SCHEMA " + s, `CREATE TABLE ` + s + `.` + registryTable + ` (
	replica text NOT NULL,
	tenant text NOT NULL,
	spec text NOT NULL,
	seen_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (replica, tenant)
)`, "INSERT INTO " + s + "." + registryTable + " (replica, tenant, spec) VALUES ('old', 'a', '@hourly')"} {
		if _, err := pool.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for i := range 2 {
		if err := Migrate(t.Context(), pool, controlSchema); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	var spec *string
	if err := pool.QueryRow(t.Context(), "SELECT streams_spec FROM "+s+"."+registryTable+" WHERE replica = 'old'").Scan(&spec); err != nil {
		t.Fatalf("reading streams_spec: %v", err)
	}
	if spec != nil {
		t.Fatalf("an old replica's streams_spec: %q, want NULL", *spec)
	}
}

// TestReplicasRunEveryTenantWithoutOverlap runs three tenants on two replicas with a 1 s
// schedule and runs that take longer than the interval: every tenant runs repeatedly, no two
// runs of a tenant overlap, a failed run is retried before the next tick, and a NoRetry error
// is not retried. How soon the first run starts is BenchmarkFirstRunLatency's to measure.
func TestReplicasRunEveryTenantWithoutOverlap(t *testing.T) {
	if testing.Short() {
		t.Skip("several replicas: skipped with -short")
	}
	t.Parallel()
	url := dbtest.NewURL(t)
	rec := &recorder{}
	run := func(replica int) jobFunc {
		return func(ctx context.Context, tenant string, attempt int) error {
			iv := interval{tenant: tenant, attempt: attempt, start: time.Now(), replica: replica}
			defer func() { iv.end = time.Now(); rec.add(iv) }()
			select {
			case <-time.After(1200 * time.Millisecond): // longer than the interval
			case <-ctx.Done():
				return ctx.Err()
			}
			switch {
			case tenant == "flaky" && attempt == 1:
				return errors.New("API down")
			case tenant == "partial":
				return NoRetry(errors.New("run partial"))
			}
			return nil
		}
	}
	var tenants []Tenant
	for _, name := range []string{"acme", "flaky", "partial"} {
		tenants = append(tenants, Tenant{Name: name, Schedule: every(t, "@every 1s"), Timeout: time.Minute, Retries: 2})
	}
	var ds []*scheduler
	for i := range 2 {
		ds = append(ds, startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 4, Tenants: tenants, Run: run(i),
			Grace: time.Second, FetchPollInterval: 100 * time.Millisecond}))
	}
	// A generous bound, left at once when the runs are there: a busy machine is slow.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if len(rec.of("acme")) >= 3 && len(rec.of("flaky")) >= 3 && len(rec.of("partial")) >= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, d := range ds {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cancel()
	}

	for _, name := range []string{"acme", "flaky", "partial"} {
		runs := rec.of(name)
		if len(runs) < 2 {
			t.Errorf("tenant %s ran %d times, want repeatedly", name, len(runs))
			continue
		}
		for i := 1; i < len(runs); i++ {
			if runs[i].start.Before(runs[i-1].end) {
				t.Errorf("tenant %s: run %d started at %s, before run %d ended at %s", name, i, runs[i].start, i-1, runs[i-1].end)
			}
		}
	}
	// flaky's failed first attempt was retried (attempt 2) before a new job began (attempt 1).
	flaky := rec.of("flaky")
	if len(flaky) >= 2 && (flaky[0].attempt != 1 || flaky[1].attempt != 2) {
		t.Errorf("flaky's first runs were attempts %d, %d; want 1 then its retry 2", flaky[0].attempt, flaky[1].attempt)
	}
	for _, iv := range rec.of("partial") {
		if iv.attempt != 1 {
			t.Errorf("partial was retried (attempt %d); a NoRetry error must not be", iv.attempt)
		}
	}
}

func TestStopCancelsTheRunningRun(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	running := make(chan struct{})
	ended := make(chan error, 1)
	run := func(ctx context.Context, _ string, _ int) error {
		close(running)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}
	d := startReplica(t, url, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Run: run, Grace: time.Second,
		Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), RunOnStart: true, Timeout: time.Hour}}})
	select {
	case <-running:
	case <-time.After(time.Minute):
		t.Fatal("the run on start did not begin within a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the run ended with %v, want context.Canceled", err)
		}
	default:
		t.Fatal("Stop returned before the run ended")
	}
}

func TestRetryDelayFallsBeforeTheNextTick(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		spec    string
		attempt int
		want    time.Duration
	}{
		{"@every 10s", 1, time.Second},
		{"@every 1s", 3, time.Second},
		{"@every 1m", 1, 6 * time.Second},
		{"@every 1m", 2, 12 * time.Second},
		{"@hourly", 1, 6 * time.Minute},
		{"@daily", 1, 10 * time.Minute},
		{"@daily", 5, 10 * time.Minute},
	} {
		if got := retryDelay(every(t, tt.spec), now, tt.attempt); got != tt.want {
			t.Errorf("retryDelay(%s, attempt %d) = %s, want %s", tt.spec, tt.attempt, got, tt.want)
		}
	}
}

// A job the rescuer hands back was attempted longer ago than any live run lasts: its replica
// died, the run did not fail, and it runs again at once rather than after a daily backoff.
func TestNextRetryOfARescuedJobIsImmediate(t *testing.T) {
	t.Parallel()
	tn := Tenant{Name: "acme", Schedule: every(t, "@daily"), Timeout: time.Hour}
	w := &syncWorker{kind: runsKind, tenants: map[string]Tenant{"acme": tn}, rescueAfter: time.Hour + 30*time.Second}
	at := func(ago time.Duration) *river.Job[SyncArgs] {
		attempted := time.Now().Add(-ago)
		return &river.Job[SyncArgs]{JobRow: &rivertype.JobRow{Attempt: 1, AttemptedAt: &attempted}, Args: SyncArgs{Tenant: "acme"}}
	}
	if d := time.Until(w.NextRetry(at(2 * time.Hour))); d > 2*time.Second {
		t.Errorf("a rescued job retries in %s, want about 1s", d)
	}
	if d := time.Until(w.NextRetry(at(5 * time.Minute))); d < 9*time.Minute {
		t.Errorf("a failed run retries in %s, want its backoff (10m for @daily)", d)
	}
}

func TestInZoneReadsTheFieldsInTheZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := InZone(every(t, "0 2 * * *"), berlin)
	next := s.Next(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("02:00 in Berlin after noon UTC = %s, want %s", next.UTC(), want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ok := Tenant{Name: "acme", Schedule: every(t, "@daily"), Timeout: time.Hour}
	run := func(context.Context, string, int) error { return nil }
	for _, tt := range []struct {
		name string
		cfg  schedulerConfig
		want string
	}{
		{"no run", schedulerConfig{Schema: "evsync", MaxWorkers: 1, Tenants: []Tenant{ok}}, "no run function"},
		{"no workers", schedulerConfig{Schema: "evsync", Run: run, Tenants: []Tenant{ok}}, "max workers"},
		{"no tenants", schedulerConfig{Schema: "evsync", MaxWorkers: 1, Run: run}, "no tenants"},
		{"bad schema", schedulerConfig{Schema: "Bad Schema", MaxWorkers: 1, Run: run, Tenants: []Tenant{ok}}, "control schema"},
		{"twice", schedulerConfig{Schema: "evsync", MaxWorkers: 1, Run: run, Tenants: []Tenant{ok, ok}}, "listed twice"},
		{"no timeout", schedulerConfig{Schema: "evsync", MaxWorkers: 1, Run: run, Tenants: []Tenant{{Name: "x", Schedule: ok.Schedule}}}, "timeout must be positive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newScheduler(nil, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNoRetryKeepsTheError(t *testing.T) {
	t.Parallel()
	base := fmt.Errorf("auth: %w", context.DeadlineExceeded)
	err := NoRetry(base)
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != base.Error() {
		t.Errorf("NoRetry(%v) = %v", base, err)
	}
	if NoRetry(nil) != nil {
		t.Error("NoRetry(nil) != nil")
	}
}
