package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// TestPublishLifecycle walks one tenant through the rules of docs/schema.md, one run per step.
func TestPublishLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(3) // 2 subs × 2 groups × 3 agents = 12 agents, 6 per sub-account

	// First load: everything inserted, one history row per row.
	res := f.mustSync(tn, syncOpts{})
	want := map[entity.Name]db.ScopeCounts{
		"accounts":     {Entity: "accounts", Fetched: 1, Inserted: 1},
		"sub_accounts": {Entity: "sub_accounts", Fetched: 2, Inserted: 2},
		"users":        {Entity: "users", Fetched: 3, Inserted: 3},
		"agent_groups": {Entity: "agent_groups", Fetched: 4, Inserted: 4},
		"agents":       {Entity: "agents", Fetched: 12, Inserted: 12},
	}
	if diff := cmp.Diff(want, totals(res)); diff != "" {
		t.Fatalf("first load counts (-want +got):\n%s", diff)
	}
	if res.Status != db.RunSucceeded || res.Error != "" || res.RunID == 0 {
		t.Fatalf("first load: status %q error %q run %d", res.Status, res.Error, res.RunID)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents_history WHERE change = 'insert' AND valid_to IS NULL AND raw IS NULL`); n != 12 {
		t.Fatalf("insert history rows = %d, want 12", n)
	}
	var gotRun int64
	var roles []string
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT last_run_id, roles FROM %s.users WHERE user_id = 2`, f.schema)).Scan(&gotRun, &roles); err != nil {
		t.Fatal(err)
	}
	if gotRun != res.RunID || !slices.Equal(roles, []string{"SUPERVISOR", "AGENT"}) {
		t.Fatalf("user 2: last_run_id %d roles %v", gotRun, roles)
	}

	// Identical reload: nothing inserted or updated, no new row versions, no history.
	before := f.snapshot()
	res = f.mustSync(tn, syncOpts{})
	for entity, c := range totals(res) {
		if c.Inserted+c.Updated+c.Deleted+c.Restored != 0 || c.Unchanged != c.Fetched {
			t.Errorf("no-op reload %s: %+v", entity, c)
		}
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Fatalf("no-op reload changed the tables (-before +after):\n%s", diff)
	}
	if n := f.count(`SELECT count(*) FROM %s.sync_runs WHERE status = 'succeeded' AND api_requests = 7`); n != 2 {
		t.Fatalf("succeeded runs = %d, want 2", n)
	}

	// One field changed: one update, changed_columns names it (and raw), history closed.
	tn.agents[0].Email = ptr("new@example.com")
	tn.agents[0].Raw = []byte(`{"agentId":10000,"agentGroupId":10,"email":"new@example.com","allowManualPass":true}`)
	tn.users[2].Enabled = ptr(true) // typed column only: raw unchanged
	res = f.mustSync(tn, syncOpts{})
	if c := scopeOf(t, res, "agents", "1001"); c.Updated != 1 || c.Unchanged != 5 || c.Inserted != 0 {
		t.Fatalf("agents/1001 after one change: %+v", c)
	}
	var cc []string
	var change string
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT change, changed_columns FROM %s.agents_history
WHERE sub_account_id = '1001' AND agent_id = 10000 AND valid_to IS NULL`, f.schema)).Scan(&change, &cc); err != nil {
		t.Fatal(err)
	}
	if change != "update" || !slices.Equal(cc, []string{"email", "raw"}) {
		t.Fatalf("agent history: change %q changed_columns %v, want update [email raw]", change, cc)
	}
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT changed_columns FROM %s.users_history WHERE user_id = 3 AND valid_to IS NULL`, f.schema)).Scan(&cc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cc, []string{"enabled"}) {
		t.Fatalf("user history changed_columns %v, want [enabled]", cc)
	}
	// The superseded version now carries its object; the current one defers to the row.
	if n := f.count(`SELECT count(*) FROM %s.agents_history WHERE agent_id = 10000 AND valid_to IS NOT NULL AND raw->>'email' = 'agent10000@example.com'`); n != 1 {
		t.Fatalf("closed history version with old raw = %d, want 1", n)
	}

	// Vanished: soft-deleted, with a history row.
	gone := tn.agents[1]
	tn.agents = slices.Delete(tn.agents, 1, 2)
	res = f.mustSync(tn, syncOpts{})
	if c := scopeOf(t, res, "agents", "1001"); c.Deleted != 1 || c.Status != db.ScopeSucceeded {
		t.Fatalf("agents/1001 after a vanished agent: %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE agent_id = $1 AND deleted_at IS NOT NULL`, gone.AgentID); n != 1 {
		t.Fatalf("vanished agent not soft-deleted")
	}
	if n := f.count(`SELECT count(*) FROM %s.agents_history WHERE agent_id = $1 AND change = 'delete' AND changed_columns = '{deleted_at}' AND valid_to IS NULL`, gone.AgentID); n != 1 {
		t.Fatalf("no delete history row")
	}
	if n := f.count(`SELECT count(*) FROM %s.agents_current`); n != 11 {
		t.Fatalf("agents_current = %d rows, want 11", n)
	}

	// Back: restored.
	tn.agents = slices.Insert(tn.agents, 1, gone)
	res = f.mustSync(tn, syncOpts{})
	if c := scopeOf(t, res, "agents", "1001"); c.Restored != 1 || c.Updated != 0 || c.Deleted != 0 {
		t.Fatalf("agents/1001 after the agent came back: %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE agent_id = $1 AND deleted_at IS NULL`, gone.AgentID); n != 1 {
		t.Fatalf("agent not restored")
	}
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT change, changed_columns FROM %s.agents_history
WHERE agent_id = $1 AND valid_to IS NULL`, f.schema), gone.AgentID).Scan(&change, &cc); err != nil {
		t.Fatal(err)
	}
	if change != "restore" || !slices.Equal(cc, []string{"deleted_at"}) {
		t.Fatalf("restore history: %q %v", change, cc)
	}

	// Incomplete scope: rows missing from a failed scope are not deleted; the run is partial.
	missing := tn.agents[2]
	tn.agents = slices.Delete(tn.agents, 2, 3)
	res = f.mustSync(tn, syncOpts{failed: map[string]bool{"agents/1001": true}})
	c := scopeOf(t, res, "agents", "1001")
	if c.Deleted != 0 || c.Status != db.ScopeFailed || !strings.Contains(c.Error, "HTTP 500") {
		t.Fatalf("failed scope: %+v", c)
	}
	if res.Status != db.RunPartial || !strings.Contains(res.Error, "agents/1001 failed") {
		t.Fatalf("run with a failed scope: %q %q", res.Status, res.Error)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE agent_id = $1 AND deleted_at IS NULL`, missing.AgentID); n != 1 {
		t.Fatalf("agent of a failed scope was deleted")
	}
	if n := f.count(`SELECT count(*) FROM %s.sync_run_scopes WHERE run_id = $1 AND status = 'failed'`, res.RunID); n != 1 {
		t.Fatalf("failed scope not recorded")
	}
	tn.agents = slices.Insert(tn.agents, 2, missing)

	// Breaker: 4 of sub-account 1002's 6 live agents vanish: withheld, partial; overridable.
	kept := slices.DeleteFunc(tn.clone().agents, func(a db.AgentRow) bool {
		return a.SubAccountID == "1002" && a.AgentID%1000 != 0
	})
	mass := tn.clone()
	mass.agents = kept
	res = f.mustSync(mass, syncOpts{})
	c = scopeOf(t, res, "agents", "1002")
	if c.Status != db.ScopeWithheld || c.Deleted != 0 || !strings.Contains(c.Error, "4 of 6") || res.Status != db.RunPartial {
		t.Fatalf("breaker: scope %+v run %q", c, res.Status)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE sub_account_id = '1002' AND deleted_at IS NULL`); n != 6 {
		t.Fatalf("breaker let deletes through: %d live", n)
	}
	res = f.mustSync(mass, syncOpts{allowMass: true})
	if c := scopeOf(t, res, "agents", "1002"); c.Deleted != 4 || c.Status != db.ScopeSucceeded || res.Status != db.RunSucceeded {
		t.Fatalf("allow mass delete: %+v %q", c, res.Status)
	}

	// A vanished group: the group and its agents are soft-deleted (3 of 6: not more than half).
	tn = mass
	tn.groups = slices.DeleteFunc(tn.groups, func(g db.AgentGroupRow) bool { return g.AgentGroupID == 11 })
	tn.agents = slices.DeleteFunc(tn.agents, func(a db.AgentRow) bool { return a.AgentGroupID == 11 })
	res = f.mustSync(tn, syncOpts{})
	if g, a := scopeOf(t, res, "agent_groups", "1001"), scopeOf(t, res, "agents", "1001"); g.Deleted != 1 || a.Deleted != 3 {
		t.Fatalf("vanished group: groups %+v agents %+v", g, a)
	}

	// Status reflects it all.
	st, err := f.s.StatusGet(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 3 || st.Runs[0].RunID != res.RunID || st.Runs[0].Status != db.RunSucceeded || st.Runs[0].FinishedAt == nil {
		t.Fatalf("status runs: %+v", st.Runs)
	}
	var agents db.EntityStatus
	for _, e := range st.Entities {
		if e.Entity == "agents" {
			agents = e
		}
	}
	if agents.Live != 5 || agents.Deleted != 7 || agents.LastSuccessRunID != res.RunID || agents.LastSuccessAt == nil {
		t.Fatalf("status agents: %+v", agents)
	}
}

// TestDryRun computes the counts and leaves the database exactly as it was, ledger included.
func TestDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(2)
	f.mustSync(tn, syncOpts{})
	tn.agents[0].Email = ptr("changed@example.com")
	tn.agents = tn.agents[:len(tn.agents)-1]
	tn.users = append(tn.users, db.UserRow{UserID: 9, Raw: []byte(`{}`)})
	before := f.snapshot()
	runs := f.count(`SELECT count(*) FROM %s.sync_runs`)
	res := f.mustSync(tn, syncOpts{dryRun: true})
	if res.RunID != 0 {
		t.Fatalf("dry run has run id %d", res.RunID)
	}
	got := totals(res)
	if got["agents"].Updated != 1 || got["agents"].Deleted != 1 || got["users"].Inserted != 1 {
		t.Fatalf("dry run counts: %+v", got)
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Fatalf("dry run changed the tables (-before +after):\n%s", diff)
	}
	if n := f.count(`SELECT count(*) FROM %s.sync_runs`); n != runs {
		t.Fatalf("dry run wrote a run row")
	}
	if n := f.count(`SELECT count(*) FROM %s.sync_run_scopes`); n != int64(len(res.Scopes)) {
		t.Fatalf("dry run wrote scope rows: %d", n)
	}
}

// TestPublishFailureLeavesTablesUnchanged fails a publish half-way in several ways: the entity
// tables stay byte-identical and the run is finished failed or canceled.
func TestPublishFailureLeavesTablesUnchanged(t *testing.T) {
	t.Parallel()
	errForced := errors.New("forced failure")
	tests := []struct {
		name, step string
		status     db.RunStatus
		fail       func(ctx context.Context, f *fixture, cancel context.CancelFunc) error
		wantErr    func(err error) bool
		outage     bool // a database-outage scenario: skipped with -short
	}{
		{name: "forced error", step: "agents:insert", status: db.RunFailed,
			fail:    func(context.Context, *fixture, context.CancelFunc) error { return errForced },
			wantErr: func(err error) bool { return errors.Is(err, errForced) }},
		{name: "error before commit", step: "commit", status: db.RunFailed,
			fail:    func(context.Context, *fixture, context.CancelFunc) error { return errForced },
			wantErr: func(err error) bool { return errors.Is(err, errForced) }},
		{name: "canceled context", step: "agents:delete", status: db.RunCanceled,
			fail:    func(_ context.Context, _ *fixture, cancel context.CancelFunc) error { cancel(); return nil },
			wantErr: func(err error) bool { return errors.Is(err, context.Canceled) }},
		{name: "killed backend", step: "agents:delete", status: db.RunFailed, outage: true,
			wantErr: func(err error) bool {
				return !strings.Contains(err.Error(), "terminating the staging backend") && !errors.Is(err, context.Canceled)
			},
			fail: func(ctx context.Context, f *fixture, _ context.CancelFunc) error {
				// The staging connection is the only one idle inside a transaction.
				var n int
				err := f.pool.QueryRow(context.WithoutCancel(ctx), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`).Scan(&n)
				if err != nil || n != 1 {
					return fmt.Errorf("terminating the staging backend: %d killed, %w", n, err)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.outage && testing.Short() {
				t.Skip("a database-outage scenario: skipped with -short")
			}
			f := newFixture(t)
			tn := newTenant(3)
			f.mustSync(tn, syncOpts{})
			// The next run inserts, updates and deletes.
			tn.agents[0].LastName = ptr("Changed")
			tn.agents = append(tn.agents[:len(tn.agents)-1], db.AgentRow{SubAccountID: "1002", AgentID: 99, AgentGroupID: 20, Raw: []byte(`{}`)})
			tn.users = append(tn.users, db.UserRow{UserID: 42, Raw: []byte(`{}`)})
			before := f.snapshot()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var hit bool
			_, runID, err := f.sync(tn, syncOpts{ctx: ctx, hook: func(hctx context.Context, step string) error {
				if step != tt.step {
					return nil
				}
				hit = true
				return tt.fail(hctx, f, cancel)
			}})
			if !hit {
				t.Fatalf("publish never reached step %s", tt.step)
			}
			if err == nil || !tt.wantErr(err) {
				t.Fatalf("publish error: %v", err)
			}
			t.Logf("publish error: %v", err)
			if diff := cmp.Diff(before, f.snapshot()); diff != "" {
				t.Fatalf("failed publish changed the tables (-before +after):\n%s", diff)
			}
			var status db.RunStatus
			var msg string
			if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT status, coalesce(error, '') FROM %s.sync_runs WHERE run_id = $1`, f.schema), runID).Scan(&status, &msg); err != nil {
				t.Fatal(err)
			}
			if status != tt.status || msg == "" {
				t.Fatalf("run finished %q (%q), want %q with an error", status, msg, tt.status)
			}
			if n := f.count(`SELECT count(*) FROM %s.sync_run_scopes WHERE run_id = $1`, runID); n != 0 {
				t.Fatalf("failed run has %d scope rows", n)
			}
			// The next run publishes normally.
			if res := f.mustSync(tn, syncOpts{}); totals(res)["agents"].Updated != 1 {
				t.Fatalf("run after the failure: %+v", totals(res)["agents"])
			}
		})
	}
}

// TestConcurrentReaderSeesOldOrNew polls counts while a publish runs, including at every
// step inside the publish transaction: only the old or the new totals are ever seen.
func TestConcurrentReaderSeesOldOrNew(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(100) // 400 agents
	f.mustSync(tn, syncOpts{pageSize: 50})
	type totals struct{ live, all, hist int64 }
	read := func(ctx context.Context) (totals, error) {
		var r totals
		err := f.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*),
  (SELECT count(*) FROM %[1]s.agents_history) FROM %[1]s.agents`, f.schema)).Scan(&r.live, &r.all, &r.hist)
		return r, err
	}
	old, err := read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Next run: 100 agents vanish (of 200 in sub-account 1001: exactly half), 50 new, 20 changed.
	next := tn.clone()
	next.agents = slices.DeleteFunc(next.agents, func(a db.AgentRow) bool { return a.SubAccountID == "1001" && a.AgentID%2 == 0 })
	for i := range 50 {
		next.agents = append(next.agents, db.AgentRow{SubAccountID: "1002", AgentID: int64(90000 + i), AgentGroupID: 21, Raw: []byte(`{}`)})
	}
	for i := range 20 {
		next.agents[i].LastName = ptr("Changed")
	}
	var (
		mu   gosync.Mutex
		seen = map[totals]int{}
	)
	ctx, stop := context.WithCancel(t.Context())
	var wg gosync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			r, err := read(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			seen[r]++
			mu.Unlock()
		}
	})
	res := f.mustSync(next, syncOpts{pageSize: 50, hook: func(ctx context.Context, _ string) error {
		r, err := read(ctx)
		if err != nil {
			return err
		}
		mu.Lock()
		seen[r]++
		mu.Unlock()
		return nil
	}})
	stop()
	wg.Wait()
	newT, err := read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a := scopeOf(t, res, "agents", "1001"); a.Deleted != 100 {
		t.Fatalf("agents/1001: %+v", a)
	}
	for r, n := range seen {
		if r != old && r != newT {
			t.Errorf("reader saw %+v (%d times); old %+v new %+v", r, n, old, newT)
		}
	}
	if seen[old] == 0 {
		t.Errorf("reader never saw the old totals during the publish")
	}
}

// TestUnmarkedScopeDoesNotPublish stages rows of a scope nobody marked: they are ignored.
func TestUnmarkedScopeDoesNotPublish(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(1)
	f.mustSync(tn, syncOpts{})
	ctx := t.Context()
	_, st := f.beginStage()
	err := st.AgentsAdd(ctx, "test", []db.AgentRow{
		{SubAccountID: "1001", AgentID: 777, AgentGroupID: 10, Raw: []byte(`{}`)},
		{SubAccountID: "1002", AgentID: 778, AgentGroupID: 20, Raw: []byte(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	st.ScopeFail(entity.Agents, "1002", errors.New("listing agents: timeout"))
	res, err := publishStage(ctx, st, policy{}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Its one marked scope failed: every scope failed, so the run is failed (docs/schema.md).
	if len(res.Scopes) != 1 || res.Scopes[0].Inserted != 1 || res.Status != db.RunFailed {
		t.Fatalf("result: %+v", res)
	}
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE agent_id IN (777, 778)`); n != 1 {
		t.Fatalf("published %d of the two staged agents, want only the marked scope's", n)
	}
	if err := st.AgentsAdd(ctx, "test", []db.AgentRow{{SubAccountID: "1", AgentID: 1, Raw: []byte(`{}`)}}); !errors.Is(err, db.ErrStageDone) {
		t.Fatalf("Add after Publish: %v, want ErrStageDone", err)
	}
	if _, err := st.Publish(ctx, nil); !errors.Is(err, db.ErrStageDone) {
		t.Fatalf("second Publish: %v, want ErrStageDone", err)
	}
}

// TestStageRejectsBadRows: invalid raw JSON fails staging, and Publish refuses to run.
func TestStageRejectsBadRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	runID, st := f.beginStage()
	err := st.UsersAdd(ctx, "test", []db.UserRow{{UserID: 1, Raw: []byte(`{"password":"hunter2", broken`)}})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad raw: %v", err)
	}
	st.ScopeComplete(entity.Users, entity.ScopeAll)
	if _, err := f.publish(ctx, st, runID, policy{}, false, nil); err == nil {
		t.Fatal("publish after a staging error succeeded")
	}
	var status db.RunStatus
	if err := f.pool.QueryRow(ctx, fmt.Sprintf(`SELECT status FROM %s.sync_runs WHERE run_id = $1`, f.schema), runID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != db.RunFailed {
		t.Fatalf("run status %q, want failed", status)
	}
}

// TestStageConcurrentAdds stages pages from several goroutines at once, as sync does.
func TestStageConcurrentAdds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(25) // 100 agents
	f.mustSync(tn, syncOpts{})
	ctx := t.Context()
	_, st := f.beginStage()
	for i := range tn.agents {
		if i%10 == 0 {
			tn.agents[i].LastName = ptr("Concurrent")
		}
	}
	var wg gosync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for i := w * 5; i < len(tn.agents); i += 20 {
				if err := st.AgentsAdd(ctx, "test", slices.Clone(tn.agents[i:i+5])); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() { st.ScopeComplete(entity.Agents, tn.subIDs()[w%2]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := publishStage(ctx, st, policy{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := totals(res)["agents"]; got.Fetched != 100 || got.Updated != 10 || got.Unchanged != 90 || got.Deleted != 0 {
		t.Fatalf("concurrent staging counts: %+v", got)
	}
}

// TestPublishRejectsBadScopes: a mark for an unknown entity or a wrong scope is a bug in the
// caller, reported instead of silently publishing nothing.
func TestPublishRejectsBadScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, mark := range [][2]string{{"agent", "1"}, {"users", "1001"}, {"agents", ""}} {
		st, err := f.s.StageBegin(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		st.ScopeComplete(entity.Name(mark[0]), mark[1])
		if _, err := publishStage(t.Context(), st, policy{}, false); err == nil {
			t.Errorf("mark %v accepted", mark)
		}
		st.Close()
	}
}

// TestNULCharactersPublish: Postgres text and jsonb cannot hold NUL; such values upstream are
// stored with U+FFFD instead of failing the run.
func TestNULCharactersPublish(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(1)
	tn.agents[0].FirstName = ptr("Zo\x00ë")
	tn.agents[0].Raw = []byte(`{"agentId":1,"firstName":"Zo\u0000ë","note":"a\\u0000b"}`)
	tn.users[0].Roles = []string{"AD\x00MIN"}
	f.mustSync(tn, syncOpts{})
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE first_name = 'Zo' || chr(65533) || 'ë' AND raw->>'firstName' = first_name AND raw->>'note' = 'a\u0000b'`); n != 1 {
		t.Errorf("NUL-bearing agent not stored with U+FFFD (%d rows match)", n)
	}
	if n := f.count(`SELECT count(*) FROM %s.users WHERE roles = ARRAY['AD' || chr(65533) || 'MIN']`); n != 1 {
		t.Errorf("NUL-bearing role not stored with U+FFFD")
	}
}

// TestStageDatesPostgresCannotHold: a date the API allows but timestamptz cannot hold (a
// DateTime whose millis is -2^53, about 285,000 BC) is stored as NULL; the run publishes.
func TestStageDatesPostgresCannotHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := newTenant(1)
	farPast := time.UnixMilli(-1 << 53).UTC()
	farFuture := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	tn.agents[0].CreatedAt = &farPast
	tn.agents[0].LastLoginAt = &farFuture
	tn.subs[0].EndDate = &farPast
	f.mustSync(tn, syncOpts{})
	var created, login, end *time.Time
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT a.created_at, a.last_login_at, s.end_date
FROM %[1]s.agents a, %[1]s.sub_accounts s WHERE a.agent_id = $1 AND s.sub_account_id = $2`, f.schema),
		tn.agents[0].AgentID, tn.subs[0].SubAccountID).Scan(&created, &login, &end); err != nil {
		t.Fatal(err)
	}
	if created != nil || login != nil || end != nil {
		t.Fatalf("created_at %v, last_login_at %v, end_date %v; want NULL", created, login, end)
	}
	// The edges of the range are kept.
	lo := time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	tn.agents[0].CreatedAt = &lo
	f.mustSync(tn, syncOpts{})
	if n := f.count(fmt.Sprintf(`SELECT count(*) FROM %%s.agents WHERE agent_id = %d AND created_at IS NOT NULL`, tn.agents[0].AgentID)); n != 1 {
		t.Fatalf("the earliest timestamptz was not stored")
	}
}

// TestStageErrorNamesItsOwnRows: a COPY runs while the caller fetches its next page, so its
// error surfaces on the next call; it still names the entity, source and item it was for, not
// the rows being staged when it surfaced.
func TestStageErrorNamesItsOwnRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	_, st := f.beginStage()
	bad := "bad \xff byte" // Postgres text cannot hold invalid UTF-8
	err := st.AgentsAdd(ctx, "GET /voice/api/v1/admin/accounts/1001/agentGroups/10/agents", []db.AgentRow{
		{SubAccountID: "1001", AgentID: 1, AgentGroupID: 10, Raw: []byte(`{}`)},
		{SubAccountID: "1001", AgentID: 2, AgentGroupID: 10, Raw: []byte(`{}`)},
		{SubAccountID: "1001", AgentID: 3, AgentGroupID: 10, Username: &bad, Raw: []byte(`{}`)},
	})
	if err == nil {
		// The COPY runs in the background: the next call reports it.
		err = st.AgentGroupsAdd(ctx, "GET /voice/api/v1/admin/accounts/1002/agentGroups", []db.AgentGroupRow{
			{SubAccountID: "1002", AgentGroupID: 20, Raw: []byte(`{}`)},
		})
	}
	var se *db.StageError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *db.StageError", err)
	}
	want := `staging agents from GET /voice/api/v1/admin/accounts/1001/agentGroups/10/agents: item 2 (sub_account_id=1001 agent_id=3): column username: copying rows: `
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "agent_groups") {
		t.Fatalf("err = %q\nwant prefix %q", err, want)
	}
	st.ScopeComplete(entity.Agents, "1001")
	if _, err := publishStage(ctx, st, policy{}, false); err == nil || !strings.Contains(err.Error(), "staging agents from") {
		t.Fatalf("publish after a staging error: %v", err)
	}
}
