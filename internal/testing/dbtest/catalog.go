package dbtest

import (
	"context"
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
