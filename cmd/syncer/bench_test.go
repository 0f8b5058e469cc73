package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// The tenant of issue #4: 20 sub-accounts × 25 agent groups × 200 agents, plus 2,000 users;
// with issue #11's configuration: per sub-account 5 queue groups of 4 queues (50 agents each)
// and 5 skills, 3 dial groups of 4 campaigns (100 agents each).
var benchTenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 20, AgentGroupsPerSubAccount: 25, AgentsPerGroup: 200, Users: 2000,
	QueueGroupsPerSubAccount: 5, QueuesPerGroup: 4, SkillsPerQueueGroup: 5, AgentsPerQueue: 50,
	DialGroupsPerSubAccount: 3, CampaignsPerDialGroup: 4, AgentsPerDialGroup: 100}

const (
	benchLatency     = 30 * time.Millisecond
	benchConcurrency = 4
	benchPageSize    = 40 // assigned agents per page: 2 pages per queue, 3 per dial group
)

// benchRequests is what a full sync of the bench tenant needs (docs/api.md, "The listings a run makes"):
// accounts and users; per sub-account its agent groups, queue groups and dial groups; per
// agent group its agents, per queue group its skills; per queue and per dial group its
// assigned agents in pages of benchPageSize, a short page ending each.
func benchRequests(t engagefake.TenantSpec) int {
	pages := func(n int) int { return n/benchPageSize + 1 }
	perSub := 3 + t.AgentGroupsPerSubAccount + t.QueueGroupsPerSubAccount*(1+t.QueuesPerGroup*pages(t.AgentsPerQueue)) +
		t.DialGroupsPerSubAccount*pages(t.AgentsPerDialGroup)
	return 2 + t.MainAccounts*t.SubAccountsPerMain*perSub
}

// madeRequests are the admin API requests the fake answered.
func madeRequests(st engagefake.Stats) int64 {
	var n int64
	for _, ep := range []string{engagefake.EndpointAccounts, engagefake.EndpointUsers, engagefake.EndpointAgentGroups, engagefake.EndpointAgents,
		engagefake.EndpointGateGroups, engagefake.EndpointGateSkills, engagefake.EndpointGateAgents,
		engagefake.EndpointDialGroups, engagefake.EndpointDialGroupAgents} {
		n += st.Requests[ep]
	}
	return n
}

// benchBin is the syncer built without -race (the race detector would distort time and memory),
// once per test binary, in binDir so TestMain removes it.
var (
	benchBinOnce sync.Once
	benchBin     string
	benchBinErr  error
)

func buildBenchBinary(b *testing.B) string {
	b.Helper()
	benchBinOnce.Do(func() {
		benchBin = filepath.Join(binDir, "syncer-norace")
		cmd := exec.Command("go", "build", "-o", benchBin, ".")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			benchBinErr = fmt.Errorf("building the non-race syncer: %w\n%s", err, out.String())
		}
	})
	if benchBinErr != nil {
		b.Fatal(benchBinErr)
	}
	return benchBin
}

// adminTimes records when the fake received its first admin API request and when it finished
// answering its last one, to split a run's wall time into head (start, migrations, auth), fetch
// and tail (staging drain, publish, exit).
type adminTimes struct {
	first, last atomic.Int64 // unix nanoseconds
}

func (a *adminTimes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admin := strings.HasPrefix(r.URL.Path, "/voice/api/")
		if admin {
			a.first.CompareAndSwap(0, time.Now().UnixNano())
		}
		h.ServeHTTP(w, r)
		if admin {
			a.last.Store(time.Now().UnixNano())
		}
	})
}

// fullSyncRun is the outcome of one benchmarked `syncer sync`.
type fullSyncRun struct {
	wall, head, fetch, tail time.Duration
	needed, made, limited   int64
	maxRSSKiB               int64
}

// runFullSync syncs a freshly generated tenant into a fresh database with the real binary and
// checks the result. Only the child process is timed.
func runFullSync(b *testing.B, bin string, perMinute int) fullSyncRun {
	b.Helper()
	fake := engagefake.New(engagefake.Options{
		Seed: 1, Tenant: benchTenant, Latency: benchLatency,
		RateLimit: perMinute, RateLimitRetryAfter: true,
	})
	var times adminTimes
	hs := httptest.NewServer(times.wrap(fake))
	defer hs.Close()
	dbURL := dbtest.NewURL(b)
	pool, err := pgxpool.New(b.Context(), dbURL)
	if err != nil {
		b.Fatalf("connecting to the test database: %v", err)
	}
	defer pool.Close()

	cfgPath := writeConfigFile(b, fmt.Sprintf("engage:\n  requests_per_minute: %d\n  concurrency: %d\n  assigned_agents_page_size: %d\nlog:\n  level: info\n",
		perMinute, benchConcurrency, benchPageSize))
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "sync")
	cmd.Env = syncerEnv(dbURL, hs.URL, fake.Options())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb

	b.StartTimer()
	start := time.Now()
	err = cmd.Run()
	end := time.Now()
	b.StopTimer()
	if err != nil {
		b.Fatalf("syncer sync: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}

	counts := fake.Counts()
	var live int64
	if err := pool.QueryRow(b.Context(), "SELECT count(*) FROM engage.agents WHERE deleted_at IS NULL").Scan(&live); err != nil {
		b.Fatalf("counting agents: %v", err)
	}
	if want := int64(benchTenant.SubAccountsPerMain * benchTenant.AgentGroupsPerSubAccount * benchTenant.AgentsPerGroup); live != want || int64(counts.Agents) != want {
		b.Fatalf("live agents = %d (fake has %d), want %d", live, counts.Agents, want)
	}
	for table, want := range map[string]int{
		"queues":            counts.SubAccounts * benchTenant.QueueGroupsPerSubAccount * benchTenant.QueuesPerGroup,
		"agent_queues":      counts.SubAccounts * benchTenant.QueueGroupsPerSubAccount * benchTenant.QueuesPerGroup * benchTenant.AgentsPerQueue,
		"campaigns":         counts.SubAccounts * benchTenant.DialGroupsPerSubAccount * benchTenant.CampaignsPerDialGroup,
		"agent_dial_groups": counts.SubAccounts * benchTenant.DialGroupsPerSubAccount * benchTenant.AgentsPerDialGroup,
	} {
		var n int64
		if err := pool.QueryRow(b.Context(), "SELECT count(*) FROM engage."+table+" WHERE deleted_at IS NULL").Scan(&n); err != nil {
			b.Fatalf("counting %s: %v", table, err)
		}
		if n != int64(want) {
			b.Fatalf("live %s = %d, want %d", table, n, want)
		}
	}
	var status string
	if err := pool.QueryRow(b.Context(), "SELECT status FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&status); err != nil {
		b.Fatalf("reading the run: %v", err)
	}
	if status != "succeeded" {
		b.Fatalf("run recorded %q, want succeeded", status)
	}

	st := fake.Stats()
	run := fullSyncRun{
		wall:    end.Sub(start),
		needed:  int64(benchRequests(benchTenant)),
		made:    madeRequests(st),
		limited: st.RateLimited,
	}
	if first, last := times.first.Load(), times.last.Load(); first != 0 {
		run.head = time.Unix(0, first).Sub(start)
		run.fetch = time.Unix(0, last).Sub(time.Unix(0, first))
		run.tail = end.Sub(time.Unix(0, last))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSSKiB = ru.Maxrss // KiB on Linux
	} else {
		b.Fatal("no rusage for the child process")
	}
	return run
}

// BenchmarkFullSync is issue #4 (and #11): a full sync of 100,000 agents and 2,000 users, and of
// the configuration (400 queues with 20,000 assignments, 240 campaigns with 6,000), through
// the fake with 30 ms latency and a rate limit of R requests a minute, R being the number of
// requests the run needs (so the lower bound is one minute). Run it with
//
//	go test -run '^$' -bench BenchmarkFullSync -benchtime 1x ./cmd/syncer
//
// Targets: speed_vs_lower_bound >= 0.9, extra_requests 0, 429s 0, peak_rss_MiB < 150.
func BenchmarkFullSync(b *testing.B) {
	b.StopTimer() // only the child process is timed
	bin := buildBenchBinary(b)
	needed := benchRequests(benchTenant) // 1,642
	perMinute := needed
	lowerBound := time.Duration(needed) * time.Minute / time.Duration(perMinute)

	var sum fullSyncRun
	var peakRSS int64
	for range b.N {
		r := runFullSync(b, bin, perMinute)
		if r.needed != int64(needed) {
			b.Fatalf("the fake's tenant needs %d requests, the benchmark assumes %d", r.needed, needed)
		}
		sum.wall += r.wall
		sum.head += r.head
		sum.fetch += r.fetch
		sum.tail += r.tail
		sum.made += r.made
		sum.limited += r.limited
		peakRSS = max(peakRSS, r.maxRSSKiB)
		b.Logf("wall %s (head %s, fetch %s, tail %s), lower bound %s, requests %d/%d, 429s %d, peak RSS %.1f MiB",
			r.wall.Round(time.Millisecond), r.head.Round(time.Millisecond), r.fetch.Round(time.Millisecond), r.tail.Round(time.Millisecond),
			lowerBound, r.made, r.needed, r.limited, float64(r.maxRSSKiB)/1024)
	}
	n := float64(b.N)
	wall := sum.wall.Seconds() / n
	b.ReportMetric(lowerBound.Seconds()/wall, "speed_vs_lower_bound")
	b.ReportMetric(wall, "wall_s")
	b.ReportMetric(lowerBound.Seconds(), "lower_bound_s")
	b.ReportMetric(sum.head.Seconds()/n, "head_s")
	b.ReportMetric(sum.fetch.Seconds()/n, "fetch_s")
	b.ReportMetric(sum.tail.Seconds()/n, "tail_s")
	b.ReportMetric(float64(sum.made)/n, "requests_made")
	b.ReportMetric(float64(needed), "requests_needed")
	b.ReportMetric(float64(sum.made)/n-float64(needed), "extra_requests")
	b.ReportMetric(float64(sum.limited)/n, "429s")
	b.ReportMetric(float64(peakRSS)/1024, "peak_rss_MiB")
}
