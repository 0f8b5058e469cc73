package sync_test

import (
	"testing"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// The reporting backfill: 30 days of the four reporting streams of 4 sub-accounts, 3-hour
// windows (30 × 8 × 4 = 960 requests per sub-account), through the fake at the documented
// limits (3 per 60 s and 9 per 15 min, per sub-account) scaled down by reportingBenchScale, the
// fake's and the client's alike, so that the run is bound by the pacing, as a real one is (at
// the real limits it would take 26.7 hours), in about two minutes. The call history is light
// (a few dialogs an hour) so that the pacing, not the data, binds.
const (
	reportingBenchDays  = 30
	reportingBenchSubs  = 4
	reportingBenchScale = 800
)

// reportingBenchLimits are the documented limits divided by reportingBenchScale: 3 per 75 ms
// and 9 per 1.125 s.
var reportingBenchLimits = []engageclient.Limit{
	{Count: 3, Per: time.Minute / reportingBenchScale},
	{Count: 9, Per: 15 * time.Minute / reportingBenchScale},
}

// earliestLastSend is the earliest time from the first send that the n-th of n requests can be
// sent under limits, each send as early as the sliding log allows: at the latest, over the
// limits, of the Count-th latest send plus Per. It is the lower bound of a run of n requests.
func earliestLastSend(limits []engageclient.Limit, n int) time.Duration {
	sends := make([]time.Duration, 0, n)
	for i := range n {
		var t time.Duration
		for _, l := range limits {
			if i >= l.Count {
				t = max(t, sends[i-l.Count]+l.Per)
			}
		}
		sends = append(sends, t)
	}
	return sends[n-1]
}

// BenchmarkReportingBackfill30Days reports the backfill's speed against its lower bound (the
// earliest its sub-accounts' requests could all be sent under the nominal limits: the target
// is 0.95; the client's 2% margin on each limit's period makes about 0.98 the ceiling), the
// 429s the fake answered (the target is 0) and the requests sent. Run it with
//
//	go test -run '^$' -bench BenchmarkReportingBackfill30Days -benchtime 1x ./sync/
func BenchmarkReportingBackfill30Days(b *testing.B) {
	// A clock that runs from a fixed start: the history's, and the due rules'.
	now, began := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC), time.Now()
	clock := func() time.Time { return now.Add(time.Since(began)) }
	fakeLimits := make([]engagefake.Limit, len(reportingBenchLimits))
	for i, l := range reportingBenchLimits {
		fakeLimits[i] = engagefake.Limit{Count: l.Count, Per: l.Per}
	}
	const perSub = reportingBenchDays * 8 * 4 // windows of 3 h, four streams
	for b.Loop() {
		fake := fixture.Fake(b, engagefake.Options{Seed: 30, Now: clock,
			Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: reportingBenchSubs, AgentGroupsPerSubAccount: 1,
				AgentsPerGroup: 3, Users: 2, QueueGroupsPerSubAccount: 1, QueuesPerGroup: 2, AgentsPerQueue: 2,
				DialGroupsPerSubAccount: -1},
			AuditPerHour: -1, CallDays: reportingBenchDays + 1, CallsPerHour: 4, ReportingLimits: fakeLimits})
		d := storetest.New(b)
		// A pool as a process running one run has: the run's session, its publishes (one per
		// sub-account at a time) and the ledger's statements.
		pool, err := db.Open(b.Context(), d.URL(), db.WithMaxConns(7))
		if err != nil {
			b.Fatal(err)
		}
		store, err := db.NewStore(pool, d.Schema)
		if err != nil {
			b.Fatal(err)
		}
		client := engagetest.Client(b, fake, func(c *engageclient.Config) {
			c.ReportingLimits, c.Concurrency = reportingBenchLimits, 4
		})
		r, err := syncrun.NewStreamRunner(client, store, syncrun.StreamsConfig{Streams: reportingStreams,
			Now: clock, Concurrency: reportingBenchSubs,
			Backfill: &syncrun.Backfill{Since: clock().Add(-reportingBenchDays * 24 * time.Hour)}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := r.Run(b.Context())
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != db.RunSucceeded {
			b.Fatalf("run %s: %s", res.Status, res.Error)
		}
		read, failed, left := res.Windows()
		if failed != 0 || left != 0 || read != perSub*reportingBenchSubs {
			b.Errorf("windows read/failed/left = %d/%d/%d, want %d/0/0", read, failed, left, perSub*reportingBenchSubs)
		}
		var ledger int64
		if err := d.Pool.QueryRow(b.Context(), "SELECT count(*) FROM "+d.Schema+".stream_windows WHERE status = 'succeeded'").Scan(&ledger); err != nil {
			b.Fatal(err)
		}
		if ledger != perSub*reportingBenchSubs {
			b.Errorf("%d windows succeeded in the ledger, want %d", ledger, perSub*reportingBenchSubs)
		}
		st := fake.Stats()
		most := int64(0)
		for _, n := range st.ReportingRequests {
			most = max(most, n)
		}
		if most < perSub {
			b.Errorf("the busiest sub-account sent %d reporting requests, want at least %d", most, perSub)
		}
		pool.Close()
		bound := earliestLastSend(reportingBenchLimits, int(most))
		b.Logf("bound %s (%d requests per sub-account), took %s", bound, most, took)
		b.ReportMetric(float64(bound)/float64(took), "speed")
		b.ReportMetric(float64(sum(st.ReportingRateLimited)), "429s")
		b.ReportMetric(float64(sum(st.ReportingRequests)), "requests")
	}
}
