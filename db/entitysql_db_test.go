package db_test

import (
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

// latestMigration is the version of the newest shipped migration.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing migrations: %v", err)
	}
	num, _, _ := strings.Cut(path.Base(files[len(files)-1]), "_")
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// renderedDiff applies the SQL rendered for ds (the view; the checks too when checks) to the
// migrated schema in a transaction it rolls back, and returns how the schema's objects then
// differ from what the migrations created ("" when not at all).
func renderedDiff(t *testing.T, pool *pgxpool.Pool, schema string, ds []*entity.Desc, ss []*entity.Stream, checks bool) string {
	t.Helper()
	ctx := t.Context()
	shipped := dbtest.Objects(t, pool, schema)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // the rendered objects are only looked at
	text := db.EntityViewsSQL(ds)
	if checks {
		text += db.EntityChecksSQL(ds, ss, false)
	}
	// pg_get_viewdef qualifies the names that the search path does not find: read both sides
	// with the same path.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path = "+schema+";\n"+text+"SET LOCAL search_path TO DEFAULT"); err != nil {
		return "applying the rendered SQL: " + err.Error()
	}
	return cmp.Diff(shipped, dbtest.Objects(t, tx, schema))
}

// The SQL rendered from the registry is what the shipped migrations created: applied to a
// schema migrated to the latest version it changes no view and no constraint, and applied to
// one migrated to an earlier version, as of that version (entity.AsOf), neither. A registry
// that lists an entity the migrations do not (or lacks one they have) fails it.
func TestEntityListSQLMatchesMigrations(t *testing.T) {
	t.Parallel()
	latest := latestMigration(t)
	for _, v := range []int64{3, 4, latest} {
		t.Run(strconv.FormatInt(v, 10), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool, err := db.Open(ctx, dbtest.NewURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			if _, err := db.SchemaEnsure(ctx, pool, dbtest.Schema); err != nil {
				t.Fatal(err)
			}
			if _, err := dbtest.Goose(t, pool, dbtest.Schema, migrations.FS).UpTo(ctx, v); err != nil {
				t.Fatal(err)
			}
			checks := v >= 5 // the drift tables, with their entity checks, came in 00005
			if diff := renderedDiff(t, pool, dbtest.Schema, entity.AsOf(v), entity.StreamsAsOf(v), checks); diff != "" {
				t.Errorf("the SQL rendered as of migration %d changes what the migrations created (-migrations +rendered):\n%s", v, diff)
			}
			if v != latest {
				return
			}
			// The comparison sees a registry that disagrees with the migrations.
			all := entity.All()
			if renderedDiff(t, pool, dbtest.Schema, all[:len(all)-1], entity.Streams(), true) == "" {
				t.Error("the SQL rendered without the last entity matches the migrations too")
			}
			if renderedDiff(t, pool, dbtest.Schema, all, nil, true) == "" {
				t.Error("the SQL rendered without the streams matches the migrations too")
			}
		})
	}
}
