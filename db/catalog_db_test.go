package db_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// dbColumn is a column of a migrated schema as the catalog of PostgreSQL has it.
type dbColumn struct {
	Relation, Kind, Column, Type string
	Key                          bool    // part of the primary key
	RelComment, Comment          *string // the relation's and the column's
}

// schemaColumns reads every column of every table and view of schema, in table order.
func schemaColumns(t *testing.T, q dbtest.Querier, schema string) []dbColumn {
	t.Helper()
	rows, err := q.Query(t.Context(), `
SELECT c.relname::text, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, a.attname::text,
       format_type(a.atttypid, a.atttypmod),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)),
       obj_description(c.oid, 'pg_class'), col_description(c.oid, a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
ORDER BY c.relname, a.attnum`, schema)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dbColumn, error) {
		var c dbColumn
		err := r.Scan(&c.Relation, &c.Kind, &c.Column, &c.Type, &c.Key, &c.RelComment, &c.Comment)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		t.Fatalf("schema %s has no columns", schema)
	}
	return cols
}

// catalogColumns is what db.Relations says schemaColumns reads, relations in name order.
func catalogColumns(rels []db.Relation) []dbColumn {
	byName := map[string]db.Relation{}
	var names []string
	for _, r := range rels {
		byName[r.Name] = r
		names = append(names, r.Name)
	}
	var out []dbColumn
	for _, name := range slices.Sorted(slices.Values(names)) {
		r := byName[name]
		kind := "table"
		if r.Kind == db.KindView {
			kind = "view"
		}
		key := map[string]bool{}
		for _, k := range r.Key {
			key[k] = true
		}
		for _, c := range r.Columns {
			out = append(out, dbColumn{Relation: r.Name, Kind: kind, Column: c.Name, Type: c.Type, Key: key[c.Name],
				RelComment: &r.Doc, Comment: &c.Doc})
		}
	}
	return out
}

// The data dictionary is the migrated schema: every table and view the migrations create, and
// only those, with its columns in order, their types and its primary key, and the comment of
// each relation and column is its text in the dictionary. A description that changes without
// a migration (go run ./internal/tools/genmigration) fails it, and so does a relation or a
// column no description covers.
func TestRelationsAreTheMigratedSchema(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	got := schemaColumns(t, pool, schema)
	for _, c := range got {
		if c.RelComment == nil || *c.RelComment == "" {
			t.Errorf("%s %s has no comment", c.Kind, c.Relation)
		}
		if c.Comment == nil || *c.Comment == "" {
			t.Errorf("column %s.%s has no comment", c.Relation, c.Column)
		}
	}
	if diff := cmp.Diff(catalogColumns(db.Relations()), got); diff != "" {
		t.Errorf("db.Relations and the migrated schema differ (-relations +schema); a changed description needs a migration "+
			"(go run ./internal/tools/genmigration update_comments):\n%s", diff)
	}
	// The comparison sees a description that differs from the comment.
	rels := db.Relations()
	rels[0].Columns[0].Doc += " Changed."
	if cmp.Equal(catalogColumns(rels), got) {
		t.Error("a changed column description still matches the schema's comments")
	}
}

// The comments are set in whatever schema the migrations run in (their names are unqualified),
// and rolling back the migration that set them clears them.
func TestCommentsInAnySchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := db.Open(ctx, dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	const schema = "tenant_acme"
	if err := db.MigrateUp(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	// commented counts the relations and the columns of schema that have a comment.
	commented := func() (relations, columns int) {
		seen := map[string]bool{}
		for _, c := range schemaColumns(t, pool, schema) {
			if c.Comment != nil {
				columns++
			}
			if c.RelComment != nil && !seen[c.Relation] {
				seen[c.Relation] = true
				relations++
			}
		}
		return relations, columns
	}
	rels := db.Relations()
	wantColumns := 0
	for _, r := range rels {
		wantColumns += len(r.Columns)
	}
	if r, c := commented(); r != len(rels) || c != wantColumns {
		t.Errorf("schema %s: %d relations and %d columns have comments, want %d and %d", schema, r, c, len(rels), wantColumns)
	}
	var got string
	if err := pool.QueryRow(ctx, `SELECT obj_description('tenant_acme.agents'::regclass, 'pg_class')`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := entity.Of(entity.Agents).Doc; got != want {
		t.Errorf("%s.agents comment = %q, want %q", schema, got, want)
	}
	for v := latestMigration(t); v >= db.CommentsSince; v-- {
		plan, err := db.MigrateDown(ctx, pool, schema, false)
		if err != nil || plan.Version != v {
			t.Fatalf("MigrateDown = %+v, %v; want migration %d rolled back", plan, err, v)
		}
	}
	if r, c := commented(); r != 0 || c != 0 {
		t.Errorf("after rolling back migration %d, %d relations and %d columns still have comments", db.CommentsSince, r, c)
	}
}
