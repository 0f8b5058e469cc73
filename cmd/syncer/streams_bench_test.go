package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
// target is under 100 MiB. The peak is the child's VmHWM, polled: its rusage's Maxrss is this
// process's peak (see backfillRSS). It reports peak_rss_MiB, base_rss_MiB (the same backfill of
// a quiet sub-account's window, a few segments) and the segments stored. Run it with
//
//	go test -run '^$' -bench BenchmarkSyncerRSS50kWindow -benchtime 1x ./cmd/syncer
func BenchmarkSyncerRSS50kWindow(b *testing.B) {
	b.StopTimer() // RSS, not time, is measured
	bin := buildBenchBinary(b)
	var peak, base, stored int64
	for range b.N {
		rss, _ := backfillRSS(b, bin, rssQuiet)
		base = max(base, rss)
		rss, stored = backfillRSS(b, bin, rssBusy)
		if stored < 40000 {
			b.Fatalf("%d segments stored, want about 50,000", stored)
		}
		peak = max(peak, rss)
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.Logf("peak RSS %.1f MiB for %d segments; %.1f MiB for a quiet window", mib(peak), stored, mib(base))
	b.ReportMetric(mib(peak), "peak_rss_MiB")
	b.ReportMetric(mib(base), "base_rss_MiB")
	b.ReportMetric(float64(stored), "segments")
}

// The busy and the quiet sub-account of BenchmarkSyncerRSS50kWindow.
const (
	rssBusy  = "20001"
	rssQuiet = "20002"
)

// backfillRSS runs `syncer backfill` of the last window due of sub's interaction_segments into
// a fresh database and returns the process's peak RSS in KiB and the segments stored, which it
// checks against those the fake served.
func backfillRSS(b *testing.B, bin, sub string) (rss, stored int64) {
	b.Helper()
	fake := engagefake.New(engagefake.Options{Seed: 50,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 4, AgentsPerGroup: 25,
			Users: 2, QueueGroupsPerSubAccount: 2, QueuesPerGroup: 5, AgentsPerQueue: 20, DialGroupsPerSubAccount: -1},
		AuditPerHour: -1, CallDays: 1, CallsPerHour: 1, CallsPerHourBy: map[string]int{rssBusy: rssBusyPerHour},
		ReportingUnlimited: true})
	url := fake.Start()
	defer fake.Close()
	if subs := fake.SubAccountIDs(); !slices.Contains(subs, sub) {
		b.Fatalf("sub-accounts %v: the benchmark reads %s", subs, sub)
	}
	dbURL := dbtest.NewURL(b)
	pool, err := pgxpool.New(b.Context(), dbURL)
	if err != nil {
		b.Fatalf("connecting to the test database: %v", err)
	}
	defer pool.Close()
	// The last window due now (closed for the default first delay of 20 minutes): the
	// backfill reads it alone.
	end := time.Now().Add(-20 * time.Minute).Truncate(3 * time.Hour)
	start := end.Add(-3 * time.Hour)
	// What the fake serves changes as late segments appear: the read holds about what it
	// served between the run's start and end.
	servedBefore := len(fake.SegmentsAt(sub, start, end, time.Now()))
	cfgPath := writeConfigFile(b, "log:\n  level: warn\n")
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "backfill", "--since", start.Format(time.RFC3339),
		"--until", end.Format(time.RFC3339), "--streams", "interaction_segments", "--sub-account", sub)
	cmd.Env = slices.DeleteFunc(syncerEnv(dbURL, url, fake.Options()), func(v string) bool { return strings.HasPrefix(v, envNoStreams) })
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting syncer backfill: %v", err)
	}
	hwm := watchHWM(cmd.Process.Pid)
	err = cmd.Wait()
	rss = hwm()
	if err != nil {
		b.Fatalf("syncer backfill: %v\n%s", err, out.String())
	}
	servedAfter := len(fake.SegmentsAt(sub, start, end, time.Now()))
	if err := pool.QueryRow(b.Context(), "SELECT count(*) FROM engage.interaction_segments WHERE sub_account_id = $1", sub).Scan(&stored); err != nil {
		b.Fatalf("counting segments: %v", err)
	}
	// Segments also vanish (served only until two hours after their end): allow 1% either way.
	lo, hi := min(servedBefore, servedAfter)*99/100, max(servedBefore, servedAfter)*101/100
	if stored < int64(lo) || stored > int64(hi) {
		b.Fatalf("%d segments stored, %d–%d served in the window %s–%s", stored, servedBefore, servedAfter,
			start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	// The child's rusage is no measure: its ru_maxrss starts at this process's peak RSS (Linux
	// records the peak of the memory the child shared with its parent until its exec, and Go
	// starts a child with vfork), which the fake's 50,000 segments make 120 MiB.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		b.Logf("%s: VmHWM %d KiB; rusage Maxrss %d KiB (this process's peak, inherited)", sub, rss, ru.Maxrss)
	}
	if rss == 0 {
		b.Fatal("no VmHWM read of the child process")
	}
	return rss, stored
}

// watchHWM polls the peak RSS (VmHWM, of the memory the process has since its exec) of process
// pid until it exits, and returns a function that stops polling and returns the peak in KiB.
// VmHWM only grows: a poll every 2 ms misses at most the growth of the process's last 2 ms.
func watchHWM(pid int) func() int64 {
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for line := range strings.Lines(string(b)) {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
							peak.Store(max(peak.Load(), kib))
						}
					}
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
