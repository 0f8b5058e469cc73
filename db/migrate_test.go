package db_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
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
			store, err := db.NewStore(pool, tt.schema)
			errs["NewStore"] = err
			if err == nil {
				_, errs["RunCreate"] = store.RunCreate(ctx, "manual")
			}
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

// tableCount counts the tables and views of schema, goose's own table aside.
func tableCount(t *testing.T, pool *pgxpool.Pool, schema string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'goose_db_version'`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// MigrateDown holds the schema's run lock and will not drop rows unless told to (issue 9, #14).
func TestMigrateDownGuards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rows     int  // runs recorded first (rows of sync_runs)
		lock     bool // a run holds the schema's lock
		dropRows bool
		refused  bool // the tables step is refused with a *RowsLostError
	}{
		{name: "locked", lock: true},
		{name: "locked even with dropRows", lock: true, rows: 2, dropRows: true},
		{name: "rows refused", rows: 2, refused: true},
		{name: "rows dropped when allowed", rows: 2, dropRows: true},
		{name: "empty tables dropped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool, schema := dbtest.New(t)
			store := dbtest.Store(t, pool, schema)
			for range tt.rows {
				if _, err := store.RunCreate(ctx, "manual"); err != nil {
					t.Fatal(err)
				}
			}
			if tt.lock {
				lock, err := store.LockTake(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Release()
			}
			// The streams' tables, the drift tables and the configuration entities' tables are
			// empty, and the comments and views steps drop no table: no rows are at stake until
			// the first migration's.
			plan, err := db.MigrateDown(ctx, pool, schema, tt.dropRows)
			if err == nil {
				want := &db.DownPlan{Version: 8, Path: "00008_create_reporting_streams.sql",
					Tables: []db.TableRows{{Table: "agent_queue_stats"}, {Table: "agent_stats"}, {Table: "queue_stats"}, {Table: "interaction_segments"}}}
				if diff := cmp.Diff(want, plan); diff != "" {
					t.Errorf("reporting streams step (-want +got):\n%s", diff)
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if err == nil {
				want := &db.DownPlan{Version: 7, Path: "00007_create_streams.sql",
					Tables: []db.TableRows{{Table: "audit_log"}, {Table: "stream_windows"}}}
				if diff := cmp.Diff(want, plan); diff != "" {
					t.Errorf("streams step (-want +got):\n%s", diff)
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if err == nil {
				if diff := cmp.Diff(&db.DownPlan{Version: 6, Path: "00006_comment_schema.sql"}, plan); diff != "" {
					t.Errorf("comments step (-want +got):\n%s", diff)
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if err == nil {
				if plan.Version != 5 || plan.Rows() != 0 || len(plan.Tables) != 2 {
					t.Errorf("drift step: version %d, %d rows in %d tables, want 5, 0, 2", plan.Version, plan.Rows(), len(plan.Tables))
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if err == nil {
				if plan.Version != 4 || plan.Rows() != 0 || len(plan.Tables) != 14 {
					t.Errorf("configuration step: version %d, %d rows in %d tables, want 4, 0, 14", plan.Version, plan.Rows(), len(plan.Tables))
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if err == nil {
				if diff := cmp.Diff(&db.DownPlan{Version: 3, Path: "00003_replace_entity_freshness.sql"}, plan); diff != "" {
					t.Errorf("freshness view step (-want +got):\n%s", diff)
				}
				plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			}
			if tt.lock {
				if !errors.Is(err, db.ErrLocked) {
					t.Fatalf("MigrateDown while locked = %v, want ErrLocked", err)
				}
				if n := tableCount(t, pool, schema); n != 42 {
					t.Errorf("a locked-out MigrateDown left %d tables and views, want 42", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("MigrateDown (views): %v", err)
			}
			if diff := cmp.Diff(&db.DownPlan{Version: 2, Path: "00002_create_views.sql"}, plan); diff != "" {
				t.Errorf("views step (-want +got):\n%s", diff)
			}
			plan, err = db.MigrateDown(ctx, pool, schema, tt.dropRows)
			if tt.refused {
				var lost *db.RowsLostError
				if !errors.As(err, &lost) {
					t.Fatalf("MigrateDown with rows = %v, want a *RowsLostError", err)
				}
				want := "rolling back migration 1 (00001_create_tables.sql) would drop 2 rows in 1 tables (sync_runs 2)"
				if lost.Error() != want {
					t.Errorf("error = %q, want %q", lost.Error(), want)
				}
				if n := tableCount(t, pool, schema); n != 12 {
					t.Errorf("a refused MigrateDown left %d tables, want 12", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("MigrateDown (tables): %v", err)
			}
			if plan.Version != 1 || plan.Rows() != int64(tt.rows) || len(plan.Tables) != 12 {
				t.Errorf("tables step: version %d, %d rows in %d tables, want 1, %d, 12", plan.Version, plan.Rows(), len(plan.Tables), tt.rows)
			}
			if n := tableCount(t, pool, schema); n != 0 {
				t.Errorf("%d tables left, want 0", n)
			}
		})
	}
}

// What MigrateDown reports it drops is what disappears from the catalog, for every migration:
// the guard reads the Down sections, so a new migration must keep them readable.
func TestMigrateDownPlanMatchesCatalog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, schema := dbtest.New(t)
	names := func() []string {
		rows, err := pool.Query(ctx, `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename <> 'goose_db_version' ORDER BY 1`, schema)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for {
		before := names()
		plan, err := db.MigrateDown(ctx, pool, schema, true)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Version == 0 {
			break
		}
		after := names()
		var gone []string
		for _, n := range before {
			if !slices.Contains(after, n) {
				gone = append(gone, n)
			}
		}
		var planned []string
		for _, tr := range plan.Tables {
			planned = append(planned, tr.Table)
		}
		slices.Sort(planned)
		if diff := cmp.Diff(gone, planned); diff != "" {
			t.Errorf("migration %d (%s): tables dropped (-catalog +plan):\n%s", plan.Version, plan.Path, diff)
		}
	}
	if n := tableCount(t, pool, schema); n != 0 {
		t.Errorf("%d tables left after rolling everything back", n)
	}
}

// A stream run's scopes (not_entitled among them, a status only streams use) do not hold up
// rolling back: the streams migration's Down deletes them with the streams' tables, and the
// migration before it adds the checks back valid.
func TestMigrateDownAfterStreamRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, schema := dbtest.New(t)
	s := dbtest.Store(t, pool, schema)
	lock, _, err := s.StreamRunBegin(ctx, db.TriggerStreams)
	if err != nil {
		t.Fatal(err)
	}
	sp := db.Span{Start: time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)}
	sp.End = sp.Start.Add(time.Hour)
	if _, err := s.WindowPublish(ctx, &db.WindowPublishParams{RunID: lock.RunID, Stream: entity.StreamOf(entity.AuditLog),
		SubAccountID: "s1", Span: sp, Rows: db.RowsOf(nil), Lock: lock}); err != nil {
		t.Fatal(err)
	}
	if err := s.WindowFail(ctx, &db.WindowFailParams{RunID: lock.RunID, Stream: entity.AuditLog, SubAccountID: "s2",
		Span: sp, Status: db.WindowNotEntitled, Error: "403", Lock: lock}); err != nil {
		t.Fatal(err)
	}
	if err := lock.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	var scopes int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".sync_run_scopes WHERE entity = 'audit_log'").Scan(&scopes); err != nil || scopes != 2 {
		t.Fatalf("the stream run's scopes: %d, %v; want 2", scopes, err)
	}
	for {
		plan, err := db.MigrateDown(ctx, pool, schema, true)
		if err != nil {
			t.Fatalf("MigrateDown: %v", err)
		}
		if plan.Version == 0 {
			break
		}
	}
	if n := tableCount(t, pool, schema); n != 0 {
		t.Errorf("%d tables left after rolling everything back", n)
	}
}
