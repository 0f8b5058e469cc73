package db_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// pendingRE matches a pending migration's line of MigrateStatus.
var pendingRE = regexp.MustCompile(`^\d{5}  pending +\d{5}_\w+\.sql$`)

// The read-only migration calls create nothing: not the schema they report on, not goose's
// version table in a schema that exists but was never migrated (issue 21, #14).
func TestMigrateStatusCreatesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		create   bool // the schema exists, empty
		wantNote string
	}{
		{"missing schema", false, "schema engage does not exist: every migration is pending (migrate up creates it)"},
		{"empty schema", true, "schema engage has never been migrated: every migration is pending"},
	}
	n := int(latestMigration(t)) // the embedded migrations
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool, err := db.Open(ctx, dbtest.NewURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			if tt.create {
				if _, err := pool.Exec(ctx, "CREATE SCHEMA engage"); err != nil {
					t.Fatal(err)
				}
			}
			objects := func() (schemas, relations int64) {
				t.Helper()
				err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'engage'),
					(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'engage')`).Scan(&schemas, &relations)
				if err != nil {
					t.Fatal(err)
				}
				return schemas, relations
			}
			s0, r0 := objects()

			var out bytes.Buffer
			if err := db.MigrateStatus(ctx, pool, "engage", &out); err != nil {
				t.Fatalf("MigrateStatus: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if lines[0] != tt.wantNote {
				t.Errorf("first line %q, want %q", lines[0], tt.wantNote)
			}
			pendingLines := 0
			for _, l := range lines {
				if pendingRE.MatchString(l) {
					pendingLines++
				}
			}
			if len(lines) != n+1 || pendingLines != n {
				t.Errorf("status lists %d lines, want the note and %d pending migrations:\n%s", len(lines), n, out.String())
			}
			pending, err := db.MigratePending(ctx, pool, "engage")
			if err != nil || pending != n {
				t.Errorf("MigratePending = %d, %v; want %d, nil", pending, err, n)
			}
			plan, err := db.MigrateDown(ctx, pool, "engage", false)
			if err != nil || plan.Version != 0 {
				t.Errorf("MigrateDown = %+v, %v; want version 0 (nothing to roll back)", plan, err)
			}
			if s, r := objects(); s != s0 || r != r0 {
				t.Errorf("after status, pending and down: %d schemas and %d relations named engage, want %d and %d", s, r, s0, r0)
			}

			if err := db.MigrateUp(ctx, pool, "engage"); err != nil {
				t.Fatal(err)
			}
			if pending, err := db.MigratePending(ctx, pool, "engage"); err != nil || pending != 0 {
				t.Errorf("MigratePending after MigrateUp = %d, %v; want 0, nil", pending, err)
			}
			out.Reset()
			if err := db.MigrateStatus(ctx, pool, "engage", &out); err != nil {
				t.Fatal(err)
			}
			if applied := strings.Count(out.String(), " applied "); applied != n || strings.Count(out.String(), "\n") != n {
				t.Errorf("status after MigrateUp:\n%s\nwant %d applied migrations and no note", out.String(), n)
			}
		})
	}
}

// A role that owns its schema, with TEMP but no CREATE on the database, migrates it (issue 21,
// #14): PostgreSQL checks CREATE SCHEMA IF NOT EXISTS against the database first, so the
// migrations must not ask for a schema that exists.
func TestMigrateUpAsSchemaOwnerOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	roleURL := dbtest.NewRole(t, dbtest.NewURL(t), "engage")
	pool, err := db.Open(ctx, roleURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "CREATE SCHEMA other"); err == nil || !strings.Contains(err.Error(), "permission denied for database") {
		t.Fatalf("the role may create schemas (%v): the test does not test a restricted role", err)
	}
	for i := range 2 { // the second time, on an up-to-date schema
		if err := db.MigrateUp(ctx, pool, "engage"); err != nil {
			t.Fatalf("MigrateUp #%d as the schema's owner: %v", i+1, err)
		}
	}
	var out bytes.Buffer
	if err := db.MigrateStatus(ctx, pool, "engage", &out); err != nil {
		t.Fatalf("MigrateStatus as the schema's owner: %v", err)
	}
	if n, applied := int(latestMigration(t)), strings.Count(out.String(), " applied "); applied != n {
		t.Errorf("status as the schema's owner:\n%s\nwant %d applied", out.String(), n)
	}
	if err := db.MigrateUp(ctx, pool, "other"); err == nil || !strings.Contains(err.Error(), "permission denied for database") {
		t.Errorf("MigrateUp of a schema the role may not create = %v, want permission denied for database", err)
	}
}
