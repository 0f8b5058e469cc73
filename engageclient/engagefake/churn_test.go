package engagefake_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// allAgents lists every agent of the tenant over the HTTP API, by id.
func allAgents(t *testing.T, s *engagefake.Server, base, at string) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, acc := range s.SubAccountIDs() {
		for _, gid := range s.AgentGroupIDs(acc) {
			for id, a := range agentsByID(t, base, at, acc, gid) {
				out[id] = a
			}
		}
	}
	return out
}

// churnSpec is a small tenant with configuration.
var churnSpec = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 6, Users: 5,
	QueueGroupsPerSubAccount: 1, QueuesPerGroup: 2}

// A round of churn renames, adds, moves and removes agents, renames a group, a queue and a
// user, removes a user and sets the churn field, as its report says; the same seed and round
// churn the same way, another round another way.
func TestChurnChangesWhatItReports(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 7, Tenant: churnSpec, Churn: 3})
	at, _ := login(t, base)
	before := allAgents(t, s, base, at)
	users := usersByID(t, base, at)
	rep := s.Churn(1)
	after := allAgents(t, s, base, at)

	if len(rep.RenamedAgents) != 3 || len(rep.AddedAgents) != 3 || len(rep.MovedAgents) != 3 || len(rep.RemovedAgents) != 1 ||
		len(rep.RenamedGroups) != 1 || len(rep.RenamedQueues) != 1 || len(rep.RenamedUsers) != 1 || len(rep.RemovedUsers) != 1 {
		t.Fatalf("report %s, want 3 agents renamed, added and moved, 1 removed, one of each other change", rep)
	}
	for _, id := range rep.RenamedAgents {
		if a, b := before[id]["lastName"], after[id]["lastName"]; a == b || b == nil {
			t.Errorf("agent %d's lastName %v -> %v, want it renamed", id, a, b)
		}
	}
	for _, id := range rep.AddedAgents {
		if before[id] != nil || after[id] == nil {
			t.Errorf("agent %d: before %v, after %v; want it added", id, before[id] != nil, after[id] != nil)
		}
	}
	for _, id := range rep.MovedAgents {
		if a, b := before[id]["agentGroupId"], after[id]["agentGroupId"]; a == b {
			t.Errorf("agent %d stays in group %v, want it moved", id, a)
		}
	}
	for _, id := range rep.RemovedAgents {
		if before[id] == nil || after[id] != nil {
			t.Errorf("agent %d: before %v, after %v; want it removed", id, before[id] != nil, after[id] != nil)
		}
	}
	if len(after) != len(before)+3-1 {
		t.Errorf("%d agents after churn, want %d", len(after), len(before)+2)
	}
	usersAfter := usersByID(t, base, at)
	if u := rep.RemovedUsers[0]; users[u] == nil || usersAfter[u] != nil {
		t.Errorf("user %d not removed", u)
	}
	if u := rep.RenamedUsers[0]; users[u]["lastName"] == usersAfter[u]["lastName"] {
		t.Errorf("user %d not renamed", u)
	}
	acc := accountsByID(t, base, at)[rep.Field]
	if got := acc[engagefake.ChurnField]; got != "round 1" {
		t.Errorf("sub-account %s %s = %v, want \"round 1\"", rep.Field, engagefake.ChurnField, got)
	}
	if s.Churn(2); accountsByID(t, base, at)[rep.Field][engagefake.ChurnField] != float64(2) {
		t.Errorf("round 2 did not make %s a number", engagefake.ChurnField)
	}

	// The same seed and rounds, the same tenant.
	s2, base2 := start(t, engagefake.Options{Seed: 7, Tenant: churnSpec, Churn: 3})
	at2, _ := login(t, base2)
	rep2 := s2.Churn(1)
	s2.Churn(2)
	if diff := cmp.Diff(rep.String(), rep2.String()); diff != "" || !cmp.Equal(rep.RenamedAgents, rep2.RenamedAgents) {
		t.Errorf("churn of the same seed and round differs:\n%s", diff)
	}
	if diff := cmp.Diff(allAgents(t, s, base, at), allAgents(t, s2, base2, at2)); diff != "" {
		t.Errorf("two servers of one seed churned differently (-first +second):\n%s", diff)
	}
}

// With Options.Churn, every JWT grant after the first churns the tenant first: the first
// login sees the generated tenant, each later one the next round. Without it, nothing churns.
func TestChurnOnEveryLoginAfterTheFirst(t *testing.T) {
	t.Parallel()
	for _, churn := range []int{0, 2} {
		s, base := start(t, engagefake.Options{Seed: 9, Tenant: churnSpec, Churn: churn})
		at, _ := login(t, base)
		first := allAgents(t, s, base, at)
		if n := len(s.Churns()); n != 0 {
			t.Fatalf("churn %d: the first login churned %d rounds", churn, n)
		}
		at, _ = login(t, base)
		second := allAgents(t, s, base, at)
		at, _ = login(t, base)
		allAgents(t, s, base, at)
		rounds := s.Churns()
		if churn == 0 {
			if len(rounds) != 0 || !cmp.Equal(first, second) {
				t.Errorf("without churn the tenant changed: %d rounds", len(rounds))
			}
			continue
		}
		if len(rounds) != 2 || rounds[0].Round != 1 || rounds[1].Round != 2 {
			t.Fatalf("churn rounds after three logins: %v, want rounds 1 and 2", rounds)
		}
		if cmp.Equal(first, second) || len(rounds[0].AddedAgents) != 2 {
			t.Errorf("the second login saw no churn: %s", rounds[0])
		}
	}
}
