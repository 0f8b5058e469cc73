package sync_test

// A database blip (issue 21, item 17): connections lost while a run fetches and stages are
// re-established, and the run goes on from what it fetched, never fetching it again.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// tableDigest is what a database's entity tables hold, row by row (each row's hash covers its
// key, values and raw), and how many history rows each has: two runs that published the same
// data have equal digests, whatever their run ids and times.
func (e *env) tableDigest() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, n := range entity.Names() {
		var rows, history string
		err := e.pool.QueryRow(e.t.Context(), fmt.Sprintf(`SELECT
  coalesce((SELECT string_agg(encode(row_hash, 'hex') || CASE WHEN deleted_at IS NULL THEN '' ELSE '-' END, ',' ORDER BY row_hash) FROM engage.%[1]s), ''),
  (SELECT count(*)::text FROM engage.%[1]s_history)`, n)).Scan(&rows, &history)
		if err != nil {
			e.t.Fatalf("reading engage.%s: %v", n, err)
		}
		out[string(n)] = rows
		out[string(n)+" history"] = history
	}
	return out
}

// A run whose database connections are all cut mid-staging (as a Postgres restart does: the
// staging session with its temporary tables, and the lock's) reconnects, restages what it had
// fetched, takes its lock again and succeeds: the fake API saw each request once, as in a
// clean run, and the tables end as a clean run leaves them.
func TestRunSurvivesDatabaseRestartMidStaging(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name string
		cuts []int // cut every connection when the agents listing with this number returns
	}{
		{"once, a COPY in flight", []int{2}},
		{"twice", []int{1, 4}},
		{"on the last listing", []int{9}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// One fake API, two databases: the blip's and a clean one's.
			e := newEnv(t, engagefake.Options{Seed: 211 + int64(i)})
			cleanDB := storetest.New(t)
			clean := newEnvOn(t, e.fake, cleanDB)
			blip, proxy := e.db.Proxied(t)
			defer proxy.Close()

			e.mustRun(syncrun.Config{}, db.RunSucceeded)
			clean.mustRun(syncrun.Config{}, db.RunSucceeded)
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				sub := tn.SubAccounts[1]
				if err := tn.UpdateAgent(sub.Groups[0].Agents[0].ID, "firstName", "Renamed"); err != nil {
					return err
				}
				if err := tn.RemoveAgent(sub.Groups[1].Agents[0].ID); err != nil {
					return err
				}
				_, err := tn.AddAgent(sub.Groups[2].ID)
				return err
			}))

			e.fake.ResetStats()
			clean.mustRun(syncrun.Config{}, db.RunSucceeded)
			want := e.fake.Stats().Requests

			e.fake.ResetStats()
			c := &hookClient{Client: e.client(nil), onListAgents: func(call int) {
				for _, n := range tt.cuts {
					if call == n {
						proxy.Cut()
					}
				}
			}}
			r, err := syncrun.NewRunner(c, blip, syncrun.Config{Concurrency: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			res, err := r.Run(ctx)
			if err != nil || res.Status != db.RunSucceeded {
				t.Fatalf("Run = %+v, %v; want succeeded", res, err)
			}
			if diff := cmp.Diff(want, e.fake.Stats().Requests); diff != "" {
				t.Errorf("API requests of the run with a blip, against a clean run's (-clean +blip):\n%s", diff)
			}
			if diff := cmp.Diff(clean.tableDigest(), e.tableDigest()); diff != "" {
				t.Errorf("tables after the run with a blip, against a clean run's (-clean +blip):\n%s", diff)
			}
			if diff := cmp.Diff([]runRow{{1, db.RunSucceeded, "", true}, {res.RunID, db.RunSucceeded, "", true}}, e.runRows("engage")); diff != "" {
				t.Errorf("sync_runs (-want +got):\n%s", diff)
			}
			waitLockFree(t, e.store) // the lock taken again was released
		})
	}
}

// A run that could not record its end (its database away until its deadline passed) leaves
// its error for the next run of its schema, which records it on the row it closes as
// abandoned: the next run of this process (the daemon's) finds it in memory, the next process
// in Config.StateDir. Without either, the row says only "abandoned".
func TestAbandonedRunCarriesItsRealError(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	tests := []struct {
		name      string
		down      func(p *dbtest.Proxy) // how the database goes away, mid-staging
		stateDir  bool
		dies      bool // the process dies after the run: what it kept in memory is lost
		wantPlain bool // the abandoned row says only "abandoned"
	}{
		{name: "down, the next process", down: (*dbtest.Proxy).Close, stateDir: true, dies: true},
		{name: "silent, the next process", down: (*dbtest.Proxy).Freeze, stateDir: true, dies: true},
		{name: "down, the next run of this process", down: (*dbtest.Proxy).Close},
		{name: "down, the next process, no state dir", down: (*dbtest.Proxy).Close, dies: true, wantPlain: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fixture.Fake(t, engagefake.Options{Seed: 223 + int64(i),
				Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 3}})
			d := storetest.New(t)
			away, proxy := d.Proxied(t, db.WithCleanupTimeout(300*time.Millisecond))
			defer proxy.Close() // before the pool closes: see dbtest.Proxy
			e := newEnvOn(t, fake, d)
			var dir string
			if tt.stateDir {
				dir = t.TempDir()
			}

			c := &hookClient{Client: e.client(nil), onListAgents: func(call int) {
				if call == 2 {
					tt.down(proxy)
				}
			}}
			r, err := syncrun.NewRunner(c, away, syncrun.Config{Concurrency: 1, StateDir: dir}, nil)
			mustDo(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
			defer cancel()
			failed, err := r.Run(ctx)
			if err == nil || failed == nil || failed.Status != db.RunFailed {
				t.Fatalf("Run = %+v, %v; want a failed run", failed, err)
			}
			if rows := e.runRows("engage"); len(rows) != 1 || rows[0].Status != db.RunRunning {
				t.Fatalf("sync_runs = %+v; want the run left running (its end could not be recorded)", rows)
			}
			if tt.dies {
				ident, err := e.store.Identity(t.Context())
				mustDo(t, err)
				syncrun.ForgetUnrecordedInMemory(ident)
			}

			waitLockFree(t, e.store)
			next := e.mustRun(syncrun.Config{StateDir: dir}, db.RunSucceeded)
			wantErr := db.AbandonedError + ": " + failed.Error
			if tt.wantPlain {
				wantErr = db.AbandonedError
			}
			want := []runRow{{failed.RunID, db.RunFailed, wantErr, true}, {next.RunID, db.RunSucceeded, "", true}}
			if diff := cmp.Diff(want, e.runRows("engage")); diff != "" {
				t.Errorf("sync_runs (-want +got):\n%s", diff)
			}
			if dir != "" {
				if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
					t.Errorf("state files left once the run was closed: %v", left)
				}
			}
		})
	}
}

// A state file that is corrupt (or another database's) is removed by the next run, which
// warns of it once, instead of being warned of by every run after.
func TestCorruptUnrecordedFileIsRemoved(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 229})
	ident, err := e.store.Identity(t.Context())
	mustDo(t, err)
	dir := t.TempDir()
	file := syncrun.UnrecordedFile(dir, ident)
	mustDo(t, os.WriteFile(file, []byte("{not json"), 0o600))
	e.mustRun(syncrun.Config{StateDir: dir}, db.RunSucceeded)
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the corrupt state file is still there after a run: %v", err)
	}
}
