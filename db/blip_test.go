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
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// digest is what the entity tables hold, row by row (a row's hash covers its key, values and
// raw; "-" marks a soft-deleted row), and how many history rows each has: equal for two
// databases that published the same data, whatever their run ids and times.
func (f *fixture) digest() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	for _, tbl := range entityTables {
		q := fmt.Sprintf(`SELECT coalesce(string_agg(encode(row_hash, 'hex') || CASE WHEN deleted_at IS NULL THEN '' ELSE '-' END, ',' ORDER BY row_hash), '') FROM %s.%s`, f.schema, tbl)
		if strings.HasSuffix(tbl, "_history") {
			q = fmt.Sprintf(`SELECT count(*)::text FROM %s.%s`, f.schema, tbl)
		}
		var v string
		if err := f.pool.QueryRow(f.t.Context(), q).Scan(&v); err != nil {
			f.t.Fatalf("digest of %s: %v", tbl, err)
		}
		out[tbl] = v
	}
	return out
}

// takeLockWhenFree takes s's run lock as soon as the server has noticed that its holder's
// session ended.
func takeLockWhenFree(t *testing.T, s *db.Store) *db.Lock {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lock, err := s.LockTake(t.Context())
		if err == nil {
			return lock
		}
		if !errors.Is(err, db.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("taking the lock of a session that ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A publish whose database connections are all lost (as a restart ends them: the staging
// session, its transaction and the lock's session) reads back from the ledger whether it
// committed before it does anything again: committed, it is done; not committed, it
// restages from its spool, takes its lock again and publishes once; its lock taken by
// another session meanwhile, it fails and publishes nothing.
func TestPublishSurvivesLostConnection(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name    string
		step    string // the publish step at which the connections are lost
		blip    func(t *testing.T, f *fixture, p *dbtest.Proxy) (cleanup func())
		wantErr string // "" for a publish that succeeds
	}{
		{name: "mid-transaction", step: "agents:update",
			blip: func(_ *testing.T, _ *fixture, p *dbtest.Proxy) func() { p.Cut(); return nil }},
		{name: "before the commit", step: "commit",
			blip: func(_ *testing.T, _ *fixture, p *dbtest.Proxy) func() { p.Cut(); return nil }},
		{name: "the commit's answer lost", step: "commit",
			blip: func(t *testing.T, f *fixture, p *dbtest.Proxy) func() {
				// The COMMIT reaches the server, which commits; its answer never comes back.
				p.HoldReplies()
				done := make(chan struct{})
				go func() {
					defer close(done)
					defer p.Cut()
					deadline := time.Now().Add(20 * time.Second)
					for time.Now().Before(deadline) {
						var running int
						err := f.pool.QueryRow(context.Background(), fmt.Sprintf(`SELECT count(*) FROM %s.sync_runs WHERE status = 'running'`, f.schema)).Scan(&running)
						if err == nil && running == 0 {
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
					t.Errorf("the commit never reached the server")
				}()
				return func() { <-done }
			}},
		{name: "partitioned before the commit: the sessions live on, in its transaction", step: "commit",
			// The old publish session holds its row locks until it is ended (idle in
			// transaction: the server would end it only after a minute); the lock's session
			// holds the lock with no connection left to release it.
			blip: func(_ *testing.T, _ *fixture, p *dbtest.Proxy) func() { p.Partition(); return p.Cut }},
		{name: "its lock taken meanwhile", step: "agents:insert", wantErr: "another session holds it",
			blip: func(t *testing.T, f *fixture, p *dbtest.Proxy) func() {
				p.Cut()
				other := takeLockWhenFree(t, dbtest.Store(t, f.pool, f.schema))
				return other.Release
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clean := newFixture(t)
			f, proxy := newProxiedFixture(t)

			tn := newTenant(3)
			f.mustSync(tn, syncOpts{lock: true})
			clean.mustSync(tn, syncOpts{lock: true})
			// The next run updates, deletes and inserts.
			tn.agents[0].LastName = ptr("Changed")
			tn.agents = append(tn.agents[:len(tn.agents)-1], db.AgentRow{SubAccountID: "1002", AgentID: 99, AgentGroupID: 20, Raw: []byte(`{}`)})
			tn.users = append(tn.users, db.UserRow{UserID: 42, Raw: []byte(`{}`)})
			before := f.digest()

			var once gosync.Once
			var cleanup func()
			hits := 0
			// Far longer than a publish takes, shorter than the server's idle-in-transaction
			// timeout (a minute): a publish waiting on a session it left behind fails.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			res, runID, err := f.sync(tn, syncOpts{ctx: ctx, lock: true, hook: func(_ context.Context, step string) error {
				if step == tt.step {
					hits++
					once.Do(func() { cleanup = tt.blip(t, f, proxy) })
				}
				return nil
			}})
			defer func() {
				if cleanup != nil {
					cleanup()
				}
			}()
			if hits == 0 {
				t.Fatalf("publish never reached step %s", tt.step)
			}
			var status db.RunStatus
			var msg string
			if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT status, coalesce(error, '') FROM %s.sync_runs WHERE run_id = $1`, f.schema), runID).Scan(&status, &msg); err != nil {
				t.Fatal(err)
			}
			scopes := f.count(`SELECT count(*) FROM %s.sync_run_scopes WHERE run_id = $1`, runID)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("publish = %v; want an error saying %q", err, tt.wantErr)
				}
				if diff := cmp.Diff(before, f.digest()); diff != "" {
					t.Errorf("the publish that failed changed the tables (-before +after):\n%s", diff)
				}
				if status != db.RunFailed || scopes != 0 {
					t.Errorf("run recorded %s (%q) with %d scope rows; want failed and none", status, msg, scopes)
				}
				return
			}
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			want := clean.mustSync(tn, syncOpts{lock: true})
			if diff := cmp.Diff(totals(want), totals(res)); diff != "" {
				t.Errorf("counts of the publish that lost its connection, against a clean one's (-clean +blip):\n%s", diff)
			}
			if diff := cmp.Diff(clean.digest(), f.digest()); diff != "" {
				t.Errorf("tables after the publish that lost its connection, against a clean one's (-clean +blip):\n%s", diff)
			}
			if status != db.RunSucceeded || msg != "" || scopes != int64(len(want.Scopes)) {
				t.Errorf("run recorded %s (%q) with %d scope rows; want succeeded with %d", status, msg, scopes, len(want.Scopes))
			}
			// The lock taken again was released with the run, and no session left behind
			// holds it (before the test's cleanup cuts what the partition left open).
			takeLockWhenFree(t, dbtest.Store(t, f.pool, f.schema)).Release()
		})
	}
}

// A stage whose connections are cut while it stages (as a restart cuts them) rebuilds its
// staging tables from its spool, in the order it wrote them: the rows of every COPY, and the
// staged copy of an agent listed twice that a better copy replaced (deleted from staging,
// then listed again). The publish equals a clean one's. Adds go one row at a time: 1-10 are
// the accounts, sub-accounts, users and groups, 11 the agent's copy from group 11, 12 its
// copy from group 10 (which replaces it), 19 the last.
func TestStageRestagesAfterLostConnection(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name string
		cuts []int // cut every connection before these Adds (19: before the plan)
	}{
		{"before the first add", []int{1}},
		{"before the copy that replaces one staged", []int{12}},
		{"after it", []int{13}},
		{"before the plan", []int{19}},
		{"three times", []int{5, 12, 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clean := newFixture(t)
			f, proxy := newProxiedFixture(t)

			tn := newTenant(2)
			for i := range tn.agents {
				tn.agents[i].Rank = db.Rank{N: tn.agents[i].AgentGroupID}
			}
			dup := tn.agents[0]
			dup.AgentGroupID, dup.Rank = 11, db.Rank{N: 11}
			dup.Raw = []byte(`{"agentId":10000,"agentGroupId":11}`)
			tn.agents = append([]db.AgentRow{dup}, tn.agents...)
			if n := 1 + len(tn.subs) + len(tn.users) + len(tn.groups) + len(tn.agents); n != 19 {
				t.Fatalf("fixture changed: %d adds, want 19", n-1)
			}

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			res, _, err := f.sync(tn, syncOpts{ctx: ctx, lock: true, pageSize: 1, beforeAdd: func(n int) {
				if slices.Contains(tt.cuts, n) {
					proxy.Cut()
				}
			}})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			want := clean.mustSync(tn, syncOpts{lock: true, pageSize: 1})
			if diff := cmp.Diff(totals(want), totals(res)); diff != "" {
				t.Errorf("counts after the cuts, against a clean run's (-clean +cut):\n%s", diff)
			}
			if diff := cmp.Diff(clean.digest(), f.digest()); diff != "" {
				t.Errorf("tables after the cuts, against a clean run's (-clean +cut):\n%s", diff)
			}
			if g := f.count(`SELECT agent_group_id FROM %s.agents WHERE agent_id = 10000`); g != 10 {
				t.Errorf("agent 10000 stored in group %d, want 10", g)
			}
		})
	}
}

// newProxiedFixture is a fixture whose store reaches its database through a proxy the test
// can cut; the fixture's pool reaches it directly.
func newProxiedFixture(t *testing.T) (*fixture, *dbtest.Proxy) {
	t.Helper()
	d := storetest.New(t)
	viaProxy, proxy := d.Proxied(t)
	f := fixtureOn(t, d)
	f.s = viaProxy
	return f, proxy
}
