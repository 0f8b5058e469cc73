package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

const (
	manyTenants        = 50
	manyReplicas       = 2
	manyRunsPerReplica = 5  // schedule.max_concurrent_runs
	manyPerMinute      = 60 // each tenant's fake rate limit and engage.requests_per_minute
	manyLatency        = 30 * time.Millisecond
)

// BenchmarkDaemonManyTenants is issue #12's scale case: 50 small tenants, each with its own
// fake API rate-limited to 60 admin requests a minute (and the syncer paced to match), synced
// by two `syncer run` replicas (the real binary, without -race) on one database, with
// schedule.max_concurrent_runs 5: 10 runs in flight, so 5 waves. Every tenant is scheduled
// @yearly with run_on_start, so each runs once, as River's leader enqueues them at start.
// The database is migrated before the replicas start (as a deploy's `syncer migrate` would).
//
// The lower bound is waves × the slowest tenant's admin requests ÷ its rate (issue #12);
// wall time runs from the replicas' start to the last run's finished_at. It also reports each
// replica's peak RSS and the most connections pg_stat_activity showed on the database. Run
//
//	go test -run '^$' -bench BenchmarkDaemonManyTenants -benchtime 1x ./cmd/syncer
//
// Target: speed_vs_lower_bound >= 0.9, 429s 0.
func BenchmarkDaemonManyTenants(b *testing.B) {
	b.StopTimer()
	bin := buildBenchBinary(b)
	for range b.N {
		r := runManyTenants(b, bin)
		b.Logf("wall %s (first run started after %s), lower bound %s (%d waves × %d requests ÷ %d/min), pacing bound %s, 429s %d, peak RSS %.1f / %.1f MiB, most connections %d, runs per replica %v",
			r.wall.Round(time.Millisecond), r.head.Round(time.Millisecond), r.lowerBound, r.waves, r.maxRequests, manyPerMinute,
			r.pacingBound, r.limited, float64(r.rssKiB[0])/1024, float64(r.rssKiB[1])/1024, r.maxConns, r.perReplica)
		b.ReportMetric(r.lowerBound.Seconds()/r.wall.Seconds(), "speed_vs_lower_bound")
		b.ReportMetric(r.pacingBound.Seconds()/r.wall.Seconds(), "speed_vs_pacing_bound")
		b.ReportMetric(r.wall.Seconds(), "wall_s")
		b.ReportMetric(r.lowerBound.Seconds(), "lower_bound_s")
		b.ReportMetric(r.head.Seconds(), "head_s")
		b.ReportMetric(float64(r.limited), "429s")
		b.ReportMetric(float64(max(r.rssKiB[0], r.rssKiB[1]))/1024, "peak_rss_MiB")
		b.ReportMetric(float64(r.maxConns), "max_pg_connections")
	}
}

type manyTenantsRun struct {
	wall, head, lowerBound, pacingBound time.Duration
	waves, maxRequests                  int
	limited                             int64
	rssKiB                              [manyReplicas]int64
	maxConns                            int64
	perReplica                          [manyReplicas]int
}

func runManyTenants(b *testing.B, bin string) manyTenantsRun {
	b.Helper()
	dbURL := dbtest.NewURL(b)
	pool, err := pgxpool.New(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()

	fakes := make([]*engagefake.Server, manyTenants)
	var cfg strings.Builder
	env := []string{"EVSYNC_DATABASE_URL=" + dbURL}
	for i := range fakes {
		f := engagefake.New(engagefake.Options{Seed: int64(i + 1), Tenant: smallTenant, Latency: manyLatency,
			RateLimit: manyPerMinute, RateLimitRetryAfter: true})
		url := f.Start()
		defer f.Close()
		fakes[i] = f
		if i == 0 {
			fmt.Fprintf(&cfg, `ringcentral:
  client_id: %s
engage:
  requests_per_minute: %d
  concurrency: 4
schedule:
  cron: '@yearly'
  run_on_start: true
  max_concurrent_runs: %d
  timeout: 5m
log:
  level: warn
  format: json
tenants:
`, f.Options().ClientID, manyPerMinute, manyRunsPerReplica)
		}
		name := fmt.Sprintf("t%02d", i)
		fmt.Fprintf(&cfg, "  - name: %s\n    ringcentral: {server_url: '%s'}\n    engage: {server_url: '%s'}\n", name, url, url)
		env = append(env, config.TenantEnv(name, "RC_CLIENT_SECRET")+"="+f.Options().ClientSecret, config.TenantEnv(name, "RC_JWT")+"="+f.Options().JWT)
	}
	cfgPath := writeConfigFile(b, cfg.String())
	command := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append([]string{"--config", cfgPath}, args...)...)
		cmd.Env = env
		return cmd
	}
	if out, err := command(b.Context(), "migrate").CombinedOutput(); err != nil {
		b.Fatalf("syncer migrate: %v\n%s", err, out)
	}

	// Sample the database's connections while the replicas run.
	var maxConns int64
	sampleCtx, stopSampling := context.WithCancel(b.Context())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampleCtx.Err() == nil {
			var n int64
			if err := pool.QueryRow(sampleCtx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&n); err == nil {
				maxConns = max(maxConns, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	var union []string
	for i := range manyTenants {
		union = append(union, fmt.Sprintf("SELECT status, started_at, finished_at FROM engage_t%02d.sync_runs", i))
	}
	runs := "(" + strings.Join(union, " UNION ALL ") + ") r"

	procs := make([]*exec.Cmd, manyReplicas)
	logs := make([]*lockedBuffer, manyReplicas)
	b.StartTimer()
	start := time.Now()
	for i := range procs {
		logs[i] = &lockedBuffer{}
		procs[i] = command(context.WithoutCancel(b.Context()), "run")
		procs[i].Stderr = logs[i]
		if err := procs[i].Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = procs[i].Process.Kill() }()
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var done int64
		err := pool.QueryRow(b.Context(), "SELECT count(*) FROM "+runs+" WHERE status = 'succeeded'").Scan(&done)
		if err == nil && done >= manyTenants {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d tenants synced within 10 minutes (err %v); logs:\n%s\n%s", done, manyTenants, err, logs[0], logs[1])
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	var first, last time.Time
	var failed int64
	if err := pool.QueryRow(b.Context(), "SELECT min(started_at), max(finished_at), count(*) FILTER (WHERE status <> 'succeeded') FROM "+runs).Scan(&first, &last, &failed); err != nil {
		b.Fatal(err)
	}
	if failed != 0 {
		b.Fatalf("%d runs did not succeed; logs:\n%s\n%s", failed, logs[0], logs[1])
	}
	r := manyTenantsRun{wall: last.Sub(start), head: first.Sub(start)}
	for i, p := range procs {
		if err := p.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(); err != nil {
			b.Fatalf("replica %d: %v; log:\n%s", i+1, err, logs[i])
		}
		ru, ok := p.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			b.Fatal("no rusage for a replica")
		}
		r.rssKiB[i] = ru.Maxrss
	}
	stopSampling()
	<-sampled
	r.maxConns = maxConns

	// Which replica ran which run is not in the ledger: River's jobs say (attempted_by).
	rows, err := pool.Query(b.Context(), "SELECT count(*)::int FROM evsync.river_job GROUP BY attempted_by[1] ORDER BY 1 DESC")
	if err != nil {
		b.Fatal(err)
	}
	byReplica, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		b.Fatal(err)
	}
	copy(r.perReplica[:], byReplica)

	for _, f := range fakes {
		st := f.Stats()
		r.maxRequests = max(r.maxRequests, int(madeRequests(st)))
		r.limited += st.RateLimited
	}
	r.waves = (manyTenants + manyReplicas*manyRunsPerReplica - 1) / (manyReplicas * manyRunsPerReplica)
	r.lowerBound = time.Duration(r.waves*r.maxRequests) * time.Minute / manyPerMinute
	// A burst-1 limiter sends a run's first request at once and the others one interval apart.
	r.pacingBound = time.Duration(r.waves*(r.maxRequests-1)) * time.Minute / manyPerMinute
	return r
}

// lockedBuffer is a bytes.Buffer safe for a child's stderr and a reader at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
