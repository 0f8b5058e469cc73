package engageclient

import (
	"log/slog"
	gosync "sync"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// BenchmarkListTenantRateLimited lists a generated tenant through the fake with its admin rate
// limit on (R requests/minute, a small bucket) and the client configured for the same R. It
// reports the achieved request rate as a ratio of R (target ≥ 0.95) and the 429s received
// (target 0).
func BenchmarkListTenantRateLimited(b *testing.B) {
	const rpm = 600
	fake := engagefake.New(engagefake.Options{
		Seed:                42,
		Tenant:              engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 8, AgentsPerGroup: 10, Users: 50},
		RateLimit:           rpm,
		RateBurst:           2,
		RateLimitRetryAfter: true,
		Latency:             5 * time.Millisecond,
	})
	base := fake.Start()
	defer fake.Close()
	c, err := New(Config{
		RCServerURL: base, EngageServerURL: base,
		ClientID: engagefake.DefaultClientID, ClientSecret: engagefake.DefaultClientSecret, JWT: engagefake.DefaultJWT,
		RequestsPerMinute: rpm, Concurrency: 4, BackoffBase: 50 * time.Millisecond, BackoffCap: time.Second,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := c.Login(ctx); err != nil {
		b.Fatal(err)
	}
	before := c.Stats()
	fakeBefore := fake.Stats()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		accounts, _, err := c.ListAccounts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ListUsers(ctx, &UserListOptions{Flatten: true}); err != nil {
			b.Fatal(err)
		}
		var wg gosync.WaitGroup
		for _, a := range accounts {
			wg.Go(func() {
				groups, _, err := c.ListAgentGroups(ctx, a.AccountID, nil)
				if err != nil {
					b.Error(err)
					return
				}
				var gw gosync.WaitGroup
				for _, g := range groups {
					gw.Go(func() {
						if _, _, err := c.ListAgents(ctx, a.AccountID, g.AgentGroupID); err != nil {
							b.Error(err)
						}
					})
				}
				gw.Wait()
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	after := c.Stats()
	requests := after.Requests - before.Requests
	perMinute := float64(requests) / elapsed.Minutes()
	b.ReportMetric(perMinute/rpm, "ratio_of_limit")
	b.ReportMetric(float64(after.RateLimited-before.RateLimited), "429s")
	b.ReportMetric(float64(fake.Stats().RateLimited-fakeBefore.RateLimited), "fake_429s")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}
