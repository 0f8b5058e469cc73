package db_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// TestVocabularyMatchesCheckConstraints: db.RunStatuses, db.ScopeStatuses,
// db.FieldChangeKinds, db.WindowStatuses and the stream names are the values the migrations' CHECK constraints allow (the entity names'
// checks: TestEntityListSQLMatchesMigrations). Each constraint, replaced by one rendered from
// the vocabulary in a transaction rolled back, leaves the schema's objects as they were.
func TestVocabularyMatchesCheckConstraints(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	quoted := func(vs ...string) string { return "'" + strings.Join(vs, "', '") + "'" }
	var runs, scopes, changes, windows, streams []string
	for _, v := range db.RunStatuses() {
		runs = append(runs, string(v))
	}
	for _, v := range db.ScopeStatuses() {
		scopes = append(scopes, string(v))
	}
	for _, v := range db.FieldChangeKinds() {
		changes = append(changes, string(v))
	}
	for _, v := range db.WindowStatuses() {
		windows = append(windows, string(v))
	}
	for _, n := range entity.StreamNames() {
		streams = append(streams, string(n))
	}
	tests := []struct{ table, column, values string }{
		{"sync_runs", "status", quoted(runs...)},
		{"sync_run_scopes", "status", quoted(scopes...)},
		{"api_field_changes", "change", quoted(changes...)},
		{"stream_windows", "status", quoted(windows...)},
		{"stream_windows", "stream", quoted(streams...)},
	}
	shipped := dbtest.Objects(t, pool, schema)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // the rendered constraints are only looked at
	for _, tt := range tests {
		name := tt.table + "_" + tt.column + "_check"
		tbl := schema + "." + tt.table
		if _, err := tx.Exec(ctx, "ALTER TABLE "+tbl+" DROP CONSTRAINT "+name+"; ALTER TABLE "+tbl+
			" ADD CONSTRAINT "+name+" CHECK ("+tt.column+" IN ("+tt.values+"))"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if diff := cmp.Diff(shipped, dbtest.Objects(t, tx, schema)); diff != "" {
		t.Errorf("the vocabulary's checks differ from the migrations' (-migrations +vocabulary):\n%s", diff)
	}
}

// TestDescriptionsMatchTables: every entity description (internal/entity) is its migrated
// table: the key is the primary key in order, each typed column has its description's type,
// the system columns follow, and the history table has the key and valid_from as its key.
func TestDescriptionsMatchTables(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	// strs runs a query of one text column about table.
	strs := func(query, table string) []string {
		t.Helper()
		rows, err := pool.Query(ctx, query, schema, table)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	columns := func(table string) []string {
		return strs(`SELECT column_name || ' ' || CASE WHEN data_type = 'ARRAY' THEN 'text[]' ELSE data_type END
FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, table)
	}
	primaryKey := func(table string) []string {
		return strs(`SELECT a.attname::text FROM pg_index i
JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
WHERE n.nspname = $1 AND r.relname = $2 AND i.indisprimary ORDER BY k.ord`, table)
	}
	for _, d := range entity.All() {
		var want, key []string
		for _, c := range append(slices.Clone(d.Key), d.Columns...) {
			want = append(want, c.Name+" "+c.Kind.SQL())
		}
		for _, c := range d.Key {
			key = append(key, c.Name)
		}
		want = append(want, "raw jsonb", "row_hash bytea", "first_seen_at timestamp with time zone",
			"last_changed_at timestamp with time zone", "deleted_at timestamp with time zone", "last_run_id bigint")
		if diff := cmp.Diff(want, columns(string(d.Name))); diff != "" {
			t.Errorf("%s: columns (-description +table):\n%s", d.Name, diff)
		}
		if diff := cmp.Diff(key, primaryKey(string(d.Name))); diff != "" {
			t.Errorf("%s: primary key (-description +table):\n%s", d.Name, diff)
		}
		if diff := cmp.Diff(append(key, "valid_from"), primaryKey(string(d.Name)+"_history")); diff != "" {
			t.Errorf("%s_history: primary key (-description +table):\n%s", d.Name, diff)
		}
	}
}
