package db_test

import (
	"slices"
	"testing"

	"github.com/evsync/evsync/db"
)

func TestSubAccountIDsWithLiveRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	live := func() ([]string, error) { // as a run's stage sees the tables
		st, err := f.s.StageBegin(t.Context(), 0)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return st.SubAccountIDsWithLiveRows(t.Context())
	}
	ids, err := live()
	if err != nil || len(ids) != 0 {
		t.Fatalf("empty database: %v, %v", ids, err)
	}
	tn := newTenant(1)
	f.mustSync(tn, syncOpts{})
	if ids, err = live(); err != nil || !slices.Equal(ids, []string{"1001", "1002"}) {
		t.Fatalf("after first load: %v, %v", ids, err)
	}
	// Sub-account 1002 loses every group and agent (allowed past the breaker).
	tn.groups = slices.DeleteFunc(tn.groups, func(g db.AgentGroupRow) bool { return g.SubAccountID == "1002" })
	tn.agents = slices.DeleteFunc(tn.agents, func(a db.AgentRow) bool { return a.SubAccountID == "1002" })
	f.mustSync(tn, syncOpts{allowMass: true})
	if ids, err = live(); err != nil || !slices.Equal(ids, []string{"1001"}) {
		t.Fatalf("after 1002 emptied: %v, %v", ids, err)
	}
}
