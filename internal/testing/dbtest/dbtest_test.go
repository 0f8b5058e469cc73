package dbtest_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

func TestNewIsMigratedAndDropped(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		pool, schema := dbtest.New(t)
		if schema != "engage" {
			t.Fatalf("schema %q", schema)
		}
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM engage.agents`).Scan(&n); err != nil {
			t.Fatalf("migrated table missing: %v", err)
		}
		if err := pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.HasPrefix(name, "evsync_test_") {
		t.Fatalf("database name %q", name)
	}
	conn, err := pgx.Connect(t.Context(), dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s left behind", name)
	}
}

func TestNewURLIsEmptyAndUnique(t *testing.T) {
	t.Parallel()
	a, b := dbtest.NewURL(t), dbtest.NewURL(t)
	if a == b {
		t.Fatal("two NewURL calls returned the same database")
	}
	u, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'engage'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("NewURL database is not empty: %d, %v", n, err)
	}
}

// A clone of the template is what migrating a fresh database makes.
func TestNewMigratedURLIsMigrateUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	shape := func(dbURL string, migrate bool) string {
		pool, err := db.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		if migrate {
			if err := db.MigrateUp(ctx, pool, dbtest.Schema); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.MigratePending(ctx, pool, dbtest.Schema); err != nil || n != 0 {
			t.Fatalf("MigratePending = %d, %v; want 0, nil", n, err)
		}
		var s string
		err = pool.QueryRow(ctx, `SELECT concat_ws(E'\n',
			(SELECT string_agg(concat_ws(' ', table_name, column_name, data_type, is_nullable, column_default), E'\n' ORDER BY table_name, ordinal_position)
				FROM information_schema.columns WHERE table_schema = $1),
			(SELECT string_agg(concat_ws(' ', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conrelid::regclass::text, conname)
				FROM pg_constraint WHERE connamespace = $1::regnamespace),
			(SELECT string_agg(concat_ws(' ', indexname, indexdef), E'\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = $1),
			(SELECT string_agg(concat_ws(' ', viewname, definition), E'\n' ORDER BY viewname) FROM pg_views WHERE schemaname = $1),
			(SELECT string_agg(concat_ws(' ', version_id, is_applied), E'\n' ORDER BY id) FROM engage.goose_db_version))`, dbtest.Schema).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cloned, migrated := shape(dbtest.NewMigratedURL(t), false), shape(dbtest.NewURL(t), true)
	if cloned != migrated {
		t.Fatalf("clone differs from a migrated database:\n%s\n---\n%s", cloned, migrated)
	}
	if !strings.Contains(cloned, "agents") || !strings.Contains(cloned, "\n5 t") {
		t.Fatalf("not migrated:\n%s", cloned)
	}
}

// Catalog sees each kind of write a "writes nothing" test must catch: a schema, a relation, a
// goose version and a sync_runs row.
func TestCatalogSeesEveryWrite(t *testing.T) {
	t.Parallel()
	conn, err := pgx.Connect(t.Context(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	prev := dbtest.Catalog(t, conn, "engage")
	for _, step := range []struct{ sql, want string }{
		{"CREATE SCHEMA engage", "schema engage"},
		{"CREATE TABLE engage.goose_db_version (id serial, version_id bigint, is_applied boolean)", "r engage.goose_db_version"},
		{"INSERT INTO engage.goose_db_version (version_id, is_applied) VALUES (1, true)", "engage.goose_db_version 1:true"},
		{"CREATE TABLE engage.sync_runs (run_id bigint)", "engage.sync_runs 0"},
		{"INSERT INTO engage.sync_runs VALUES (1)", "engage.sync_runs 1"},
	} {
		if _, err := conn.Exec(t.Context(), step.sql); err != nil {
			t.Fatal(err)
		}
		got := dbtest.Catalog(t, conn, "engage")
		if slices.Equal(prev, got) || !slices.Contains(got, step.want) {
			t.Errorf("after %s: catalog %q, want it changed and holding %q", step.sql, got, step.want)
		}
		prev = got
	}
}
