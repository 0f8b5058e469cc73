package db_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// fixture is one test's database and store.
type fixture struct {
	t      *testing.T
	db     *storetest.DB
	pool   *pgxpool.Pool
	schema string
	s      *db.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return fixtureOn(t, storetest.New(t))
}

// fixtureOn is the fixture of d.
func fixtureOn(t *testing.T, d *storetest.DB) *fixture {
	return &fixture{t: t, db: d, pool: d.Pool, schema: d.Schema, s: d.Store}
}

func ptr[T any](v T) *T { return &v }

// beginStage records a manual run and begins its stage, closed when the test ends.
func (f *fixture) beginStage() (int64, *db.Stage) {
	f.t.Helper()
	runID, err := f.s.RunCreate(f.t.Context(), "manual")
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := f.s.StageBegin(f.t.Context(), runID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(st.Close)
	return runID, st
}

// tenant is a small upstream state that tests mutate between runs.
type tenant struct {
	accounts []db.AccountRow
	subs     []db.SubAccountRow
	users    []db.UserRow
	groups   []db.AgentGroupRow
	agents   []db.AgentRow
}

// newTenant returns 1 main account, 2 sub-accounts (1001, 1002), 3 users, 2 groups per
// sub-account and agentsPerGroup agents per group.
func newTenant(agentsPerGroup int) *tenant {
	tn := &tenant{}
	tn.accounts = []db.AccountRow{{MainAccountID: "100", Name: ptr("Main"), RCAccountID: ptr("rc-100"),
		Raw: []byte(`{"mainAccountId":"100","name":"Main"}`)}}
	created := time.Date(2020, 5, 18, 19, 22, 12, 0, time.UTC)
	for s := range 2 {
		sub := strconv.Itoa(1001 + s)
		tn.subs = append(tn.subs, db.SubAccountRow{SubAccountID: sub, MainAccountID: "100", Name: ptr("Sub " + sub),
			Archived: ptr(false), StartDate: &created, Raw: []byte(fmt.Sprintf(`{"accountId":%q,"mainAccountId":"100"}`, sub))})
		for g := range 2 {
			gid := int64(10*(s+1) + g)
			tn.groups = append(tn.groups, db.AgentGroupRow{SubAccountID: sub, AgentGroupID: gid, Name: ptr(fmt.Sprintf("Group %d", gid)),
				IsDefault: ptr(g == 0), Raw: []byte(fmt.Sprintf(`{"agentGroupId":%d}`, gid))})
			for a := range agentsPerGroup {
				id := gid*1000 + int64(a)
				tn.agents = append(tn.agents, db.AgentRow{SubAccountID: sub, AgentID: id, AgentGroupID: gid,
					Username: ptr(fmt.Sprintf("agent%d", id)), FirstName: ptr("First"), LastName: ptr(fmt.Sprintf("Last%d", id)),
					Email: ptr(fmt.Sprintf("agent%d@example.com", id)), AgentType: ptr("AGENT"), IsActive: ptr(true),
					RCUserID: ptr(id + 5000000), CreatedAt: &created,
					Raw: []byte(fmt.Sprintf(`{"agentId":%d,"agentGroupId":%d,"email":"agent%d@example.com","allowManualPass":true}`, id, gid, id))})
			}
		}
	}
	tn.users = []db.UserRow{
		{UserID: 1, UserName: ptr("root"), Enabled: ptr(true), RootUser: ptr(true), Roles: []string{"ADMIN"}, Raw: []byte(`{"userId":1}`)},
		{UserID: 2, ParentUserID: ptr(int64(1)), UserName: ptr("child"), Enabled: ptr(true), RootUser: ptr(false), Roles: []string{"SUPERVISOR", "AGENT"}, Raw: []byte(`{"userId":2}`)},
		{UserID: 3, ParentUserID: ptr(int64(1)), UserName: ptr("other"), Enabled: ptr(false), Raw: []byte(`{"userId":3}`)},
	}
	return tn
}

// clone deep-copies the slices (rows share their pointed-to values, which tests replace, not edit).
func (tn *tenant) clone() *tenant {
	return &tenant{accounts: slices.Clone(tn.accounts), subs: slices.Clone(tn.subs), users: slices.Clone(tn.users),
		groups: slices.Clone(tn.groups), agents: slices.Clone(tn.agents)}
}

// subIDs lists the sub-account ids of the tenant.
func (tn *tenant) subIDs() []string {
	var ids []string
	for _, s := range tn.subs {
		ids = append(ids, s.SubAccountID)
	}
	return ids
}

// syncOpts vary a run.
type syncOpts struct {
	failed    map[string]bool // "entity/scope" marked failed instead of complete
	dryRun    bool
	allowMass bool
	hook      func(ctx context.Context, step string) error
	ctx       context.Context
	pageSize  int
	dupFunc   func(db.Duplicate)
	// fallback stages the accounts with AccountsAddFallback (a weaker source).
	fallback bool
	// someSubs decides as a run restricted to some sub-accounts (Policy.SomeSubAccounts).
	someSubs bool
	// lock publishes under the run's lock (PublishParams.Lock), as a run does.
	lock bool
	// beforeAdd, when set, is called before each Add with its number (from 1, over every
	// entity).
	beforeAdd func(n int)
}

// counted calls before(n) ahead of the n-th call of any add counted by n.
func counted[T any](n *int, before func(int), add func(context.Context, string, []T) error) func(context.Context, string, []T) error {
	return func(ctx context.Context, source string, rows []T) error {
		*n++
		if before != nil {
			before(*n)
		}
		return add(ctx, source, rows)
	}
}

// sync runs one complete run of tn: lock, ledger row, stage every row in pages, mark every
// scope, publish.
func (f *fixture) sync(tn *tenant, o syncOpts) (*db.PublishResult, int64, error) {
	f.t.Helper()
	ctx := f.t.Context()
	if o.ctx != nil {
		ctx = o.ctx
	}
	lock, err := f.s.LockTake(ctx)
	if err != nil {
		f.t.Fatalf("LockTake: %v", err)
	}
	defer lock.Release()
	var runID int64
	if !o.dryRun {
		if runID, err = f.s.RunCreate(ctx, "manual"); err != nil {
			f.t.Fatalf("RunCreate: %v", err)
		}
	}
	st, err := f.s.StageBegin(ctx, runID)
	if err != nil {
		f.t.Fatalf("StageBegin: %v", err)
	}
	defer st.Close()
	page := o.pageSize
	if page == 0 {
		page = 4
	}
	must := func(err error) {
		if err != nil {
			f.t.Fatalf("staging: %v", err)
		}
	}
	if o.dupFunc != nil {
		st.SetDuplicateFunc(o.dupFunc)
	}
	addAccounts := st.AccountsAdd
	if o.fallback {
		addAccounts = st.AccountsAddFallback
	}
	adds := 0
	must(addPaged(ctx, tn.accounts, page, counted(&adds, o.beforeAdd, addAccounts)))
	must(addPaged(ctx, tn.subs, page, counted(&adds, o.beforeAdd, st.SubAccountsAdd)))
	must(addPaged(ctx, tn.users, page, counted(&adds, o.beforeAdd, st.UsersAdd)))
	must(addPaged(ctx, tn.groups, page, counted(&adds, o.beforeAdd, st.AgentGroupsAdd)))
	must(addPaged(ctx, tn.agents, page, counted(&adds, o.beforeAdd, st.AgentsAdd)))
	if o.beforeAdd != nil {
		o.beforeAdd(adds + 1) // after the last
	}
	mark := func(name entity.Name, scope string) {
		if o.failed[string(name)+"/"+scope] {
			st.ScopeFail(name, scope, fmt.Errorf("listing %s: HTTP 500", name))
			return
		}
		st.ScopeComplete(name, scope)
	}
	mark(entity.Accounts, entity.ScopeAll)
	mark(entity.SubAccounts, entity.ScopeAll)
	mark(entity.Users, entity.ScopeAll)
	subs := map[string]bool{}
	for _, s := range tn.subs {
		subs[s.SubAccountID] = true
	}
	for _, s := range slices.Sorted(maps.Keys(subs)) {
		mark(entity.AgentGroups, s)
		mark(entity.Agents, s)
	}
	if o.hook != nil {
		db.SetStageHook(st, o.hook)
	}
	var held *db.Lock
	if o.lock {
		held = lock
	}
	res, err := f.publish(ctx, st, runID, policy{allowMass: o.allowMass, someSubs: o.someSubs}, o.dryRun, held)
	return res, runID, err
}

// policy is how the fixture decides a plan, standing in for the run's caller: sync decides
// (its Policy is tested in package sync) and db carries out what it is told. A scope marked
// failed is failed; a complete scope deletes its missing rows, unless more than half of its
// live rows would go and mass deletes are not allowed, when it is withheld. Any failed or
// withheld scope makes the run partial, and a run whose every scope failed is failed.
type policy struct {
	allowMass bool // apply deletes even when a scope would lose more than half its rows
	someSubs  bool // the run listed some sub-accounts: their scoped entities are not whole
}

// decide returns the publish of plan as pol decides it.
func (pol policy) decide(plan *db.Plan) *db.PublishParams {
	p := &db.PublishParams{Status: db.RunSucceeded}
	var problems []string
	for _, sp := range plan.Scopes {
		d := db.ScopeDecision{Status: db.ScopeSucceeded}
		switch {
		case !sp.Complete:
			d.Status, d.Error = db.ScopeFailed, sp.Error
			problems = append(problems, fmt.Sprintf("%s/%s failed: %s", sp.Entity, sp.Scope, sp.Error))
		case 2*sp.Missing > sp.Live && !pol.allowMass:
			d.Status = db.ScopeWithheld
			d.Error = fmt.Sprintf("deletes withheld: %d of %d live rows missing upstream", sp.Missing, sp.Live)
			problems = append(problems, fmt.Sprintf("%s/%s %s", sp.Entity, sp.Scope, d.Error))
		default:
			d.Delete = sp.Missing > 0
		}
		p.Scopes = append(p.Scopes, d)
		if (!pol.someSubs || !entity.Of(sp.Entity).Scoped()) && !slices.Contains(p.WholeEntities, sp.Entity) {
			p.WholeEntities = append(p.WholeEntities, sp.Entity)
		}
	}
	if len(problems) > 0 {
		p.Status, p.Error = db.RunPartial, strings.Join(problems, "; ")
		if !slices.ContainsFunc(p.Scopes, func(d db.ScopeDecision) bool { return d.Status != db.ScopeFailed }) {
			p.Status = db.RunFailed
		}
	}
	return p
}

// endStatus is the status the fixture records for a publish that failed with err under ctx:
// canceled when it was asked to stop (ctx canceled, or err a cancellation), failed otherwise.
func endStatus(ctx context.Context, err error) db.RunStatus {
	if errors.Is(ctx.Err(), context.Canceled) || (ctx.Err() == nil && errors.Is(err, context.Canceled)) {
		return db.RunCanceled
	}
	return db.RunFailed
}

// publish publishes st as a run does: plan, decide by pol, publish; and when that fails,
// record the run's end as a run does (status endStatus).
func (f *fixture) publish(ctx context.Context, st *db.Stage, runID int64, pol policy, dry bool, lock *db.Lock) (*db.PublishResult, error) {
	res, err := publishStageLocked(ctx, st, pol, dry, lock)
	if err != nil && runID != 0 {
		ferr := f.s.RunFinish(ctx, &db.RunFinishParams{RunID: runID, Status: endStatus(ctx, err), Error: err.Error(), APIRequests: 7, TokenRefreshes: 1})
		if ferr != nil {
			f.t.Errorf("recording the run's end: %v", ferr)
		}
	}
	return res, err
}

// publishStage plans st, decides the plan by pol and publishes the decisions.
func publishStage(ctx context.Context, st *db.Stage, pol policy, dry bool) (*db.PublishResult, error) {
	return publishStageLocked(ctx, st, pol, dry, nil)
}

// publishStageLocked is publishStage under the run's lock, when not nil.
func publishStageLocked(ctx context.Context, st *db.Stage, pol policy, dry bool, lock *db.Lock) (*db.PublishResult, error) {
	plan, err := st.Plan(ctx)
	if err != nil {
		return nil, err
	}
	p := pol.decide(plan)
	p.DryRun, p.APIRequests, p.TokenRefreshes, p.Lock = dry, 7, 1, lock
	return st.Publish(ctx, p)
}

func addPaged[T any](ctx context.Context, rows []T, page int, add func(context.Context, string, []T) error) error {
	for len(rows) > 0 {
		n := min(page, len(rows))
		// Hand over a copy the test then scribbles on: Add must not keep the caller's slice.
		p := slices.Clone(rows[:n])
		if err := add(ctx, "fixture", p); err != nil {
			return err
		}
		clear(p)
		rows = rows[n:]
	}
	return nil
}

// mustSync runs sync and fails the test on error.
func (f *fixture) mustSync(tn *tenant, o syncOpts) *db.PublishResult {
	f.t.Helper()
	res, _, err := f.sync(tn, o)
	if err != nil {
		f.t.Fatalf("publish: %v", err)
	}
	return res
}

var entityTables = []string{"accounts", "sub_accounts", "users", "agent_groups", "agents",
	"accounts_history", "sub_accounts_history", "users_history", "agent_groups_history", "agents_history"}

// snapshot returns every entity and history table's full text, sorted, plus the physical row
// versions (ctid, xmin) of the entity tables.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	for _, tbl := range entityTables {
		var text, versions string
		err := f.pool.QueryRow(f.t.Context(), fmt.Sprintf(`
SELECT coalesce(string_agg(t::text, E'\n' ORDER BY t::text), ''),
       coalesce(string_agg(t.ctid::text || ':' || t.xmin::text, ' ' ORDER BY t.ctid), '')
FROM %s.%s t`, f.schema, tbl)).Scan(&text, &versions)
		if err != nil {
			f.t.Fatalf("snapshot %s: %v", tbl, err)
		}
		out[tbl] = text
		out[tbl+"#versions"] = versions
	}
	return out
}

// count runs a count query with {s} replaced by the schema.
func (f *fixture) count(query string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.pool.QueryRow(f.t.Context(), fmt.Sprintf(query, f.schema), args...).Scan(&n); err != nil {
		f.t.Fatalf("count %q: %v", query, err)
	}
	return n
}

// scopeOf returns the counts of one scope of res.
func scopeOf(t *testing.T, res *db.PublishResult, name entity.Name, scope string) db.ScopeCounts {
	t.Helper()
	for _, c := range res.Scopes {
		if c.Entity == name && c.Scope == scope {
			return c
		}
	}
	t.Fatalf("no scope %s/%s in result", name, scope)
	return db.ScopeCounts{}
}

// totals sums res's counts per entity.
func totals(res *db.PublishResult) map[entity.Name]db.ScopeCounts {
	out := map[entity.Name]db.ScopeCounts{}
	for _, c := range res.Scopes {
		t := out[c.Entity]
		t.Entity = c.Entity
		t.Add(c)
		out[c.Entity] = t
	}
	return out
}
