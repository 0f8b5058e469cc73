package db_test

import (
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// TestStageDuplicateKeepsOneCopy lists agent 10000 twice, in its own group 10 (rank 10) and
// in group 11 (rank 11), before or after the other copy, in the same Add or another one (whose
// COPY is then in flight or done). The copy kept is always group 10's, on every run, so a
// re-run is a no-op without history rows; each duplicate is reported once.
func TestStageDuplicateKeepsOneCopy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dupFirst bool
		page     int
	}{
		{"duplicate after, another add", false, 1},
		{"duplicate first, another add", true, 1},
		{"duplicate after, same add", false, 100},
		{"duplicate first, same add", true, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tn := newTenant(2)
			for i := range tn.agents {
				tn.agents[i].Rank = db.Rank{N: tn.agents[i].AgentGroupID}
			}
			listed := tn.clone()
			dup := listed.agents[0]
			if dup.AgentID != 10000 || dup.AgentGroupID != 10 {
				t.Fatalf("fixture changed: first agent is %d in group %d", dup.AgentID, dup.AgentGroupID)
			}
			dup.AgentGroupID, dup.Rank = 11, db.Rank{N: 11}
			dup.Raw = []byte(`{"agentId":10000,"agentGroupId":11}`)
			if tt.dupFirst {
				listed.agents = append([]db.AgentRow{dup}, listed.agents...)
			} else {
				listed.agents = append(listed.agents, dup)
			}
			var mu gosync.Mutex
			var dups []db.Duplicate
			onDup := func(d db.Duplicate) {
				mu.Lock()
				defer mu.Unlock()
				dups = append(dups, d)
			}
			for run := 1; run <= 3; run++ {
				res := f.mustSync(listed, syncOpts{pageSize: tt.page, dupFunc: onDup})
				got := totals(res)[entity.Agents]
				want := db.ScopeCounts{Entity: entity.Agents, Fetched: int64(len(tn.agents))}
				if run == 1 {
					want.Inserted = want.Fetched
				} else {
					want.Unchanged = want.Fetched
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("run %d: agents counts (-want +got):\n%s", run, diff)
				}
				if g := f.count(`SELECT agent_group_id FROM %s.agents WHERE agent_id = 10000`); g != 10 {
					t.Errorf("run %d: agent 10000 stored in group %d, want 10", run, g)
				}
			}
			if n := f.count(`SELECT count(*) FROM %s.agents_history WHERE agent_id = 10000`); n != 1 {
				t.Errorf("agent 10000 has %d history rows, want 1 (its insert)", n)
			}
			if n := f.count(`SELECT count(*) FROM %s.agents`); n != int64(len(tn.agents)) {
				t.Errorf("%d agents stored, want %d", n, len(tn.agents))
			}
			mu.Lock()
			defer mu.Unlock()
			if len(dups) != 3 {
				t.Fatalf("reported %d duplicates over 3 runs, want 3: %v", len(dups), dups)
			}
			for _, d := range dups {
				want := db.Duplicate{Entity: "agents", Key: "sub_account_id=1001 agent_id=10000", Kept: "fixture", Dropped: "fixture"}
				if diff := cmp.Diff(want, d); diff != "" {
					t.Errorf("duplicate (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestAccountsFallbackKeepsStoredValues stages the main account from a weaker source (the
// login response names only its id): the stored name and rc_account_id stay, nothing is
// rewritten, and the account is not deleted.
func TestAccountsFallbackKeepsStoredValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(1)
	f.mustSync(tn, syncOpts{})
	before := f.snapshot()

	weak := tn.clone()
	weak.accounts = []db.AccountRow{{MainAccountID: "100", Raw: []byte(`{"mainAccountId":"100"}`)}}
	res := f.mustSync(weak, syncOpts{fallback: true})
	if got := scopeOf(t, res, entity.Accounts, entity.ScopeAll); got.Unchanged != 1 || got.Updated+got.Deleted+got.Inserted != 0 {
		t.Errorf("accounts counts = %+v, want 1 unchanged", got)
	}
	after := f.snapshot()
	for _, tbl := range []string{"accounts", "accounts#versions", "accounts_history"} {
		if diff := cmp.Diff(before[tbl], after[tbl]); diff != "" {
			t.Errorf("%s changed (-before +after):\n%s", tbl, diff)
		}
	}

	// A main account nothing stored yet is staged from the weaker source as it is.
	weak.accounts = append(weak.accounts, db.AccountRow{MainAccountID: "200", Raw: []byte(`{"mainAccountId":"200"}`)})
	res = f.mustSync(weak, syncOpts{fallback: true})
	if got := scopeOf(t, res, entity.Accounts, entity.ScopeAll); got.Inserted != 1 || got.Unchanged != 1 {
		t.Errorf("accounts counts = %+v, want 1 inserted, 1 unchanged", got)
	}
	names := f.count(`SELECT count(*) FROM %s.accounts WHERE main_account_id = '200' AND name IS NULL`)
	if names != 1 {
		t.Errorf("main account 200 not stored from the weaker source")
	}
}
