package db_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

// A dry run on a schema that lacks migrations (missing, empty or partly migrated) applies
// them in a transaction of its own, stages and plans against the tables they make, and rolls
// them back: while it runs, other sessions see none of it, and once it ends the catalog is
// as it was (no schema, no table, no version row), and a migrate up is not kept waiting.
func TestDryRunMigratesInItsTransaction(t *testing.T) {
	t.Parallel()
	all := len(migrationFiles(t))
	tests := []struct {
		name    string
		setup   string // SQL run first
		upTo    int64  // migrations applied first (0: none)
		pending int
	}{
		{name: "missing schema", pending: all},
		{name: "empty schema", setup: "CREATE SCHEMA engage", pending: all},
		{name: "partly migrated", setup: "CREATE SCHEMA engage", upTo: 3, pending: all - 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool, err := db.Open(ctx, dbtest.NewURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			if tt.setup != "" {
				if _, err := pool.Exec(ctx, tt.setup); err != nil {
					t.Fatal(err)
				}
			}
			if tt.upTo > 0 {
				if _, err := dbtest.Goose(t, pool, "engage", migrations.FS).UpTo(ctx, tt.upTo); err != nil {
					t.Fatal(err)
				}
			}
			before := dbtest.Catalog(t, pool, "engage")
			s, err := db.NewStore(pool, "engage")
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{t: t, pool: pool, schema: "engage", s: s}
			tn := newTenant(2)
			var during []string
			res, _, err := f.sync(tn, syncOpts{dryRun: true, beforeAdd: func(n int) {
				if n == 2 {
					during = dbtest.Catalog(t, pool, "engage")
				}
			}})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if diff := cmp.Diff(before, during); diff != "" {
				t.Errorf("another session saw the dry run's migrations (-before +during):\n%s", diff)
			}
			if diff := cmp.Diff(before, dbtest.Catalog(t, pool, "engage")); diff != "" {
				t.Errorf("the dry run left objects behind (-before +after):\n%s", diff)
			}
			got := totals(res)
			if got[entity.Agents].Inserted != int64(len(tn.agents)) || got[entity.Users].Inserted != int64(len(tn.users)) {
				t.Errorf("dry run would insert %+v, want every row fetched", got)
			}
			// The migration lock went with the transaction: migrate up runs at once (goose
			// would wait for it up to 5 minutes).
			lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := db.MigrateUp(lctx, pool, "engage"); err != nil {
				t.Fatalf("MigrateUp after the dry run: %v", err)
			}
		})
	}
}

// A dry run whose stage reports how many migrations it applied in its transaction: the
// pending ones, none on a migrated schema (which it leaves to run as any dry run does).
func TestDryRunMigrationsCount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	st, err := f.s.StageBegin(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := st.DryMigrations(); n != 0 {
		t.Errorf("DryMigrations on a migrated schema = %d, want 0", n)
	}

	pool, err := db.Open(ctx, dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := db.NewStore(pool, "fresh")
	if err != nil {
		t.Fatal(err)
	}
	st2, err := s.StageBegin(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n, want := st2.DryMigrations(), len(migrationFiles(t)); n != want {
		t.Errorf("DryMigrations on a missing schema = %d, want %d", n, want)
	}
	ids, err := st2.SubAccountIDsWithLiveRows(ctx)
	if err != nil || len(ids) != 0 {
		t.Errorf("SubAccountIDsWithLiveRows in the dry run's transaction = %v, %v; want none", ids, err)
	}
}

// migrationFiles lists the embedded migrations.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A dry run on a schema that lacks migrations holds the schema's migration lock until it
// ends; reading the schema's migrations takes no lock, so migrate status and the check of
// --no-migrate answer meanwhile (goose's locked Status would wait for the lock up to 5
// minutes, and fail).
func TestMigrationsReadDuringDryRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := db.Open(ctx, dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "CREATE SCHEMA engage"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbtest.Goose(t, pool, "engage", migrations.FS).UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	s, err := db.NewStore(pool, "engage")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.StageBegin(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all := len(migrationFiles(t))
	if n := st.DryMigrations(); n != all-3 {
		t.Fatalf("DryMigrations = %d, want %d (the dry run holds the migration lock)", n, all-3)
	}

	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n, err := db.MigratePending(rctx, pool, "engage"); err != nil || n != all-3 {
		t.Errorf("MigratePending during the dry run = %d, %v; want %d, nil", n, err, all-3)
	}
	ms, err := db.MigrationsGet(rctx, pool, "engage")
	if err != nil {
		t.Fatalf("MigrationsGet during the dry run: %v", err)
	}
	applied := 0
	for _, m := range ms.Migrations {
		if m.Applied {
			applied++
		}
	}
	if !ms.Exists || !ms.Versioned || len(ms.Migrations) != all || applied != 3 {
		t.Errorf("MigrationsGet during the dry run = %+v; want %d migrations, 3 applied", ms, all)
	}
}
