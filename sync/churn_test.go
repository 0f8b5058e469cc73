package sync_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	syncrun "github.com/evsync/evsync/sync"
)

// Against a fake that churns at every login after the first (fake-engage --churn), the second
// and third syncs record what a day of admin work leaves: history rows of renamed and moved
// agents, soft-deleted agents and users, new agents, and the API field the fake added, then
// retyped, in api_field_changes.
func TestSyncsAgainstAChurningFake(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 41, Churn: 2,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 6, Users: 6}})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	if n := e.count(`SELECT count(*) FROM engage.agents_history WHERE change <> 'insert'`); n != 0 {
		t.Fatalf("the first sync recorded %d changes", n)
	}
	second := e.mustRun(syncrun.Config{}, db.RunSucceeded)
	rounds := e.fake.Churns()
	if len(rounds) != 1 {
		t.Fatalf("churn rounds after two syncs: %v, want 1", rounds)
	}
	rep := rounds[0]
	agents := second.Totals()["agents"]
	if agents.Inserted != int64(len(rep.AddedAgents)) || agents.Deleted != int64(len(rep.RemovedAgents)) ||
		agents.Updated != int64(len(rep.RenamedAgents)+len(rep.MovedAgents)) {
		t.Errorf("second sync's agents %+v, want the churn's %s", agents, rep)
	}
	if n := e.count(`SELECT count(*) FROM engage.agents_history WHERE change = 'update' AND run_id = $1`, second.RunID); n != int64(len(rep.RenamedAgents)+len(rep.MovedAgents)) {
		t.Errorf("%d agent history rows of updates, want %d", n, len(rep.RenamedAgents)+len(rep.MovedAgents))
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE deleted_at IS NOT NULL AND agent_id = ANY($1)`, rep.RemovedAgents); n != int64(len(rep.RemovedAgents)) {
		t.Errorf("%d removed agents soft-deleted, want %d", n, len(rep.RemovedAgents))
	}
	if n := e.count(`SELECT count(*) FROM engage.users WHERE deleted_at IS NOT NULL AND user_id = ANY($1)`, rep.RemovedUsers); n != 1 {
		t.Errorf("%d removed users soft-deleted, want 1", n)
	}
	want := []string{"sub_accounts added " + engagefake.ChurnField + " ->string"}
	if diff := cmp.Diff(want, e.fieldChanges(second.RunID)); diff != "" {
		t.Errorf("second sync's api_field_changes (-want +got):\n%s", diff)
	}

	third := e.mustRun(syncrun.Config{}, db.RunSucceeded)
	want = []string{"sub_accounts type_changed " + engagefake.ChurnField + " string->number"}
	if diff := cmp.Diff(want, e.fieldChanges(third.RunID)); diff != "" {
		t.Errorf("third sync's api_field_changes (-want +got):\n%s", diff)
	}
}
