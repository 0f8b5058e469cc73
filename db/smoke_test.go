package db_test

import (
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/dbtest"
)

func TestSmoke(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	s := db.NewStore(pool, schema)
	ctx := t.Context()
	release, err := s.LockTry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	run, err := s.RunCreate(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.StageBegin(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	name := "x"
	if err := st.AccountsAdd(ctx, []db.AccountRow{{MainAccountID: "1", Name: &name, Raw: []byte(`{"a":1,"password":"p"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SubAccountsAdd(ctx, []db.SubAccountRow{{SubAccountID: "11", MainAccountID: "1", Raw: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AgentGroupsAdd(ctx, []db.AgentGroupRow{{SubAccountID: "11", AgentGroupID: 5, Raw: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AgentsAdd(ctx, []db.AgentRow{{SubAccountID: "11", AgentID: 7, AgentGroupID: 5, Raw: []byte(`{"sipPassword":"zz"}`)}}); err != nil {
		t.Fatal(err)
	}
	st.ScopeComplete("accounts", "all")
	st.ScopeComplete("sub_accounts", "all")
	st.ScopeComplete("agent_groups", "11")
	st.ScopeComplete("agents", "11")
	res, err := st.Publish(ctx, &db.PublishParams{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	stt, err := s.StatusGet(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", stt)
}
