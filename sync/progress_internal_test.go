package sync

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// The ETA covers the run's remaining planned requests, at the pacing rate unless the requests
// come back slower than that, after the server's wait.
func TestRunETA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   etaInput
		want time.Duration
	}{
		{"plan 480, done 0, 120/min", etaInput{Planned: 480, PerMinute: 120}, 4 * time.Minute},
		{"plan 480, done 240, 120/min", etaInput{Planned: 480, Done: 240, PerMinute: 120}, 2 * time.Minute},
		{"plan 100, done 70, 60/min", etaInput{Planned: 100, Done: 70, PerMinute: 60}, 30 * time.Second},
		{"plan 3, done 2, 120/min", etaInput{Planned: 3, Done: 2, PerMinute: 120}, 500 * time.Millisecond},
		{"all done", etaInput{Planned: 480, Done: 480, PerMinute: 120}, 0},
		{"more done than planned (an estimate fell short)", etaInput{Planned: 10, Done: 12, PerMinute: 120}, 0},
		{"plan unknown", etaInput{Done: 2, PerMinute: 120}, 0},
		{"no rate, no latency: unknown", etaInput{Planned: 480, Done: 10}, 0},
		// 4 at once taking 4 s each make 1 a second, slower than 120/min (2 a second): the
		// latency bounds it.
		{"latency slower than the rate", etaInput{Planned: 130, Done: 10, PerMinute: 120, Concurrency: 4, Latency: 4 * time.Second}, 2 * time.Minute},
		{"latency faster than the rate", etaInput{Planned: 130, Done: 10, PerMinute: 120, Concurrency: 4, Latency: 100 * time.Millisecond}, time.Minute},
		{"latency only, no rate", etaInput{Planned: 20, Concurrency: 2, Latency: time.Second}, 10 * time.Second},
		{"latency without concurrency is not used", etaInput{Planned: 20, Latency: time.Second, PerMinute: 60}, 20 * time.Second},
		{"a Retry-After still to wait", etaInput{Planned: 480, Done: 240, PerMinute: 120, Wait: 28 * time.Second}, 2*time.Minute + 28*time.Second},
		{"a wait with nothing left", etaInput{Planned: 5, Done: 5, PerMinute: 120, Wait: 28 * time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := runETA(tt.in); got != tt.want {
				t.Errorf("runETA(%+v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// The plan is unknown until the sub-accounts are, exact once every parent request is made,
// and estimated from what the made ones found in between.
func TestPlanCount(t *testing.T) {
	t.Parallel()
	listings := []*entity.Listing{entity.ListAccounts, entity.ListUsers, entity.ListAgentGroups, entity.ListAgents,
		entity.ListGateGroups, entity.ListGateAgents}
	p := newPlan(listings)
	found := func(l *entity.Listing, n int) children { return children{l: make([]item, n)} }
	type got struct {
		Made, Planned int64
		Estimated     bool
	}
	check := func(step string, want got) {
		t.Helper()
		c := p.count()
		if diff := cmp.Diff(want, got{c.made, c.planned, c.estimated}); diff != "" {
			t.Errorf("%s: count (-want +got):\n%s", step, diff)
		}
	}
	p.settle(entity.ListAccounts, 1)
	p.settle(entity.ListUsers, 1)
	check("before the sub-accounts are known", got{})
	p.record(entity.ListAccounts, nil, time.Second)
	p.record(entity.ListUsers, nil, time.Second)
	check("accounts and users made", got{Made: 2})
	p.settleBelow(entity.ListAccounts, 4) // 4 sub-accounts: 4 agent-group and 4 gate-group listings
	check("sub-accounts known, none listed", got{Made: 2})
	p.record(entity.ListAgentGroups, found(entity.ListAgents, 3), time.Second)
	p.record(entity.ListGateGroups, children{entity.ListGateAgents: make([]item, 5), entity.ListGateGroupSkills: make([]item, 9)}, time.Second)
	// 2 + 4 + 4 listings, agents 3 found + 3 sub-accounts × 3 estimated, gate agents 5 + 3 × 5
	// (the skills are not made by this run).
	check("one sub-account listed", got{Made: 4, Planned: 2 + 8 + 12 + 20, Estimated: true})
	p.record(entity.ListAgentGroups, found(entity.ListAgents, 1), time.Second)
	// agents: 4 found in 2 requests, 2 left: 4 + 2×4/2.
	check("two agent-group listings", got{Made: 5, Planned: 2 + 8 + 8 + 20, Estimated: true})
	for range 2 {
		p.record(entity.ListAgentGroups, found(entity.ListAgents, 0), time.Second)
	}
	for range 3 {
		p.record(entity.ListGateGroups, found(entity.ListGateAgents, 1), time.Second)
	}
	check("every sub-account listed", got{Made: 10, Planned: 2 + 8 + 4 + 8})
	for range 4 {
		p.record(entity.ListAgents, nil, time.Second)
	}
	check("agents listed", got{Made: 14, Planned: 22})
	if c := p.count(); c.latency != time.Second {
		t.Errorf("latency = %s, want 1s", c.latency)
	}
}

// The latency is the median of the latest requests: the few that waited out a 429's pause
// (also counted as the wait) do not stretch it, and the oldest requests are forgotten.
func TestPlanLatency(t *testing.T) {
	t.Parallel()
	p := newPlan([]*entity.Listing{entity.ListAgents})
	if c := p.count(); c.latency != 0 {
		t.Errorf("latency before any request = %s, want 0 (unknown)", c.latency)
	}
	for range 10 {
		p.record(entity.ListAgents, nil, 2*time.Second)
	}
	for range 4 { // the requests in flight during a 28 s pause
		p.record(entity.ListAgents, nil, 30*time.Second)
	}
	if c := p.count(); c.latency != 2*time.Second {
		t.Errorf("latency after a pause = %s, want 2s", c.latency)
	}
	for range recentRequests {
		p.record(entity.ListAgents, nil, 500*time.Millisecond)
	}
	if c := p.count(); c.latency != 500*time.Millisecond {
		t.Errorf("latency = %s, want 500ms, the latest requests'", c.latency)
	}
}

// A parent listing made but finding nothing yet leaves nothing to estimate from: unknown,
// until one is made; a run of users only is known at once.
func TestPlanCountUnknownUntilAParentIsMade(t *testing.T) {
	t.Parallel()
	p := newPlan([]*entity.Listing{entity.ListAccounts, entity.ListAgentGroups, entity.ListAgents})
	p.settle(entity.ListAccounts, 1)
	p.record(entity.ListAccounts, nil, time.Second)
	p.settleBelow(entity.ListAccounts, 2)
	if c := p.count(); c.planned != 0 {
		t.Errorf("planned = %d before any agent-group listing, want 0 (unknown)", c.planned)
	}
	users := newPlan([]*entity.Listing{entity.ListUsers})
	users.settle(entity.ListUsers, 1)
	if c := users.count(); c.planned != 1 || c.estimated {
		t.Errorf("users only: planned %d (estimated %t), want 1, exact", c.planned, c.estimated)
	}
}

// A snapshot carries the client's wait (what is left of it) and an ETA that includes it.
func TestSnapshotCarriesTheWait(t *testing.T) {
	t.Parallel()
	p := newProgress([]*entity.Listing{entity.ListUsers})
	p.plan.settle(entity.ListUsers, 1)
	now := p.start.Add(time.Minute)
	api := engageclient.Stats{Requests: 3, RateLimited: 1,
		Wait: engageclient.Wait{Until: now.Add(28 * time.Second), Reason: "Retry-After"}}
	got := p.snapshot(api, &Config{RequestsPerMinute: 60, Concurrency: 2}, now)
	want := Progress{Planned: 1, Requests: 3, RateLimited: 1, Elapsed: time.Minute,
		Wait: 28 * time.Second, WaitReason: "Retry-After", ETA: 29 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	api.Wait.Until = now.Add(-time.Second) // over
	if got := p.snapshot(api, &Config{RequestsPerMinute: 60}, now); got.Wait != 0 || got.WaitReason != "" {
		t.Errorf("a wait that is over: Wait %s %q, want none", got.Wait, got.WaitReason)
	}
}

// A request made while the run stops is not counted: it may have been cut short or not sent.
func TestProgressMadeNotCountedWhenStopping(t *testing.T) {
	t.Parallel()
	p := newProgress([]*entity.Listing{entity.ListUsers})
	p.made(t.Context(), entity.ListUsers, nil, time.Now())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.made(ctx, entity.ListUsers, nil, time.Now())
	if c := p.plan.count(); c.made != 1 {
		t.Errorf("%d requests counted, want 1: not the one made while stopping", c.made)
	}
}
