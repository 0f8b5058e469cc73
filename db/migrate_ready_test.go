package db_test

import (
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/testing/dbtest"
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
