package engageclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
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
		ClientID: engagefake.ClientIDDefault, ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault,
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

// BenchmarkDecodeAgentsPage decodes one large agents listing (2,000 of the fake's full Agent
// objects) with decodeList, which keeps the good items when one is bad, against the baseline
// of one json.Unmarshal of the whole array, in the same run: x_baseline is decodeList's cost
// as a ratio of the baseline for a listing of good items, x_baseline_bad_item for the same
// listing with one bad item (decoded again item by item).
func BenchmarkDecodeAgentsPage(b *testing.B) {
	fake := engagefake.New(engagefake.Options{Seed: 7,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 2000, Users: 1}})
	base := fake.Start()
	defer fake.Close()
	c, err := New(Config{RCServerURL: base, EngageServerURL: base, ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000})
	if err != nil {
		b.Fatal(err)
	}
	sub := fake.SubAccountIDs()[0]
	r := &request{method: "GET", url: newURL(c.engageBase, "voice/api/v1/admin/accounts/{}/agentGroups/{}/agents", nil,
		sub, strconv.Itoa(fake.AgentGroupIDs(sub)[0]))}
	_, body, err := c.do(b.Context(), r)
	if err != nil {
		b.Fatal(err)
	}
	timeIt := func(f func() error) time.Duration {
		start := time.Now()
		for range 20 {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	// The same page with its last agent's id broken.
	i := bytes.LastIndex(body, []byte(`"agentId":`))
	bad := append(append(bytes.Clone(body[:i]), `"agentId":"x",`...), body[bytes.IndexByte(body[i:], ',')+i+1:]...)
	if _, _, err := decodeList[Agent](bad); err == nil {
		b.Fatal("the broken page decoded without an item error")
	}
	var baseline, good, withBad time.Duration
	b.ResetTimer()
	for b.Loop() {
		baseline += timeIt(func() error {
			var out []*Agent
			return json.Unmarshal(body, &out)
		})
		good += timeIt(func() error {
			_, _, err := decodeList[Agent](body)
			return err
		})
		withBad += timeIt(func() error {
			_, n, _ := decodeList[Agent](bad)
			if n == 0 {
				return errors.New("no items")
			}
			return nil
		})
	}
	b.ReportMetric(float64(good)/float64(baseline), "x_baseline")
	b.ReportMetric(float64(withBad)/float64(baseline), "x_baseline_bad_item")
	b.ReportMetric(float64(len(body))/1e6, "MB_page")
}
