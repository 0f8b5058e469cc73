package sync_test

// The life of a run beyond the happy path (issue 9): runs left running by a process that died,
// a database that stops answering, a lock session that ends mid-run, and freshness.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// runRow is the part of a sync_runs row the lifecycle tests compare.
type runRow struct {
	RunID    int64
	Status   db.RunStatus
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
	other := dbtest.Store(t, e.pool, "other_tenant")
	first := e.mustRun(syncrun.Config{}, db.RunSucceeded)
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
		res := e.mustRun(tt.cfg, db.RunSucceeded)
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

// hookClient is a run's client with hooks called when a listing returns, to act at a chosen
// point of a run.
type hookClient struct {
	syncrun.Client
	mu           gosync.Mutex
	agentCalls   int
	onLogin      func()
	onListAgents func(call int) // 1-based, called before the listing returns
}

func (c *hookClient) Login(ctx context.Context) (*engageclient.AccessTokenUserDetails, error) {
	d, err := c.Client.Login(ctx)
	if c.onLogin != nil {
		c.onLogin()
	}
	return d, err
}

func (c *hookClient) ListAgents(ctx context.Context, accountID string, agentGroupID int64) ([]*engageclient.Agent, *engageclient.Response, error) {
	agents, resp, err := c.Client.ListAgents(ctx, accountID, agentGroupID)
	c.mu.Lock()
	c.agentCalls++
	n := c.agentCalls
	c.mu.Unlock()
	if c.onListAgents != nil {
		c.onListAgents(n)
	}
	return agents, resp, err
}

// A database that stops answering fails the run within its deadline (the run's context),
// wherever the run is: nothing waits on the database without a deadline, the ledger write and
// the lock release included, and the lock's session ends so that the next run can take it.
func TestRunSilentDatabaseFailsWithinTheDeadline(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name   string
		freeze func(p *dbtest.Proxy, c *hookClient)
	}{
		{"after login, before staging", func(p *dbtest.Proxy, c *hookClient) { c.onLogin = p.Freeze }},
		{"staging agents, a COPY in flight", func(p *dbtest.Proxy, c *hookClient) {
			c.onListAgents = func(call int) {
				if call == 2 {
					p.Freeze()
				}
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fixture.Fake(t, engagefake.Options{Seed: 73 + int64(i),
				Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 3}})
			d := storetest.New(t)
			silent, proxy := d.Proxied(t, db.WithCleanupTimeout(300*time.Millisecond))
			defer proxy.Close() // before the pool closes: see dbtest.Proxy

			e := newEnvOn(t, fake, d)
			c := &hookClient{Client: e.client(nil)}
			tt.freeze(proxy, c)
			r, err := syncrun.NewRunner(c, silent, syncrun.Config{Concurrency: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
			defer cancel()
			type outcome struct {
				res *syncrun.Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := r.Run(ctx)
				done <- outcome{res, err}
			}()
			var o outcome
			select {
			case o = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the run hangs on a silent database")
			}
			if o.err == nil || o.res == nil || o.res.Status != db.RunFailed {
				t.Fatalf("Run = %+v, %v; want a failed run", o.res, o.err)
			}

			// The lock's session ended with the run: the next run takes the lock, closes the
			// silent run's row (its end could not be recorded) with the error it kept in this
			// process, and succeeds.
			waitLockFree(t, e.store)
			res := e.mustRun(syncrun.Config{}, db.RunSucceeded)
			want := []runRow{
				{RunID: o.res.RunID, Status: db.RunFailed, Error: db.AbandonedError + ": " + o.res.Error, Finished: true},
				{RunID: res.RunID, Status: db.RunSucceeded, Finished: true},
			}
			if diff := cmp.Diff(want, e.runRows("engage")); diff != "" {
				t.Errorf("sync_runs (-want +got):\n%s", diff)
			}
		})
	}
}

// openPool opens a pool on url, closed when the test ends.
func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// waitLockFree waits until s's lock can be taken (the server notices a closed session a moment
// after the client hangs up), and releases it.
func waitLockFree(t *testing.T, s *db.Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lock, err := s.LockTake(t.Context())
		if err == nil {
			lock.Release()
			return
		}
		if !errors.Is(err, db.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("the lock of a run that ended is still held: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// terminateLockSession ends the backend that holds the run lock of the test database, as an
// operator's pg_terminate_backend or a server-side idle timeout would.
func (e *env) terminateLockSession(ctx context.Context) error {
	var n int
	err := e.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err == nil && n != 1 {
		err = fmt.Errorf("terminating the lock session: %d sessions hold advisory locks, want 1", n)
	}
	return err
}

// A run whose lock session ended mid-run must not publish (before, it published beside the
// run that took the lock next): it fails, and nothing of it reaches the tables.
func TestRunThatLostItsLockDoesNotPublish(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name      string
		secondRun bool // a second run takes the freed lock and completes while the first is fetching
		wantErr   string
	}{
		{"lock session terminated", false, "the run lost its lock (session ended); nothing published"},
		{"and a second run took the lock", true, "is not running"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 79 + int64(i)})
			e.mustRun(syncrun.Config{}, db.RunSucceeded)
			gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
			if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Renamed")
			}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a failure, not a hang
			defer cancel()
			var (
				hookErr error
				second  *syncrun.Result
			)
			c := &hookClient{Client: e.client(nil), onListAgents: func(call int) {
				if call != 1 {
					return
				}
				if hookErr = e.terminateLockSession(t.Context()); hookErr != nil || !tt.secondRun {
					return
				}
				// Another process: its own pool (the first run holds two of this one's four).
				other := dbtest.Store(t, openPool(t, e.pool.Config().ConnString()), "engage")
				waitLockFree(t, other)
				r, err := syncrun.NewRunner(e.client(nil), other, syncrun.Config{}, nil)
				if err == nil {
					second, err = r.Run(ctx)
				}
				hookErr = err
			}}
			r, err := syncrun.NewRunner(c, e.store, syncrun.Config{Concurrency: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(ctx)
			if hookErr != nil {
				t.Fatalf("acting mid-run: %v", hookErr)
			}
			if err == nil || res == nil || res.Status != db.RunFailed || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run = %+v, %v; want a failed run saying %q", res, err, tt.wantErr)
			}
			published := e.count(`SELECT (SELECT count(*) FROM engage.sync_run_scopes WHERE run_id = $1)
 + (SELECT count(*) FROM engage.agents WHERE last_run_id = $1) + (SELECT count(*) FROM engage.agents_history WHERE run_id = $1)`, res.RunID)
			if published != 0 {
				t.Errorf("the run that lost its lock published %d rows", published)
			}
			renamed := e.count(`SELECT count(*) FROM engage.agents WHERE first_name = 'Renamed'`)
			want := []runRow{{RunID: 1, Status: db.RunSucceeded, Finished: true}}
			if tt.secondRun {
				if second == nil || second.Status != db.RunSucceeded || renamed != 1 {
					t.Errorf("second run %+v published %d renamed agents, want succeeded and 1", second, renamed)
				}
				want = append(want, runRow{RunID: res.RunID, Status: db.RunFailed, Error: db.AbandonedError, Finished: true},
					runRow{RunID: second.RunID, Status: db.RunSucceeded, Finished: true})
			} else {
				if renamed != 0 {
					t.Errorf("the run that lost its lock published its change")
				}
				want = append(want, runRow{RunID: res.RunID, Status: db.RunFailed, Error: "publishing run 2: " + db.ErrLockLost.Error(), Finished: true})
			}
			if diff := cmp.Diff(want, e.runRows("engage")); diff != "" {
				t.Errorf("sync_runs (-want +got):\n%s", diff)
			}
		})
	}
}

// freshness returns the last complete run per entity_freshness (0: none) of the first five
// entities, those these scenarios are about (the configuration's follow the same view rule:
// TestConfigEntitiesFailingListingIsContained).
func (e *env) freshness() map[string]int64 {
	e.t.Helper()
	st, err := e.store.StatusGet(e.t.Context(), 1)
	if err != nil {
		e.t.Fatalf("StatusGet: %v", err)
	}
	out := map[string]int64{}
	for _, es := range st.Entities {
		if es.Entity.Order() > entity.Agents.Order() {
			continue
		}
		out[string(es.Entity)] = es.LastSuccessRunID
		if (es.LastSuccessAt == nil) != (es.LastSuccessRunID == 0) {
			e.t.Errorf("%s: last success run %d at %v", es.Entity, es.LastSuccessRunID, es.LastSuccessAt)
		}
	}
	return out
}

// Fresh means complete: a scope is fresh as of the last run that completed it, an entity as its
// least fresh current scope (agent groups and agents: one per live sub-account), and an entity
// with a scope never completed has no freshness.
func TestEntityFreshnessMeansComplete(t *testing.T) {
	t.Parallel()
	type step struct {
		cfg    syncrun.Config
		before func(e *env) // changes upstream before the run
		status db.RunStatus
		want   map[string]int64 // when set, the freshness right after this step
	}
	failAgentsOf := func(i int) func(e *env) {
		return func(e *env) {
			e.fake.ClearFaults()
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 404, PathContains: "/accounts/" + e.fake.SubAccountIDs()[i] + "/"})
		}
	}
	subs := func(e *env, idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, e.fake.SubAccountIDs()[i])
		}
		return out
	}
	tests := []struct {
		name  string
		steps func(e *env) []step
		want  map[string]int64
	}{
		{
			name: "an agents scope failed: agents keep the previous run's freshness",
			steps: func(*env) []step {
				return []step{{status: db.RunSucceeded}, {before: failAgentsOf(1), status: db.RunPartial}}
			},
			want: map[string]int64{"accounts": 2, "sub_accounts": 2, "users": 2, "agent_groups": 2, "agents": 1},
		},
		{
			name: "an agents scope never completed: agents have no freshness",
			steps: func(*env) []step {
				return []step{{before: failAgentsOf(0), status: db.RunPartial}}
			},
			want: map[string]int64{"accounts": 1, "sub_accounts": 1, "users": 1, "agent_groups": 1, "agents": 0},
		},
		{
			name: "--sub-account runs refresh only what they covered",
			steps: func(e *env) []step {
				return []step{
					{status: db.RunSucceeded},
					{cfg: syncrun.Config{Entities: []entity.Name{"agents"}, SubAccounts: subs(e, 0)}, status: db.RunSucceeded},
					{cfg: syncrun.Config{Entities: []entity.Name{"agents"}, SubAccounts: subs(e, 1, 2)}, status: db.RunSucceeded},
				}
			},
			want: map[string]int64{"accounts": 1, "sub_accounts": 1, "users": 1, "agent_groups": 2, "agents": 2},
		},
		{
			name: "a vanished sub-account's scope counts while its rows are live",
			steps: func(e *env) []step {
				gone := e.fake.SubAccountIDs()[0]
				remove := func(e *env) {
					if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(gone) }); err != nil {
						e.t.Fatal(err)
					}
				}
				return []step{
					{status: db.RunSucceeded},
					// Its groups and agents all vanish: the breaker withholds their deletes.
					{before: remove, status: db.RunPartial,
						want: map[string]int64{"accounts": 2, "sub_accounts": 2, "users": 2, "agent_groups": 1, "agents": 1}},
					{cfg: syncrun.Config{AllowMassDelete: true}, status: db.RunSucceeded},
				}
			},
			want: map[string]int64{"accounts": 3, "sub_accounts": 3, "users": 3, "agent_groups": 3, "agents": 3},
		},
		{
			name: "no sub-accounts left: their entities are as fresh as the listing that says so",
			steps: func(*env) []step {
				return []step{
					{status: db.RunSucceeded},
					{before: func(e *env) {
						for _, id := range e.fake.SubAccountIDs() {
							if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(id) }); err != nil {
								e.t.Fatal(err)
							}
						}
					}, cfg: syncrun.Config{AllowMassDelete: true}, status: db.RunSucceeded},
				}
			},
			want: map[string]int64{"accounts": 2, "sub_accounts": 2, "users": 2, "agent_groups": 2, "agents": 2},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 83 + int64(i)})
			for _, s := range tt.steps(e) {
				if s.before != nil {
					s.before(e)
				}
				e.mustRun(s.cfg, s.status)
				if s.want != nil {
					if diff := cmp.Diff(s.want, e.freshness()); diff != "" {
						t.Errorf("last complete run per entity after run %d (-want +got):\n%s", e.count("SELECT max(run_id) FROM engage.sync_runs"), diff)
					}
				}
			}
			if diff := cmp.Diff(tt.want, e.freshness()); diff != "" {
				t.Errorf("last complete run per entity (-want +got):\n%s", diff)
			}
		})
	}
}

// stallingClient holds every agents listing until the run's context ends (a long fetch),
// calling onStall once as the first one starts.
type stallingClient struct {
	syncrun.Client
	once    gosync.Once
	onStall func()
}

func (c *stallingClient) ListAgents(ctx context.Context, _ string, _ int64) ([]*engageclient.Agent, *engageclient.Response, error) {
	c.once.Do(c.onStall)
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// A run whose lock session ends while it is fetching learns it from its heartbeat and stops
// there: it does not go on to publish (or wait out its deadline) thinking it holds the lock.
// It is recorded failed, saying it lost the advisory lock, and publishes nothing.
func TestRunStopsWhenItsLockIsLost(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	e := newEnv(t, engagefake.Options{Seed: 83})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Renamed")
	}); err != nil {
		t.Fatal(err)
	}
	var hookErr error
	c := &stallingClient{Client: e.client(nil), onStall: func() { hookErr = e.terminateLockSession(t.Context()) }}
	store := dbtest.Store(t, e.pool, "engage", db.WithLockTimeout(3*time.Second))
	r, err := syncrun.NewRunner(c, store, syncrun.Config{Concurrency: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // generous: a heartbeat goes every second
	defer cancel()
	res, err := r.Run(ctx)
	if hookErr != nil {
		t.Fatalf("terminating the lock's session: %v", hookErr)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run waited for its deadline: %v", err)
	}
	const want = "lost the advisory lock of schema engage"
	if err == nil || res == nil || res.Status != db.RunFailed || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run = %+v, %v; want a failed run saying %q", res, err, want)
	}
	rows := e.runRows("engage")
	if len(rows) != 2 || rows[1].Status != db.RunFailed || !strings.Contains(rows[1].Error, want) {
		t.Errorf("sync_runs = %+v, want run 2 failed saying %q", rows, want)
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE first_name = 'Renamed' OR last_run_id = $1`, res.RunID); n != 0 {
		t.Errorf("the run that lost its lock published %d rows", n)
	}
}
