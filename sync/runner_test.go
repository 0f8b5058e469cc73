package sync_test

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// env is one test's fake API and database. The logs of its clients and runs, and the errors
// of its runs, are checked for the fake's secrets when the test ends.
type env struct {
	t     *testing.T
	fake  *engagefake.Server
	db    *storetest.DB
	pool  *pgxpool.Pool // db's
	store *db.Store     // db's
	watch *fixture.Watch
}

// newEnvOn is the env of fake and d.
func newEnvOn(t *testing.T, fake *engagefake.Server, d *storetest.DB) *env {
	t.Helper()
	return &env{t: t, fake: fake, db: d, pool: d.Pool, store: d.Store, watch: fixture.NewWatch(t, fake)}
}

func newEnv(t *testing.T, opts engagefake.Options) *env {
	t.Helper()
	if opts.Tenant == (engagefake.TenantSpec{}) {
		opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 6}
	}
	// The tests of the first five entities run without configuration (the queue-group and
	// dial-group listings answer empty); those of the configuration size it (configTenant).
	if opts.Tenant.QueueGroupsPerSubAccount == 0 {
		opts.Tenant.QueueGroupsPerSubAccount = -1
	}
	if opts.Tenant.DialGroupsPerSubAccount == 0 {
		opts.Tenant.DialGroupsPerSubAccount = -1
	}
	return newEnvOn(t, fixture.Fake(t, opts), storetest.New(t))
}

func (e *env) client(mod func(*engageclient.Config)) *engageclient.Client {
	e.t.Helper()
	return engagetest.Client(e.t, e.fake, func(c *engageclient.Config) { c.Logger = e.watch.Logs.Logger() }, mod)
}

func (e *env) run(ctx context.Context, cfg syncrun.Config) (*syncrun.Result, error) {
	e.t.Helper()
	r, err := syncrun.NewRunner(e.client(nil), e.store, cfg, e.watch.Logs.Logger())
	if err != nil {
		e.t.Fatalf("NewRunner: %v", err)
	}
	res, err := r.Run(ctx)
	return res, e.watch.Err(err)
}

func (e *env) mustRun(cfg syncrun.Config, wantStatus db.RunStatus) *syncrun.Result {
	e.t.Helper()
	res, err := e.run(e.t.Context(), cfg)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	if res.Status != wantStatus {
		e.t.Fatalf("Run status %q (error %q), want %q", res.Status, res.Error, wantStatus)
	}
	return res
}

func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.pool.QueryRow(e.t.Context(), sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *env) live(table string) int64 {
	return e.count("SELECT count(*) FROM engage." + table + " WHERE deleted_at IS NULL")
}

func (e *env) wantLive(c engagefake.Counts) {
	e.t.Helper()
	for table, want := range map[string]int{
		"accounts": c.MainAccounts, "sub_accounts": c.SubAccounts, "users": c.Users,
		"agent_groups": c.AgentGroups, "agents": c.Agents,
	} {
		if got := e.live(table); got != int64(want) {
			e.t.Errorf("live %s = %d, want %d", table, got, want)
		}
	}
}

func TestRunPublishesTenantOnceAndRequestsEachThingOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 3})
	res := e.mustRun(syncrun.Config{}, db.RunSucceeded)
	c := e.fake.Counts()
	e.wantLive(c)

	st := e.fake.Stats()
	want := map[string]int64{"accounts": 1, "users": 1, "agentGroups": int64(c.SubAccounts), "agents": int64(c.AgentGroups),
		"gateGroups": int64(c.SubAccounts), "dialGroups": int64(c.SubAccounts)}
	for ep, n := range want {
		if st.Requests[ep] != n {
			t.Errorf("requests to %s = %d, want %d (never twice in a run)", ep, st.Requests[ep], n)
		}
	}
	if st.Grants != 1 || st.Exchanges != 1 || st.Revokes != 1 {
		t.Errorf("auth: %d grants, %d exchanges, %d revokes; want 1 each", st.Grants, st.Exchanges, st.Revokes)
	}
	tot := res.Totals()
	if tot["agents"].Inserted != int64(c.Agents) || tot["users"].Inserted != int64(c.Users) {
		t.Errorf("totals %+v", tot)
	}
	if n := int64(2 + 3*c.SubAccounts + c.AgentGroups); res.API.Requests != n {
		t.Errorf("client counted %d requests, want %d", res.API.Requests, n)
	}

	res = e.mustRun(syncrun.Config{}, db.RunSucceeded)
	for ent, s := range res.Totals() {
		if s.Inserted+s.Updated+s.Deleted+s.Restored != 0 || s.Unchanged != s.Fetched {
			t.Errorf("second run of %s is not a no-op: %+v", ent, s)
		}
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'succeeded'"); n != 2 {
		t.Errorf("%d succeeded runs recorded, want 2", n)
	}
}

func TestRunMapsFieldsAndHierarchy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 5})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	// Every non-root user has a parent that exists; roots have none.
	if n := e.count(`SELECT count(*) FROM engage.users u WHERE (u.parent_user_id IS NULL) <> coalesce(u.root_user, false)`); n != 0 {
		t.Errorf("%d users whose parent_user_id disagrees with root_user", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.users u WHERE parent_user_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM engage.users p WHERE p.user_id = u.parent_user_id)`); n != 0 {
		t.Errorf("%d users point at a parent that is not stored", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.users WHERE roles IS NULL OR cardinality(roles) = 0`); n == e.live("users") {
		t.Errorf("no user has roles")
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE created_at IS NULL`); n != 0 {
		t.Errorf("%d agents without created_at", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.sub_accounts WHERE archived`); n == 0 {
		t.Errorf("no archived sub-account synced")
	}
	if n := e.count(`SELECT count(*) FROM engage.accounts WHERE name IS NULL OR rc_account_id IS NULL`); n != 0 {
		t.Errorf("%d main accounts without name or rc_account_id", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.agents a JOIN engage.agent_groups g USING (sub_account_id, agent_group_id)`); n != e.live("agents") {
		t.Errorf("only %d agents join their group", n)
	}
}

func TestRunSelectsEntitiesAndSubAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 9})
	e.mustRun(syncrun.Config{Entities: []entity.Name{"users"}}, db.RunSucceeded)
	st := e.fake.Stats()
	if st.Requests["accounts"]+st.Requests["agentGroups"]+st.Requests["agents"] != 0 || st.Requests["users"] != 1 {
		t.Errorf("users-only run requested %v", st.Requests)
	}
	if e.live("agents")+e.live("sub_accounts") != 0 || e.live("users") == 0 {
		t.Errorf("users-only run published other entities")
	}

	// Sub-accounts alone: their main accounts come along (same listing, foreign key).
	e.mustRun(syncrun.Config{Entities: []entity.Name{"sub_accounts"}}, db.RunSucceeded)
	if e.live("sub_accounts") == 0 || e.live("accounts") == 0 || e.live("agent_groups") != 0 {
		t.Errorf("sub_accounts-only run: %d sub-accounts, %d accounts, %d groups", e.live("sub_accounts"), e.live("accounts"), e.live("agent_groups"))
	}

	// Agents of one sub-account: groups are implied, other sub-accounts are not touched.
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	subs := e.fake.SubAccountIDs()
	target, other := subs[0], subs[1]
	otherAgent := e.fake.AgentIDs(e.fake.AgentGroupIDs(other)[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(otherAgent) }); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetStats()
	res := e.mustRun(syncrun.Config{Entities: []entity.Name{"agents"}, SubAccounts: []string{target}}, db.RunSucceeded)
	st = e.fake.Stats()
	if st.Requests["accounts"] != 0 || st.Requests["users"] != 0 || st.Requests["agentGroups"] != 1 ||
		st.Requests["agents"] != int64(len(e.fake.AgentGroupIDs(target))) {
		t.Errorf("one-sub-account run requested %v", st.Requests)
	}
	for _, s := range res.Scopes {
		if s.Scope != target {
			t.Errorf("scope %s/%s published by a run restricted to %s", s.Entity, s.Scope, target)
		}
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND deleted_at IS NULL", otherAgent); n != 1 {
		t.Errorf("agent %d of an unselected sub-account was deleted", otherAgent)
	}
}

func TestRunPartialWhenOneSubAccountFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 13})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	subs := e.fake.SubAccountIDs()
	bad, good := subs[0], subs[1]
	badAgent := e.fake.AgentIDs(e.fake.AgentGroupIDs(bad)[0])[0]
	goodAgent := e.fake.AgentIDs(e.fake.AgentGroupIDs(good)[0])[0]
	for _, id := range []int{badAgent, goodAgent} {
		if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(id) }); err != nil {
			t.Fatal(err)
		}
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 500, PathContains: "/accounts/" + bad + "/"})
	res, err := e.run(t.Context(), syncrun.Config{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != db.RunPartial || !strings.Contains(res.Error, bad) {
		t.Fatalf("status %q error %q, want partial naming %s", res.Status, res.Error, bad)
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND deleted_at IS NULL", badAgent); n != 1 {
		t.Errorf("agent %d of the failing sub-account was deleted", badAgent)
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND deleted_at IS NOT NULL", goodAgent); n != 1 {
		t.Errorf("agent %d of a healthy sub-account was not deleted", goodAgent)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_run_scopes WHERE run_id = $1 AND entity = 'agents' AND scope = $2 AND status = 'failed' AND error <> ''", res.RunID, bad); n != 1 {
		t.Errorf("failing scope not recorded with its error")
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE run_id = $1 AND status = 'partial'", res.RunID); n != 1 {
		t.Errorf("run not recorded partial")
	}
}

func TestRunDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 17})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Renamed")
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { _, err := tn.AddAgent(gid); return err }); err != nil {
		t.Fatal(err)
	}
	runs := e.count("SELECT count(*) FROM engage.sync_runs")
	hist := e.count("SELECT count(*) FROM engage.agents_history")
	res := e.mustRun(syncrun.Config{DryRun: true}, db.RunSucceeded)
	if !res.DryRun || res.RunID != 0 {
		t.Errorf("dry run result %+v", res)
	}
	if tot := res.Totals()["agents"]; tot.Inserted != 1 || tot.Updated != 1 {
		t.Errorf("dry run would insert %d and update %d agents, want 1 and 1", tot.Inserted, tot.Updated)
	}
	if got := e.count("SELECT count(*) FROM engage.sync_runs"); got != runs {
		t.Errorf("dry run recorded a run")
	}
	if got := e.count("SELECT count(*) FROM engage.agents_history"); got != hist {
		t.Errorf("dry run wrote history")
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE first_name = 'Renamed'"); n != 0 {
		t.Errorf("dry run changed an agent")
	}
}

func TestRunLockedWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 19})
	lock, err := e.store.LockTake(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	_, err = e.run(t.Context(), syncrun.Config{})
	if !errors.Is(err, syncrun.ErrLocked) {
		t.Fatalf("Run = %v, want ErrLocked", err)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs"); n != 0 {
		t.Errorf("a locked-out run wrote %d run rows", n)
	}
	if st := e.fake.Stats(); st.Grants != 0 {
		t.Errorf("a locked-out run authenticated")
	}
}

func TestRunCanceledLeavesTablesAndRecordsCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 23})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Changed")
	}); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 300 * time.Millisecond})
	e.fake.ResetStats()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for e.fake.Stats().Requests["agents"] == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	res, err := e.run(ctx, syncrun.Config{})
	if err == nil {
		t.Fatalf("canceled run returned no error")
	}
	if res == nil || res.Status != db.RunCanceled {
		t.Fatalf("result %+v, want canceled", res)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE run_id = $1 AND status = 'canceled' AND finished_at IS NOT NULL", res.RunID); n != 1 {
		t.Errorf("run not recorded canceled")
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE first_name = 'Changed'"); n != 0 {
		t.Errorf("canceled run published a change")
	}
}

func TestRunAuthFailureFailsRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 29})
	c := e.client(func(c *engageclient.Config) { c.ClientSecret = "wrong-secret-value" })
	r, err := syncrun.NewRunner(c, e.store, syncrun.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(t.Context())
	if err == nil || res == nil || res.Status != db.RunFailed {
		t.Fatalf("Run = %+v, %v; want a failed run", res, err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error leaks the client secret: %v", err)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'failed' AND error LIKE 'authenticating%'"); n != 1 {
		t.Errorf("auth failure not recorded")
	}
	if st := e.fake.Stats(); st.Requests["rc.token"] != 1 {
		t.Errorf("a fatal auth error was retried: %d token requests", st.Requests["rc.token"])
	}
}

func TestRunVanishedSubAccountTakesItsRowsUnderTheBreaker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 31})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	gone := e.fake.SubAccountIDs()[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(gone) }); err != nil {
		t.Fatal(err)
	}
	liveIn := func(table string) int64 {
		return e.count("SELECT count(*) FROM engage."+table+" WHERE sub_account_id = $1 AND deleted_at IS NULL", gone)
	}
	groups, agents := liveIn("agent_groups"), liveIn("agents")
	// All of a scope vanishing trips the breaker: the run is partial and nothing of it is deleted.
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	if !strings.Contains(res.Error, gone) || liveIn("agent_groups") != groups || liveIn("agents") != agents {
		t.Errorf("breaker did not hold the vanished sub-account's rows: error %q", res.Error)
	}
	if n := e.count("SELECT count(*) FROM engage.sub_accounts WHERE sub_account_id = $1 AND deleted_at IS NOT NULL", gone); n != 1 {
		t.Errorf("vanished sub-account not soft-deleted")
	}
	// The override applies them.
	res = e.mustRun(syncrun.Config{AllowMassDelete: true}, db.RunSucceeded)
	if liveIn("agent_groups")+liveIn("agents") != 0 {
		t.Errorf("rows of the vanished sub-account still live after --allow-mass-delete")
	}
	if tot := res.Totals(); tot["agents"].Deleted != agents || tot["agent_groups"].Deleted != groups {
		t.Errorf("deleted %d agents and %d groups, want %d and %d", tot["agents"].Deleted, tot["agent_groups"].Deleted, agents, groups)
	}
	e.wantLive(e.fake.Counts())
}

func TestRunReportsProgressPerPhase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 37})
	var mu gosync.Mutex
	var got []syncrun.Progress
	res := e.mustRun(syncrun.Config{ProgressInterval: time.Millisecond, ProgressFunc: func(p syncrun.Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}}, db.RunSucceeded)
	mu.Lock()
	defer mu.Unlock()
	final := map[string]syncrun.Progress{}
	for _, p := range got {
		if p.RunID != res.RunID {
			t.Errorf("progress carries run %d, want %d", p.RunID, res.RunID)
		}
		final[p.Phase] = p
	}
	c := e.fake.Counts()
	perSub := "agent_groups+queue_groups+queues+dial_groups+campaigns" // three listings per sub-account
	for phase, total := range map[string]int64{perSub: 3 * int64(c.SubAccounts), "agents": int64(c.AgentGroups)} {
		if p := final[phase]; p.ScopesTotal != total || p.ScopesDone != total {
			t.Errorf("last progress of phase %s: %d/%d scopes, want %d/%d", phase, p.ScopesDone, p.ScopesTotal, total, total)
		}
	}
	if last := got[len(got)-1]; !last.Done || last.Rows != int64(c.MainAccounts+c.SubAccounts+c.Users+c.AgentGroups+c.Agents) {
		t.Errorf("last progress %+v: want Done and every row counted", last)
	}
	// The plan: accounts, users, three listings per sub-account, the agents of each group.
	planned := int64(2 + 3*c.SubAccounts + c.AgentGroups)
	if last := got[len(got)-1]; last.Planned != planned || last.Listed != planned || last.PlanEstimated || last.ETA != 0 {
		t.Errorf("last progress: %d/%d listing requests (estimated %t), ETA %s; want %d/%d, exact, no ETA",
			last.Listed, last.Planned, last.PlanEstimated, last.ETA, planned, planned)
	}
	for _, p := range got {
		if p.Planned != 0 && p.Planned != planned && !p.PlanEstimated {
			t.Errorf("progress %+v: an exact plan of %d requests, want %d", p, p.Planned, planned)
		}
	}
}

// A run that fails still ends its progress with a Done snapshot, so a display can close its
// line before the error is printed.
func TestRunReportsDoneWhenItFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 29})
	c := e.client(func(c *engageclient.Config) { c.ClientSecret = "wrong-secret-value" })
	var got []syncrun.Progress
	r, err := syncrun.NewRunner(c, e.store, syncrun.Config{ProgressFunc: func(p syncrun.Progress) { got = append(got, p) }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context()); err == nil {
		t.Fatal("Run succeeded with a wrong client secret")
	}
	if len(got) == 0 || !got[len(got)-1].Done {
		t.Errorf("progress reports %+v: want the last one Done", got)
	}
}

// While the client waits out a 429's Retry-After, the progress says so.
func TestRunProgressSaysRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 31})
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 429, RetryAfter: "1", Times: 1})
	var mu gosync.Mutex
	var waits []syncrun.Progress
	e.mustRun(syncrun.Config{ProgressInterval: time.Millisecond, ProgressFunc: func(p syncrun.Progress) {
		if p.Wait > 0 {
			mu.Lock()
			waits = append(waits, p)
			mu.Unlock()
		}
	}}, db.RunSucceeded)
	mu.Lock()
	defer mu.Unlock()
	if len(waits) == 0 {
		t.Fatal("no progress report during the Retry-After wait")
	}
	for _, p := range waits {
		if p.WaitReason != "Retry-After" || p.Wait > time.Second || p.RateLimited != 1 {
			t.Errorf("progress during the wait: %s %q after %d 429s; want at most 1s, Retry-After, after one 429",
				p.Wait, p.WaitReason, p.RateLimited)
		}
	}
}

func TestRunMalformedResponseFailsOnlyItsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 41})
	bad := e.fake.SubAccountIDs()[1]
	e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Malformed: true, PathContains: "/accounts/" + bad + "/"})
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	if !strings.Contains(res.Error, "/voice/api/v1/admin/accounts/"+bad+"/agentGroups") {
		t.Errorf("error %q does not name the endpoint that answered garbage", res.Error)
	}
	if strings.Contains(res.Error, "\n") {
		t.Errorf("error is not one line: %q", res.Error)
	}
	c := e.fake.Counts()
	if got := e.live("agent_groups"); got != int64(c.AgentGroups-len(e.fake.AgentGroupIDs(bad))) {
		t.Errorf("%d live agent groups, want all but the failing sub-account's", got)
	}
	if e.live("users") != int64(c.Users) || e.live("sub_accounts") != int64(c.SubAccounts) {
		t.Errorf("healthy scopes not published")
	}
}

// Issue 8: what was found against references nobody on the team wrote.

// A login whose exchange is refused still revokes the RingCentral token it got.
func TestRunExchangeRefusedRevokesRingCentralToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 43})
	e.fake.SetFault(engagefake.EndpointExchange, engagefake.Fault{Status: 403})
	res, err := e.run(t.Context(), syncrun.Config{})
	if err == nil || res == nil || res.Status != db.RunFailed {
		t.Fatalf("Run = %+v, %v; want a failed run", res, err)
	}
	if st := e.fake.Stats(); st.Grants != 1 || st.Revokes != 1 {
		t.Errorf("%d grants, %d revokes; want the one RingCentral token revoked", st.Grants, st.Revokes)
	}
}

// A listing item without an id does not sink its listing: the others publish, the scope is
// failed naming the endpoint and the item's index, and nothing of it is deleted.
func TestRunUnkeyableItemFailsOnlyItsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 47})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	users := e.fake.UserIDs()
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(users[1], "userId", engagefake.Omit) }); err != nil {
		t.Fatal(err)
	}
	sub := e.fake.SubAccountIDs()[0]
	group := e.fake.AgentGroupIDs(sub)[0]
	agents := e.fake.AgentIDs(group)
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(agents[0], "agentId", nil) }); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(agents[1], "firstName", "Renamed") }); err != nil {
		t.Fatal(err)
	}
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	byScope := map[string]db.ScopeCounts{}
	for _, s := range res.Scopes {
		byScope[string(s.Entity)+"/"+s.Scope] = s
	}
	u := byScope["users/all"]
	if u.Status != db.ScopeFailed || u.Error != "listing users: decoding GET /voice/api/v1/admin/users response: item 1: userId is missing" {
		t.Errorf("users scope = %+v", u)
	}
	a := byScope["agents/"+sub]
	wantPrefix := "listing agents of agent group "
	if a.Status != db.ScopeFailed || !strings.HasPrefix(a.Error, wantPrefix) || !strings.Contains(a.Error, "item 0: agentId is missing") {
		t.Errorf("agents scope = %+v", a)
	}
	if a.Deleted != 0 || u.Deleted != 0 {
		t.Errorf("deletes in failed scopes: users %d, agents %d", u.Deleted, a.Deleted)
	}
	if e.live("users") != int64(len(users)) {
		t.Errorf("live users = %d, want all %d (nothing of a failed scope is deleted)", e.live("users"), len(users))
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND first_name = 'Renamed'`, agents[1]); n != 1 {
		t.Errorf("the other agents of the listing were not published")
	}
}

// A run in which every selected scope failed is failed, not partial; so is one whose
// sub-accounts cannot be found at all.
func TestRunEveryScopeFailedIsFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 53})
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 500})
	e.fake.SetFault(engagefake.EndpointUsers, engagefake.Fault{Status: 500})
	res, err := e.run(t.Context(), syncrun.Config{})
	if err == nil || res == nil || res.Status != db.RunFailed {
		t.Fatalf("Run = %+v, %v; want failed", res, err)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'failed'"); n != 1 {
		t.Errorf("%d failed runs recorded, want 1", n)
	}

	res, err = e.run(t.Context(), syncrun.Config{Entities: []entity.Name{"agent_groups"}})
	if err == nil || res == nil || res.Status != db.RunFailed || !strings.Contains(res.Error, "listing accounts") {
		t.Fatalf("Run(agent_groups) = %+v, %v; want failed, naming the accounts listing", res, err)
	}
}

// A sub-account id that would be a dot segment is invalid for its scope: nothing is requested
// for it (before, ".." requested /voice/api/v1/admin/agentGroups and stored that as its
// groups).
func TestRunDotSubAccountIDFailsItsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 59})
	subs := e.fake.SubAccountIDs()
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(subs[1], "accountId", "..") }); err != nil {
		t.Fatal(err)
	}
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	if !strings.Contains(res.Error, `agent_groups/.. failed: listing agent groups: invalid sub-account id ".."`) {
		t.Errorf("error = %q", res.Error)
	}
	if n := e.fake.Stats().Requests[engagefake.EndpointUnknown]; n != 0 {
		t.Errorf("%d requests to paths the API does not have", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.agent_groups WHERE sub_account_id = '..'`); n != 0 {
		t.Errorf("%d agent groups stored under sub-account ..", n)
	}
}

// A DateTime the spec allows that Postgres cannot hold is stored as NULL, raw keeping it.
func TestRunDateOutOfRangeIsNull(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 61})
	sub := e.fake.SubAccountIDs()[0]
	agent := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(agent, "createdOn", map[string]any{"millis": int64(-1) << 53})
	}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND created_at IS NULL
		AND raw->'createdOn'->>'millis' = '-9007199254740992'`, agent); n != 1 {
		t.Errorf("agent %d: created_at not NULL or raw lost the value", agent)
	}
	e.wantLive(e.fake.Counts())
}
