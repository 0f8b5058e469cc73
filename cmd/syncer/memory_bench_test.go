package main

import (
	"bytes"
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// syncPeakRSS syncs a generated tenant of spec into a fresh database with the real binary,
// unpaced (no latency, no rate limit: the fetch runs as fast as the machine allows, which
// buffers the most), checks that every agent landed, and returns the process's peak RSS
// in KiB.
func syncPeakRSS(b *testing.B, bin string, spec engagefake.TenantSpec) int64 {
	b.Helper()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: spec})
	url := fake.Start()
	defer fake.Close()
	dbURL := dbtest.NewURL(b)
	pool, err := pgxpool.New(b.Context(), dbURL)
	if err != nil {
		b.Fatalf("connecting to the test database: %v", err)
	}
	defer pool.Close()
	cfgPath := writeConfigFile(b, "engage:\n  requests_per_minute: 100000\nlog:\n  level: warn\n")
	ctx, cancel := context.WithTimeout(b.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "sync")
	cmd.Env = syncerEnv(dbURL, url, fake.Options())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("syncer sync: %v\n%s", err, out.String())
	}
	var live int64
	if err := pool.QueryRow(b.Context(), "SELECT count(*) FROM engage.agents WHERE deleted_at IS NULL").Scan(&live); err != nil {
		b.Fatalf("counting agents: %v", err)
	}
	if want := int64(fake.Counts().Agents); live != want {
		b.Fatalf("live agents = %d, want %d", live, want)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the child process")
	}
	return ru.Maxrss // KiB on Linux
}

// BenchmarkSyncMemory measures the peak RSS of `syncer sync` (built without -race) over the
// bench tenant (2,000 users; per sub-account 25 agent groups of 200 agents and the
// configuration of BenchmarkFullSync) with 20 and 60 sub-accounts (100,000 and 300,000
// agents), and over a base tenant of one sub-account with 25 agents. It reports the three
// peaks and the sizing docs/operating.md states: the base, and the MiB per 100,000 agents
// (the slope from the base to 300,000 agents). Run it with
//
//	go test -run '^$' -bench BenchmarkSyncMemory -benchtime 1x ./cmd/syncer
func BenchmarkSyncMemory(b *testing.B) {
	b.StopTimer() // RSS, not time, is measured
	bin := buildBenchBinary(b)
	base, large := benchTenant, benchTenant
	base.SubAccountsPerMain, base.AgentsPerGroup = 1, 1
	var rssBase, rss100k, rss300k int64
	for range b.N {
		rssBase = max(rssBase, syncPeakRSS(b, bin, base))
		rss100k = max(rss100k, syncPeakRSS(b, bin, benchTenant))
		large.SubAccountsPerMain = 3 * benchTenant.SubAccountsPerMain
		rss300k = max(rss300k, syncPeakRSS(b, bin, large))
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.Logf("peak RSS: %.1f MiB at 25 agents, %.1f MiB at 100,000, %.1f MiB at 300,000", mib(rssBase), mib(rss100k), mib(rss300k))
	b.ReportMetric(mib(rssBase), "base_rss_MiB")
	b.ReportMetric(mib(rss100k), "peak_rss_100k_MiB")
	b.ReportMetric(mib(rss300k), "peak_rss_300k_MiB")
	b.ReportMetric((mib(rss300k)-mib(rssBase))/3, "rss_MiB_per_100k_agents")
}
