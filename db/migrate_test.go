package db_test

import (
	"errors"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/dbtest"
)

// PostgreSQL's own schemas are refused by CheckSchema, the migrations and the Store alike, and
// nothing is created in them (the migrations used to create evsync's tables in
// information_schema) (issue 9, #13).
func TestSystemSchemasRefused(t *testing.T) {
	t.Parallel()
	pool, err := db.Open(t.Context(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tests := []struct {
		schema string
		ok     bool
	}{
		{"information_schema", false},
		{"pg_catalog", false},
		{"pg_toast", false},
		{"pg_temp", false},
		{"pg_engage", false},
		{"Engage", false},
		{"public", true},
		{"pgsync", true},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			errs := map[string]error{
				"CheckSchema": db.CheckSchema(tt.schema),
				"MigrateUp":   db.MigrateUp(ctx, pool, tt.schema),
			}
			_, errs["RunCreate"] = db.NewStore(pool, tt.schema).RunCreate(ctx, "manual")
			for name, err := range errs {
				if tt.ok && err != nil {
					t.Errorf("%s(%q): %v", name, tt.schema, err)
				}
				if !tt.ok && !errors.Is(err, db.ErrBadSchema) {
					t.Errorf("%s(%q) = %v, want ErrBadSchema", name, tt.schema, err)
				}
			}
			var created bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'sync_runs')`, tt.schema).Scan(&created); err != nil {
				t.Fatal(err)
			}
			if created != tt.ok {
				t.Errorf("sync_runs created in %s = %v, want %v", tt.schema, created, tt.ok)
			}
		})
	}
}
