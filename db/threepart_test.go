package db_test

import (
	"context"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// TestThreePartKeys stages an entity keyed (sub_account_id, queue_id, agent_id) with no typed
// columns beside its key: first load, a no-op re-run, an assignment gone (soft-deleted with a
// history row), one back (restored), and the same key listed twice kept once.
func TestThreePartKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	type assignment struct{ queue, agent int64 }
	run := func(assigned []assignment, wantStatus db.RunStatus) *db.PublishResult {
		t.Helper()
		_, st := f.beginStage()
		defer st.Close() // its connection back to the small test pool
		add := func(e entity.Name, rows ...db.Row) {
			t.Helper()
			if err := st.Add(ctx, e, "test", rows); err != nil {
				t.Fatal(err)
			}
			st.ScopeComplete(e, "s1")
		}
		add(entity.QueueGroups, db.Row{S: "s1", N: [2]int64{7}, Vals: []any{ptr("Billing"), nil}, Raw: []byte(`{"gateGroupId":7}`)})
		add(entity.Queues,
			db.Row{S: "s1", N: [2]int64{70}, Vals: []any{int64(7), ptr("Billing EN"), nil, ptr(true), ptr(int64(1)), nil}, Raw: []byte(`{"gateId":70}`)},
			db.Row{S: "s1", N: [2]int64{71}, Vals: []any{int64(7), ptr("Billing FR"), nil, ptr(true), nil, nil}, Raw: []byte(`{"gateId":71}`)})
		var rows []db.Row
		for _, a := range assigned {
			rows = append(rows, db.Row{S: "s1", N: [2]int64{a.queue, a.agent}, Vals: []any{}, Raw: []byte(`{"agentId":1}`)})
		}
		add(entity.AgentQueues, rows...)
		res, err := publishStage(ctx, st, policy{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != wantStatus {
			t.Fatalf("status %s, want %s (%s)", res.Status, wantStatus, res.Error)
		}
		return res
	}
	all := []assignment{{70, 1}, {70, 2}, {71, 1}, {71, 3}}
	res := run(all, db.RunSucceeded)
	if c := scopeOf(t, res, entity.AgentQueues, "s1"); c.Inserted != 4 {
		t.Fatalf("first load: %+v", c)
	}
	res = run(all, db.RunSucceeded)
	if c := scopeOf(t, res, entity.AgentQueues, "s1"); c.Unchanged != 4 || c.Inserted+c.Updated+c.Deleted != 0 {
		t.Fatalf("no-op: %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM %s.agent_queues_history`); n != 4 {
		t.Fatalf("history after a no-op: %d rows, want 4", n)
	}
	res = run(append(all[:3:3], assignment{70, 2}), db.RunSucceeded) // (71, 3) gone, (70, 2) listed twice
	if c := scopeOf(t, res, entity.AgentQueues, "s1"); c.Deleted != 1 || c.Unchanged != 3 {
		t.Fatalf("unassigned: %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM %s.agent_queues WHERE queue_id = 71 AND agent_id = 3 AND deleted_at IS NOT NULL`); n != 1 {
		t.Fatal("the unassigned agent's row is not soft-deleted")
	}
	res = run(all, db.RunSucceeded)
	if c := scopeOf(t, res, entity.AgentQueues, "s1"); c.Restored != 1 {
		t.Fatalf("reassigned: %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM %s.agent_queues_history WHERE queue_id = 71 AND agent_id = 3`); n != 3 {
		t.Fatalf("history of (71, 3): %d versions, want insert, delete, restore", n)
	}
}

// TestStageRejectsValuesOfTheWrongKind: a typed value that does not fit its column's kind, or a
// row with the wrong number of values, fails the Add naming the entity, item and column.
func TestStageRejectsValuesOfTheWrongKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		row  db.Row
		want string
	}{
		{db.Row{S: "s1", N: [2]int64{7}, Vals: []any{int64(3), nil}, Raw: []byte(`{}`)},
			"staging queue_groups from test: item 0 (sub_account_id=s1 queue_group_id=7): column name: a int64 value for a text column"},
		{db.Row{S: "s1", N: [2]int64{7}, Vals: []any{nil}, Raw: []byte(`{}`)},
			"staging queue_groups from test: item 0 (sub_account_id=s1 queue_group_id=7): 1 values for 2 columns"},
	} {
		_, st := f.beginStage()
		err := st.Add(context.Background(), entity.QueueGroups, "test", []db.Row{tt.row})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Add = %v, want %s", err, tt.want)
		}
	}
}
