package engagefake_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
)

func configSpec() engagefake.TenantSpec {
	return engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 2,
		QueueGroupsPerSubAccount: 2, QueuesPerGroup: 2, SkillsPerQueueGroup: 2, AgentsPerQueue: 5,
		DialGroupsPerSubAccount: 1, CampaignsPerDialGroup: 3, AgentsPerDialGroup: 4}
}

// ids of the JSON objects of a listing, by their id field.
func ids(t *testing.T, r response, field string) []int {
	t.Helper()
	var out []int
	for _, o := range decode[[]map[string]any](t, r) {
		out = append(out, int(o[field].(float64)))
	}
	return out
}

// The assigned-agents listings page with page/maxRows (0-based, a page past the end is []),
// the full list without them; assignments are agents of the queue's own sub-account.
func TestConfigPagingAndAssignments(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 3, Tenant: configSpec()})
	at, _ := login(t, base)
	var acc string
	var group, queue int
	var want []int
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		sa := tn.SubAccounts[1]
		acc, group, queue = sa.ID, sa.QueueGroups[0].ID, sa.QueueGroups[0].Queues[1].ID
		want = slices.Clone(sa.QueueGroups[0].Queues[1].AgentIDs)
		for _, id := range want {
			if tn.Agent(id).AccountID != sa.ID {
				return fmt.Errorf("agent %d of another sub-account assigned", id)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) != 5 {
		t.Fatalf("%d agents assigned, want 5", len(want))
	}
	path := fmt.Sprintf("%s/voice/api/v1/admin/accounts/%s/gateGroups/%d/gates/%d/assignedAgents", base, acc, group, queue)
	if got := ids(t, get(t, path, at), "agentId"); !slices.Equal(got, want) {
		t.Errorf("full list %v, want %v", got, want)
	}
	var paged []int
	for page := 0; page < 4; page++ {
		got := ids(t, get(t, fmt.Sprintf("%s?page=%d&maxRows=2", path, page), at), "agentId")
		if wantN := min(2, max(0, len(want)-2*page)); len(got) != wantN {
			t.Errorf("page %d: %d agents, want %d", page, len(got), wantN)
		}
		paged = append(paged, got...)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("pages %v, want %v", paged, want)
	}
	if r := get(t, path+"?page=9223372036854775807&maxRows=2", at); r.status != http.StatusOK || string(r.body) != "[]" {
		t.Errorf("a huge page: %d %s, want 200 []", r.status, r.body)
	}
	if r := get(t, path+"?maxRows=0", at); r.status != http.StatusBadRequest {
		t.Errorf("maxRows=0: %d, want 400", r.status)
	}
}

// A gate of another gate group, a gate group of another account, an unknown dial group: 404.
func TestConfigUnknownIDs(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 4, Tenant: configSpec()})
	at, _ := login(t, base)
	var paths []string
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		a, b := tn.SubAccounts[0], tn.SubAccounts[1]
		g0, g1 := a.QueueGroups[0], a.QueueGroups[1]
		prefix := "/voice/api/v1/admin/accounts/"
		paths = []string{
			fmt.Sprintf("%s%s/gateGroups/%d/gates/%d/assignedAgents", prefix, a.ID, g0.ID, g1.Queues[0].ID),
			fmt.Sprintf("%s%s/gateGroups/%d/skills", prefix, b.ID, g0.ID),
			fmt.Sprintf("%s%s/dialGroups/%d/assignedAgents", prefix, b.ID, a.DialGroups[0].ID),
			fmt.Sprintf("%s%s/dialGroups/1/assignedAgents", prefix, a.ID),
			prefix + "99999/gateGroups/withChildren",
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if r := get(t, base+p, at); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
}

// Mutations show in the next answer (the cache is dropped): a renamed queue, a removed queue
// (gone from its group's gates), an unassigned agent, a removed agent gone from every
// assignment, a removed sub-account's configuration gone from the counts.
func TestConfigMutations(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 5, Tenant: configSpec()})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	groupsURL := base + "/voice/api/v1/admin/accounts/" + acc + "/gateGroups/withChildren"
	if r := get(t, groupsURL, at); r.status != http.StatusOK { // now cached
		t.Fatalf("queue groups: %d", r.status)
	}
	var renamed, removed, agent int
	var dialGroup int
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		sa := tn.SubAccount(acc)
		renamed, removed = sa.QueueGroups[0].Queues[0].ID, sa.QueueGroups[0].Queues[1].ID
		agent, dialGroup = sa.DialGroups[0].AgentIDs[0], sa.DialGroups[0].ID
		if err := tn.UpdateQueue(renamed, "gateName", "Billing"); err != nil {
			return err
		}
		if err := tn.RemoveQueue(removed); err != nil {
			return err
		}
		return tn.RemoveAgent(agent)
	}); err != nil {
		t.Fatal(err)
	}
	after := decode[[]struct {
		Gates []struct {
			GateID   int    `json:"gateId"`
			GateName string `json:"gateName"`
		} `json:"gates"`
	}](t, get(t, groupsURL, at))
	if len(after[0].Gates) != 1 || after[0].Gates[0].GateID != renamed || after[0].Gates[0].GateName != "Billing" {
		t.Errorf("queue group after the mutations: %+v", after[0])
	}
	dgURL := fmt.Sprintf("%s/voice/api/v1/admin/accounts/%s/dialGroups/%d/assignedAgents", base, acc, dialGroup)
	if slices.Contains(ids(t, get(t, dgURL, at), "agentId"), agent) {
		t.Error("a removed agent is still assigned to its dial group")
	}
	c := s.Counts()
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(acc) }); err != nil {
		t.Fatal(err)
	}
	if d := s.Counts(); d.QueueGroups != c.QueueGroups-2 || d.DialGroups != c.DialGroups-1 || d.Skills != c.Skills-4 {
		t.Errorf("counts after removing a sub-account: %+v (before %+v)", d, c)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UnassignAgentFromQueue(renamed, agent) }); err == nil {
		t.Error("unassigning from a removed queue: no error")
	}
}
