package engagefake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// serveLocal logs in through the handler (no network) and returns a GET function.
func serveLocal(b *testing.B, s *engagefake.Server) func(path string) *httptest.ResponseRecorder {
	b.Helper()
	base := s.Start()
	b.Cleanup(s.Close)
	at, _ := login(b, base)
	return func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, w.Code)
		}
		return w
	}
}

// BenchmarkAgents200 serves a 200-agent group: ns/op is a render after a mutation (cache
// dropped). Reported ratios, against encoding/json marshaling the same agents as
// []map[string]any measured in the same run: render_vs_json (uncached) and cached_vs_json.
func BenchmarkAgents200(b *testing.B) {
	s := engagefake.New(engagefake.Options{Tenant: engagefake.TenantSpec{SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 200}})
	get := serveLocal(b, s)
	acc := s.SubAccountIDs()[0]
	path := agentsPath(acc, s.AgentGroupIDs(acc)[0])
	var agents []map[string]any
	if err := json.Unmarshal(get(path).Body.Bytes(), &agents); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		_ = s.Mutate(func(*engagefake.Tenant) error { return nil })
		get(path)
		n++
	}
	uncached := time.Since(start) / time.Duration(n)

	const reps = 200
	start = time.Now()
	for range reps {
		get(path)
	}
	cached := time.Since(start) / reps
	start = time.Now()
	for range reps {
		if _, err := json.Marshal(agents); err != nil {
			b.Fatal(err)
		}
	}
	baseline := time.Since(start) / reps
	b.ReportMetric(float64(uncached)/float64(baseline), "render_vs_json")
	b.ReportMetric(float64(cached)/float64(baseline), "cached_vs_json")
}

// BenchmarkNew100k generates a 100,000-agent tenant. Reported: gen_vs_group200 (generation
// time as a multiple of rendering one 200-agent group, measured in the same run) and heap_MB
// (live heap held by the generated server).
func BenchmarkNew100k(b *testing.B) {
	spec := engagefake.TenantSpec{SubAccountsPerMain: 5, AgentGroupsPerSubAccount: 100, AgentsPerGroup: 200, Users: 1000}
	start := time.Now()
	n := 0
	for b.Loop() {
		_ = engagefake.New(engagefake.Options{Tenant: spec})
		n++
	}
	gen := time.Since(start) / time.Duration(n)

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	s := engagefake.New(engagefake.Options{Tenant: spec})
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "heap_MB")

	get := serveLocal(b, s)
	acc := s.SubAccountIDs()[0]
	path := agentsPath(acc, s.AgentGroupIDs(acc)[0])
	const reps = 50
	start = time.Now()
	for range reps {
		_ = s.Mutate(func(*engagefake.Tenant) error { return nil })
		get(path)
	}
	group := time.Since(start) / reps
	b.ReportMetric(float64(gen)/float64(group), "gen_vs_group200")
	runtime.KeepAlive(s)
}

// BenchmarkAuditHistory generates (and renders) 90 days of audit log of 20 sub-accounts, 2
// entries per hour each: ns/op is the whole history.
func BenchmarkAuditHistory(b *testing.B) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := engagefake.New(engagefake.Options{Now: func() time.Time { return now }, AuditDays: 90,
		Tenant: engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 10}})
	subs := s.SubAccountIDs()
	b.ReportAllocs()
	for b.Loop() {
		for _, sub := range subs {
			_ = s.AuditLog(sub, now.Add(-91*24*time.Hour), now)
		}
	}
}
