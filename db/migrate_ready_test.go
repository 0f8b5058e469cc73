package db_test

import (
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

// MigrateCheck passes a migrated schema and names the schema, and what it lacks, otherwise:
// missing, never migrated, or behind the embedded migrations.
func TestMigrateCheck(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	if err := db.MigrateCheck(t.Context(), pool, schema); err != nil {
		t.Fatalf("MigrateCheck of a migrated schema: %v", err)
	}
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA bare"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM "+schema+".goose_db_version WHERE version_id = (SELECT max(version_id) FROM "+schema+".goose_db_version)"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		schema, want string
	}{
		{"nowhere", "schema nowhere does not exist"},
		{"bare", "schema bare is not migrated"},
		{schema, "schema " + schema + " has migrations pending"},
	}
	for _, tt := range tests {
		err := db.MigrateCheck(ctx, pool, tt.schema)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MigrateCheck(%s) = %v, want an error with %q", tt.schema, err, tt.want)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('bare', 'nowhere')").Scan(&n); err != nil || n != 0 {
		t.Errorf("MigrateCheck created %d tables (%v), want none", n, err)
	}
}

// MigrationsGet reads what goose's Status does: every embedded migration, in its order, and
// when each applied one was applied.
func TestMigrationsGetIsGooseStatus(t *testing.T) {
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
	p := dbtest.Goose(t, pool, "engage", migrations.FS)
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := db.MigrationsGet(ctx, pool, "engage")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.Migrations) != len(status) {
		t.Fatalf("MigrationsGet lists %d migrations, goose's Status %d", len(ms.Migrations), len(status))
	}
	for i, s := range status {
		m := ms.Migrations[i]
		applied := s.State == goose.StateApplied
		if m.Version != s.Source.Version || m.Path != s.Source.Path || m.Applied != applied ||
			applied && (m.AppliedAt == nil || !m.AppliedAt.Equal(s.AppliedAt)) {
			t.Errorf("MigrationsGet[%d] = %+v (applied at %v), goose's Status %+v %s %v", i, m, m.AppliedAt, *s.Source, s.State, s.AppliedAt)
		}
	}
}
