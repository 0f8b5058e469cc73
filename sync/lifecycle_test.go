package sync_test

// The life of a run beyond the happy path (issue 9): runs left running by a process that died,
// a database that stops answering, a lock session that ends mid-run, and freshness.

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	syncrun "github.com/evsync/evsync/sync"
)

// runRow is the part of a sync_runs row the lifecycle tests compare.
type runRow struct {
	RunID    int64
	Status   string
	Error    string
	Finished bool
}

// runRows returns the runs of schema, oldest first.
func (e *env) runRows(schema string) []runRow {
	e.t.Helper()
	rows, err := e.pool.Query(e.t.Context(), `SELECT run_id, status, coalesce(error, ''), finished_at IS NOT NULL FROM `+schema+`.sync_runs ORDER BY run_id`)
	if err != nil {
		e.t.Fatalf("reading %s.sync_runs: %v", schema, err)
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.RunID, &r.Status, &r.Error, &r.Finished); err != nil {
			e.t.Fatalf("reading %s.sync_runs: %v", schema, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatalf("reading %s.sync_runs: %v", schema, err)
	}
	return out
}

// A run left 'running' by a process that died is closed as failed/abandoned by the next run
// of its schema, once that run holds the lock; a dry run leaves it (and everything) alone, and
// another schema's running row is not touched.
func TestRunClosesAbandonedRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 71})
	ctx := t.Context()
	if err := db.MigrateUp(ctx, e.pool, "other_tenant"); err != nil {
		t.Fatal(err)
	}
	other := db.NewStore(e.pool, "other_tenant")
	first := e.mustRun(syncrun.Config{}, syncrun.StatusSucceeded)
	dead, err := e.store.RunCreate(ctx, "schedule") // as a process killed mid-run leaves it
	if err != nil {
		t.Fatal(err)
	}
	otherDead, err := other.RunCreate(ctx, "schedule")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		cfg       syncrun.Config
		wantDead  runRow
		wantRuns  int // rows in engage.sync_runs afterwards
		wantNewOK bool
	}{
		{"dry run leaves it running", syncrun.Config{DryRun: true},
			runRow{RunID: dead, Status: db.RunRunning}, 2, false},
		{"real run closes it", syncrun.Config{},
			runRow{RunID: dead, Status: db.RunFailed, Error: "abandoned", Finished: true}, 3, true},
	}
	for _, tt := range tests { // in order: each step builds on the last
		res := e.mustRun(tt.cfg, syncrun.StatusSucceeded)
		rows := e.runRows("engage")
		if len(rows) != tt.wantRuns {
			t.Fatalf("%s: %d runs recorded, want %d: %+v", tt.name, len(rows), tt.wantRuns, rows)
		}
		want := []runRow{{RunID: first.RunID, Status: db.RunSucceeded, Finished: true}, tt.wantDead}
		if tt.wantNewOK {
			want = append(want, runRow{RunID: res.RunID, Status: db.RunSucceeded, Finished: true})
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("%s: engage.sync_runs (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff([]runRow{{RunID: otherDead, Status: db.RunRunning}}, e.runRows("other_tenant")); diff != "" {
			t.Errorf("%s: another schema's running row was touched (-want +got):\n%s", tt.name, diff)
		}
	}
	// status shows it closed too.
	st, err := e.store.StatusGet(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Runs {
		if r.RunID == dead && (r.Status != db.RunFailed || r.Error != "abandoned" || r.FinishedAt == nil) {
			t.Errorf("status shows the abandoned run as %+v", r)
		}
	}
}
