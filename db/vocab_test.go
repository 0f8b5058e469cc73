package db_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/dbtest"
)

// TestVocabularyMatchesCheckConstraints: db.Entities, db.RunStatuses and db.ScopeStatuses
// are exactly the values the migrated schema's CHECK constraints allow.
func TestVocabularyMatchesCheckConstraints(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	allowed := func(table, column string) []string {
		t.Helper()
		var def string
		err := pool.QueryRow(t.Context(), `
SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = ANY (c.conkey)
WHERE n.nspname = $1 AND r.relname = $2 AND a.attname = $3 AND c.contype = 'c'`, schema, table, column).Scan(&def)
		if err != nil {
			t.Fatalf("%s.%s: %v", table, column, err)
		}
		var vals []string
		for _, m := range regexp.MustCompile(`'([a-z_]+)'::text`).FindAllStringSubmatch(def, -1) {
			vals = append(vals, m[1])
		}
		slices.Sort(vals)
		return vals
	}
	names := func(vs ...string) []string { slices.Sort(vs); return vs }
	var entities, runs, scopes []string
	for _, e := range db.Entities() {
		entities = append(entities, string(e))
	}
	for _, s := range db.RunStatuses() {
		runs = append(runs, string(s))
	}
	for _, s := range db.ScopeStatuses() {
		scopes = append(scopes, string(s))
	}
	for _, c := range []struct {
		table, column string
		want          []string
	}{
		{"sync_run_scopes", "entity", names(entities...)},
		{"sync_runs", "status", names(runs...)},
		{"sync_run_scopes", "status", names(scopes...)},
	} {
		if diff := cmp.Diff(c.want, allowed(c.table, c.column)); diff != "" {
			t.Errorf("%s.%s: Go vocabulary vs CHECK constraint (-go +check):\n%s", c.table, c.column, diff)
		}
	}
}

func TestExpandImplications(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []db.Entity
	}{
		{nil, db.Entities()},
		{[]db.Entity{db.EntityAgents}, []db.Entity{db.EntityAgentGroups, db.EntityAgents}},
		{[]db.Entity{db.EntitySubAccounts, db.EntityUsers}, []db.Entity{db.EntityAccounts, db.EntitySubAccounts, db.EntityUsers}},
		{[]db.Entity{db.EntityUsers, db.EntityUsers}, []db.Entity{db.EntityUsers}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, db.Expand(tt.in)); diff != "" {
			t.Errorf("Expand(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := db.ParseEntity("queues"); err == nil || err.Error() != `unknown entity "queues" (expected one of accounts, sub_accounts, users, agent_groups, agents)` {
		t.Errorf("ParseEntity(queues) = %v", err)
	}
}
