package sync_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// configCounts counts the fake's configuration entities, as the tables should hold them.
type configCounts struct {
	queueGroups, queues, skills, dialGroups, campaigns, agentQueues, agentDialGroups int64
	// requests one run needs: per sub-account the two withChildren listings, per queue group
	// its skills, per queue and per dial group its assigned agents (pages of pageSize, or one
	// full list when 0: a short page ends a listing, so a full last page costs one more).
	gateGroupReqs, skillReqs, gateAgentReqs, dialGroupReqs, dialGroupAgentReqs int64
}

func pages(n, pageSize int) int64 {
	if pageSize <= 0 {
		return 1
	}
	return int64(n/pageSize + 1)
}

func (e *env) configCounts(pageSize int) configCounts {
	e.t.Helper()
	var c configCounts
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		for _, sa := range tn.SubAccounts {
			c.gateGroupReqs++
			c.dialGroupReqs++
			for _, g := range sa.QueueGroups {
				c.queueGroups++
				c.skillReqs++
				c.skills += int64(len(g.Skills))
				for _, q := range g.Queues {
					c.queues++
					c.agentQueues += int64(len(q.AgentIDs))
					c.gateAgentReqs += pages(len(q.AgentIDs), pageSize)
				}
			}
			for _, d := range sa.DialGroups {
				c.dialGroups++
				c.campaigns += int64(len(d.Campaigns))
				c.agentDialGroups += int64(len(d.AgentIDs))
				c.dialGroupAgentReqs += pages(len(d.AgentIDs), pageSize)
			}
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) wantConfigLive(c configCounts) {
	e.t.Helper()
	for table, want := range map[string]int64{
		"queue_groups": c.queueGroups, "queues": c.queues, "skills": c.skills, "dial_groups": c.dialGroups,
		"campaigns": c.campaigns, "agent_queues": c.agentQueues, "agent_dial_groups": c.agentDialGroups,
	} {
		if got := e.live(table); got != want {
			e.t.Errorf("live %s = %d, want %d", table, got, want)
		}
	}
}

func configTenant() engagefake.TenantSpec {
	return engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 4, Users: 3,
		QueueGroupsPerSubAccount: 2, QueuesPerGroup: 2, SkillsPerQueueGroup: 2, AgentsPerQueue: 3,
		DialGroupsPerSubAccount: 2, CampaignsPerDialGroup: 2, AgentsPerDialGroup: 3}
}

// The configuration entities' first load, paged as configured, makes exactly the requests
// docs/api.md's listings imply; a re-run writes no row versions and no history; the typed
// columns hold what the API sent (campaigns' 0/1 isActive as a boolean).
func TestConfigEntitiesLoadOnceAndReRunIsNoOp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 11, Tenant: configTenant()})
	const pageSize = 2 // 3 agents per queue: two pages each
	res := e.mustRun(syncrun.Config{AssignedAgentsPageSize: pageSize}, db.RunSucceeded)
	c := e.configCounts(pageSize)
	e.wantConfigLive(c)
	st := e.fake.Stats()
	for ep, want := range map[string]int64{
		engagefake.EndpointGateGroups: c.gateGroupReqs, engagefake.EndpointGateSkills: c.skillReqs,
		engagefake.EndpointGateAgents: c.gateAgentReqs, engagefake.EndpointDialGroups: c.dialGroupReqs,
		engagefake.EndpointDialGroupAgents: c.dialGroupAgentReqs,
	} {
		if st.Requests[ep] != want {
			t.Errorf("requests to %s = %d, want %d", ep, st.Requests[ep], want)
		}
	}
	if c.gateAgentReqs <= c.queues {
		t.Fatalf("the test does not page: %d requests for %d queues", c.gateAgentReqs, c.queues)
	}
	for _, e := range []entity.Name{entity.QueueGroups, entity.Queues, entity.Skills, entity.DialGroups, entity.Campaigns, entity.AgentQueues, entity.AgentDialGroups} {
		if res.Totals()[e].Inserted == 0 {
			t.Errorf("%s: nothing inserted", e)
		}
	}
	// Typed columns: every queue knows its group, every campaign its dial group, is_active is
	// set, and the raw keeps the API's own 0/1.
	if n := e.count(`SELECT count(*) FROM engage.queues q JOIN engage.queue_groups g USING (sub_account_id, queue_group_id) WHERE q.name IS NOT NULL AND q.is_active IS NOT NULL`); n != c.queues {
		t.Errorf("%d queues with a name, state and group, want %d", n, c.queues)
	}
	if n := e.count(`SELECT count(*) FROM engage.campaigns WHERE is_active = ((raw->>'isActive')::int = 1)`); n != c.campaigns {
		t.Errorf("%d campaigns with is_active read from the API's 0/1, want %d", n, c.campaigns)
	}
	history := e.count(`SELECT (SELECT count(*) FROM engage.queues_history) + (SELECT count(*) FROM engage.agent_queues_history) + (SELECT count(*) FROM engage.campaigns_history) + (SELECT count(*) FROM engage.skills_history)`)

	res = e.mustRun(syncrun.Config{AssignedAgentsPageSize: pageSize}, db.RunSucceeded)
	for name, tot := range res.Totals() {
		if tot.Inserted+tot.Updated+tot.Deleted+tot.Restored != 0 {
			t.Errorf("re-run changed %s: %+v", name, tot)
		}
	}
	if h := e.count(`SELECT (SELECT count(*) FROM engage.queues_history) + (SELECT count(*) FROM engage.agent_queues_history) + (SELECT count(*) FROM engage.campaigns_history) + (SELECT count(*) FROM engage.skills_history)`); h != history {
		t.Errorf("history grew from %d to %d on a no-op re-run", history, h)
	}
	// An assigned agent logging in changes its agents row only, not its assignments.
	var agent int
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		agent = tn.SubAccounts[0].QueueGroups[0].Queues[0].AgentIDs[0]
		return tn.UpdateAgent(agent, "lastLoginDate", "2026-12-01T08:00:00.000+0000")
	}); err != nil {
		t.Fatal(err)
	}
	res = e.mustRun(syncrun.Config{AssignedAgentsPageSize: pageSize}, db.RunSucceeded)
	for name, tot := range res.Totals() {
		if changed := tot.Inserted + tot.Updated + tot.Deleted + tot.Restored; changed != 0 && (name != entity.Agents || tot.Updated != 1) {
			t.Errorf("an agent's login changed %s: %+v", name, tot)
		}
	}
	if n := e.count(`SELECT count(*) FROM engage.queues_current WHERE assigned_agents > 0`); n != c.queues {
		t.Errorf("queues_current: %d queues with assigned agents, want %d", n, c.queues)
	}
	if n := e.count(`SELECT count(*) FROM engage.agent_queues_current WHERE username IS NOT NULL`); n != c.agentQueues {
		t.Errorf("agent_queues_current: %d assignments with the agent's username, want %d", n, c.agentQueues)
	}
	if n := e.count(`SELECT count(*) FROM engage.campaigns_current WHERE dial_group_name IS NOT NULL`); n != c.campaigns {
		t.Errorf("campaigns_current: %d campaigns with their dial group, want %d", n, c.campaigns)
	}
}

// A queue renamed is an update with its column named; a queue removed takes its assignment
// rows with it; an agent unassigned from a dial group soft-deletes that row; both come back
// restored.
func TestConfigEntitiesChangesDeletesAndRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 12, Tenant: configTenant()})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var sub string
	var renamed, removed, dialGroup, agent int
	var removedAgents []int
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		sa := tn.SubAccounts[0]
		sub = sa.ID
		renamed, removed = sa.QueueGroups[0].Queues[0].ID, sa.QueueGroups[0].Queues[1].ID
		removedAgents = append(removedAgents, sa.QueueGroups[0].Queues[1].AgentIDs...)
		dialGroup, agent = sa.DialGroups[0].ID, sa.DialGroups[0].AgentIDs[0]
		if err := tn.UpdateQueue(renamed, "gateName", "Billing"); err != nil {
			return err
		}
		if err := tn.RemoveQueue(removed); err != nil {
			return err
		}
		return tn.UnassignAgentFromDialGroup(dialGroup, agent)
	}); err != nil {
		t.Fatal(err)
	}
	res := e.mustRun(syncrun.Config{}, db.RunSucceeded)
	tot := res.Totals()
	if tot[entity.Queues].Updated != 1 || tot[entity.Queues].Deleted != 1 {
		t.Errorf("queues: %+v, want 1 updated, 1 deleted", tot[entity.Queues])
	}
	if tot[entity.AgentQueues].Deleted != int64(len(removedAgents)) || tot[entity.AgentDialGroups].Deleted != 1 {
		t.Errorf("assignments deleted: %d of queues (want %d), %d of dial groups (want 1)",
			tot[entity.AgentQueues].Deleted, len(removedAgents), tot[entity.AgentDialGroups].Deleted)
	}
	if n := e.count(`SELECT count(*) FROM engage.queues_history WHERE queue_id = $1 AND change = 'update' AND changed_columns = '{name,raw}'`, renamed); n != 1 {
		t.Errorf("the rename's history row: %d, want 1 naming name and raw", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.agent_queues WHERE sub_account_id = $1 AND queue_id = $2 AND deleted_at IS NULL`, sub, removed); n != 0 {
		t.Errorf("%d assignments of the removed queue still live", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.queues_current WHERE name = 'Billing'`); n != 1 {
		t.Errorf("queues_current does not show the renamed queue")
	}
	// Back again: restored, with their history.
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.AssignAgentToDialGroup(dialGroup, agent)
	}); err != nil {
		t.Fatal(err)
	}
	res = e.mustRun(syncrun.Config{}, db.RunSucceeded)
	if r := res.Totals()[entity.AgentDialGroups].Restored; r != 1 {
		t.Errorf("reassigned agent: %d restored, want 1", r)
	}
	if n := e.count(`SELECT count(*) FROM engage.agent_dial_groups_history WHERE dial_group_id = $1 AND agent_id = $2`, dialGroup, agent); n != 3 {
		t.Errorf("history of the reassigned agent: %d versions, want insert, delete, restore", n)
	}
}

// Every assignment of a sub-account's queues vanishing trips the breaker for that scope only;
// the override applies it.
func TestConfigEntitiesUnderTheBreaker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 13, Tenant: configTenant()})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var sub string
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		sa := tn.SubAccounts[0]
		sub = sa.ID
		for _, g := range sa.QueueGroups {
			for _, q := range g.Queues {
				for _, a := range append([]int(nil), q.AgentIDs...) {
					if err := tn.UnassignAgentFromQueue(q.ID, a); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	live := func() int64 {
		return e.count(`SELECT count(*) FROM engage.agent_queues WHERE sub_account_id = $1 AND deleted_at IS NULL`, sub)
	}
	before := live()
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	if live() != before || !strings.Contains(res.Error, "agent_queues") {
		t.Errorf("breaker did not hold the assignments: %d live of %d, error %q", live(), before, res.Error)
	}
	for _, s := range res.Scopes {
		if s.Status != db.ScopeSucceeded && (s.Entity != entity.AgentQueues || s.Scope != sub) {
			t.Errorf("scope %s/%s %s: only agent_queues/%s should be withheld", s.Entity, s.Scope, s.Status, sub)
		}
	}
	e.mustRun(syncrun.Config{AllowMassDelete: true}, db.RunSucceeded)
	if live() != 0 {
		t.Errorf("%d assignments live after --allow-mass-delete", live())
	}
}

// A queue's assigned-agents listing that fails after retries fails its sub-account's
// agent_queues scope only: nothing of it is deleted, every other scope succeeds. A failing
// queue-groups listing fails the scopes of everything found through it in that sub-account.
func TestConfigEntitiesFailingListingIsContained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 14, Tenant: configTenant()})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var sub, other string
	var queue int
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		sub, other = tn.SubAccounts[0].ID, tn.SubAccounts[1].ID
		q := tn.SubAccounts[0].QueueGroups[1].Queues[0]
		queue = q.ID
		return tn.UnassignAgentFromQueue(q.ID, q.AgentIDs[0]) // would be a delete, were the scope complete
	}); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointGateAgents, engagefake.Fault{Status: 500, PathContains: fmt.Sprintf("/gates/%d/", queue)})
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	for _, s := range res.Scopes {
		failed := s.Entity == entity.AgentQueues && s.Scope == sub
		if failed != (s.Status == db.ScopeFailed) {
			t.Errorf("scope %s/%s %s (%s)", s.Entity, s.Scope, s.Status, s.Error)
		}
		if failed && (s.Deleted != 0 || !strings.Contains(s.Error, "assignedAgents")) {
			t.Errorf("failed scope deleted %d rows, error %q", s.Deleted, s.Error)
		}
	}
	// Fresh means complete: agent_queues keeps the first run's freshness, queues have this one's.
	fresh := map[string]int64{}
	st, err := e.store.StatusGet(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, es := range st.Entities {
		fresh[string(es.Entity)] = es.LastSuccessRunID
	}
	if fresh["agent_queues"] != res.RunID-1 || fresh["queues"] != res.RunID {
		t.Errorf("freshness: agent_queues as of run %d (want %d), queues of run %d (want %d)", fresh["agent_queues"], res.RunID-1, fresh["queues"], res.RunID)
	}
	e.fake.ClearFaults()
	e.fake.SetFault(engagefake.EndpointGateGroups, engagefake.Fault{Status: 500, PathContains: "/accounts/" + other + "/"})
	res = e.mustRun(syncrun.Config{}, db.RunPartial)
	for _, s := range res.Scopes {
		below := s.Scope == other && (s.Entity == entity.QueueGroups || s.Entity == entity.Queues || s.Entity == entity.Skills || s.Entity == entity.AgentQueues)
		if below != (s.Status == db.ScopeFailed) {
			t.Errorf("queue groups of %s failing: scope %s/%s %s", other, s.Entity, s.Scope, s.Status)
		}
	}
	if st := e.fake.Stats(); st.Requests[engagefake.EndpointGateSkills] == 0 {
		t.Error("the other sub-account's skills were not listed")
	}
}

// `--entities queues` lists the accounts and each sub-account's queue groups (which hold the
// queues), and nothing else; it publishes queue_groups (implied) and queues.
func TestConfigEntitiesSelectOnlyWhatTheyNeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 15, Tenant: configTenant()})
	res := e.mustRun(syncrun.Config{Entities: []entity.Name{entity.Queues}}, db.RunSucceeded)
	c := e.configCounts(0)
	st := e.fake.Stats()
	want := map[string]int64{engagefake.EndpointAccounts: 1, engagefake.EndpointGateGroups: c.gateGroupReqs}
	for _, ep := range engagefake.Endpoints {
		if strings.Contains(ep, ".") {
			continue // auth
		}
		if st.Requests[ep] != want[ep] {
			t.Errorf("requests to %s = %d, want %d", ep, st.Requests[ep], want[ep])
		}
	}
	var entities []entity.Name
	for name := range res.Totals() {
		entities = append(entities, name)
	}
	if len(entities) != 2 || res.Totals()[entity.Queues].Inserted != c.queues || res.Totals()[entity.QueueGroups].Inserted != c.queueGroups {
		t.Errorf("published %v: %+v", entities, res.Totals())
	}
	if e.live("agents")+e.live("skills")+e.live("agent_queues") != 0 {
		t.Error("an entity not selected was published")
	}
}

// Secret-bearing keys nested in the configuration's objects (a queue's RemoteHttpService
// httpPassword, a campaign's ResultFileDestination ftpPwd; the queue-group rows hold their
// gates, the dial-group rows their campaigns) are stripped at any depth; their siblings stay.
func TestConfigEntitiesRawKeepsNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 16, Tenant: configTenant()})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var dump string
	if err := e.pool.QueryRow(t.Context(), `SELECT string_agg(raw::text, ' ') FROM (
SELECT raw FROM engage.queue_groups UNION ALL SELECT raw FROM engage.queues UNION ALL SELECT raw FROM engage.skills
UNION ALL SELECT raw FROM engage.dial_groups UNION ALL SELECT raw FROM engage.campaigns
UNION ALL SELECT raw FROM engage.agent_queues UNION ALL SELECT raw FROM engage.agent_dial_groups) r`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.fake.SecretValues() {
		if strings.Contains(dump, s) {
			t.Fatalf("a secret value (%d chars) is stored in a configuration row", len(s))
		}
	}
	for _, k := range []string{`"httpPassword"`, `"ftpPwd"`, `"password"`, `"sipPassword"`, `"phoneLoginPin"`} {
		if strings.Contains(dump, k) {
			t.Errorf("key %s is stored", k)
		}
	}
	if n := e.count(`SELECT count(*) FROM engage.campaigns WHERE raw->'campaignResultDest' ? 'ftpUid'`); n == 0 {
		t.Error("the campaigns' result destinations lost their other fields")
	}
}
