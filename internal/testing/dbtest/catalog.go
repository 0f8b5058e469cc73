package dbtest

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// Querier is a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Objects returns the definitions of schema's views and of its tables' constraints, as
// PostgreSQL prints them: "view <name>" → pg_get_viewdef, "constraint <table>.<name>" →
// pg_get_constraintdef. Two schemas whose SQL differs only in layout compare equal.
func Objects(t testing.TB, q Querier, schema string) map[string]string {
	t.Helper()
	rows, err := q.Query(t.Context(), `
SELECT 'view ' || c.relname, pg_get_viewdef(c.oid, true)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'v'
UNION ALL
SELECT 'constraint ' || r.relname || '.' || k.conname, pg_get_constraintdef(k.oid, true)
FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE n.nspname = $1`, schema)
	if err != nil {
		t.Fatalf("dbtest: reading the objects of %s: %v", schema, err)
	}
	out := map[string]string{}
	var name, def string
	_, err = pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		out[name] = def
		return nil
	})
	if err != nil {
		t.Fatalf("dbtest: reading the objects of %s: %v", schema, err)
	}
	return out
}

// Goose returns a goose provider that applies the migrations in fsys to schema (which must
// exist) over pool, as db.MigrateUp does with the embedded ones: for tests of migrations that
// are not (yet) embedded, or that stop at a version.
func Goose(t testing.TB, pool *pgxpool.Pool, schema string, fsys fs.FS) *goose.Provider {
	t.Helper()
	cc := pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["search_path"] = schema
	sqlDB := stdlib.OpenDB(*cc)
	t.Cleanup(func() { _ = sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithTableName(schema+".goose_db_version"))
	if err != nil {
		t.Fatalf("dbtest: creating a migration provider: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// CatalogQuerier is a pool or a connection.
type CatalogQuerier interface {
	Querier
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Catalog lists what a database holds outside PostgreSQL's own schemas, sorted: each schema
// ("schema NAME"), each relation ("KIND SCHEMA.NAME", KIND being pg_class.relkind), and, in
// each of schemas that has them, the versions goose_db_version records and the rows of
// sync_runs. Taken before and after a command, it shows whether the command wrote anything.
func Catalog(t testing.TB, q CatalogQuerier, schemas ...string) []string {
	t.Helper()
	ctx := t.Context()
	rows, err := q.Query(ctx, `
SELECT 'schema ' || nspname FROM pg_namespace
WHERE nspname NOT IN ('information_schema', 'pg_toast', 'pg_catalog') AND nspname NOT LIKE 'pg\_%temp\_%'
UNION ALL
SELECT c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('information_schema', 'pg_toast', 'pg_catalog') AND n.nspname NOT LIKE 'pg\_%temp\_%'
ORDER BY 1`)
	if err != nil {
		t.Fatalf("dbtest: reading the catalog: %v", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("dbtest: reading the catalog: %v", err)
	}
	for _, schema := range schemas {
		for _, ledger := range []struct{ table, sql string }{
			{"goose_db_version", "SELECT coalesce(string_agg(version_id::text || ':' || is_applied::text, ',' ORDER BY id), '') FROM %s.goose_db_version"},
			{"sync_runs", "SELECT count(*)::text FROM %s.sync_runs"},
		} {
			var exists bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2)`,
				schema, ledger.table).Scan(&exists); err != nil {
				t.Fatalf("dbtest: looking for %s.%s: %v", schema, ledger.table, err)
			}
			if !exists {
				continue
			}
			var v string
			if err := q.QueryRow(ctx, fmt.Sprintf(ledger.sql, pgx.Identifier{schema}.Sanitize())).Scan(&v); err != nil {
				t.Fatalf("dbtest: reading %s.%s: %v", schema, ledger.table, err)
			}
			out = append(out, schema+"."+ledger.table+" "+v)
		}
	}
	return out
}
