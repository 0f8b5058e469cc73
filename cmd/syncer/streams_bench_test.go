package main

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// rssBusyPerHour is the busy sub-account's dialogs an hour: about 50,000 segments in a
// 3-hour window.
const rssBusyPerHour = 9300

// BenchmarkSyncerRSS50kWindow measures the peak RSS of `syncer backfill` (built without -race)
// reading one 3-hour window of interaction_segments of a busy sub-account, about 50,000
// segments in one response, unpaced, into a fresh database. The window's items are decoded one
// at a time while the publish copies them, so the peak must not grow with the window: the
// target is under 100 MiB. It reports peak_rss_MiB and the segments stored. Run it with
//
//	go test -run '^$' -bench BenchmarkSyncerRSS50kWindow -benchtime 1x ./cmd/syncer
func BenchmarkSyncerRSS50kWindow(b *testing.B) {
	b.StopTimer() // RSS, not time, is measured
	bin := buildBenchBinary(b)
	const busy = "20001"
	var peak, stored int64
	for range b.N {
		fake := engagefake.New(engagefake.Options{Seed: 50,
			Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 4, AgentsPerGroup: 25,
				Users: 2, QueueGroupsPerSubAccount: 2, QueuesPerGroup: 5, AgentsPerQueue: 20, DialGroupsPerSubAccount: -1},
			AuditPerHour: -1, CallDays: 1, CallsPerHour: 1, CallsPerHourBy: map[string]int{busy: rssBusyPerHour},
			ReportingUnlimited: true})
		url := fake.Start()
		if subs := fake.SubAccountIDs(); !slices.Contains(subs, busy) {
			fake.Close()
			b.Fatalf("sub-accounts %v: the benchmark's busy one is %s", subs, busy)
		}
		dbURL := dbtest.NewURL(b)
		pool, err := pgxpool.New(b.Context(), dbURL)
		if err != nil {
			fake.Close()
			b.Fatalf("connecting to the test database: %v", err)
		}
		// The last window due now (closed for the default first delay of 20 minutes): the
		// backfill reads it alone.
		end := time.Now().Add(-20 * time.Minute).Truncate(3 * time.Hour)
		start := end.Add(-3 * time.Hour)
		// What the fake serves grows as late segments appear: the read holds what it served
		// between the run's start and end.
		servedBefore := len(fake.SegmentsAt(busy, start, end, time.Now()))
		cfgPath := writeConfigFile(b, "log:\n  level: warn\n")
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "backfill", "--since", start.Format(time.RFC3339),
			"--until", end.Format(time.RFC3339), "--streams", "interaction_segments", "--sub-account", busy)
		cmd.Env = slices.DeleteFunc(syncerEnv(dbURL, url, fake.Options()), func(v string) bool { return strings.HasPrefix(v, envNoStreams) })
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		cancel()
		servedAfter := len(fake.SegmentsAt(busy, start, end, time.Now()))
		fake.Close()
		if err != nil {
			pool.Close()
			b.Fatalf("syncer backfill: %v\n%s", err, out.String())
		}
		var n int64
		err = pool.QueryRow(b.Context(), "SELECT count(*) FROM engage.interaction_segments WHERE sub_account_id = $1", busy).Scan(&n)
		pool.Close()
		if err != nil {
			b.Fatalf("counting segments: %v", err)
		}
		if n < int64(servedBefore) || n > int64(servedAfter) || n < 40000 {
			b.Fatalf("%d segments stored, %d–%d served in the window %s–%s (want about 50,000)", n, servedBefore, servedAfter,
				start.Format(time.RFC3339), end.Format(time.RFC3339))
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			b.Fatal("no rusage for the child process")
		}
		peak, stored = max(peak, ru.Maxrss), n // Maxrss: KiB on Linux
	}
	mib := float64(peak) / 1024
	b.Logf("peak RSS %.1f MiB for %d segments", mib, stored)
	b.ReportMetric(mib, "peak_rss_MiB")
	b.ReportMetric(float64(stored), "segments")
}
