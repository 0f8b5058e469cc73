package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// crashTables are the tables a killed run must leave as they were: every entity table and its
// history.
var crashTables = []string{
	"accounts", "sub_accounts", "users", "agent_groups", "agents",
	"accounts_history", "sub_accounts_history", "users_history", "agent_groups_history", "agents_history",
}

// digests returns a digest of each crash table's full contents.
func (e *e2e) digests() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, tbl := range crashTables {
		var d string
		q := "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM engage." + tbl + " t"
		if err := e.pool.QueryRow(e.t.Context(), q).Scan(&d); err != nil {
			e.t.Fatalf("digesting %s: %v", tbl, err)
		}
		out[tbl] = d
	}
	return out
}

// SIGKILL of the real binary at several points of a run (fetching, staging, mid-publish)
// leaves every entity and history table as it was; the killed run's row stays running until
// the next run, which closes it as failed/abandoned and succeeds.
func TestE2ECrashLeavesTablesAndNextRunRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// pause makes the run stop at its point. It returns the table the run then waits to
		// lock ("" when it waits for the API instead), and a release to call after the kill.
		pause func(t *testing.T, e *e2e) (waitsFor string, release func())
		wrote bool // the waiting backend has written already (its transaction has an xid)
	}{
		{
			name: "fetching",
			pause: func(_ *testing.T, e *e2e) (string, func()) {
				e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: time.Minute})
				return "", func() { e.fake.ClearFaults() }
			},
		},
		{
			name: "staging",
			// The first agents page reads the stored agents' hashes: the run waits there with
			// everything before it staged.
			pause: func(t *testing.T, e *e2e) (string, func()) {
				return "engage.agents", lockTable(t, e, "engage.agents")
			},
		},
		{
			name: "mid-publish",
			// The publish transaction has merged accounts, sub-accounts, users and agent
			// groups when it reaches the agents' history.
			pause: func(t *testing.T, e *e2e) (string, func()) {
				return "engage.agents_history", lockTable(t, e, "engage.agents_history")
			},
			wrote: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, engagefake.Options{Seed: 71 + int64(i)})
			e.writeConfig("engage:\n  requests_per_minute: 60000\n")
			e.mustRun(0, "sync")
			// Something of every kind to publish, so that the publish writes before it waits.
			f := e.fake
			gid := f.AgentGroupIDs(f.SubAccountIDs()[0])[0]
			var mainID string
			if err := e.pool.QueryRow(t.Context(), "SELECT main_account_id FROM engage.accounts LIMIT 1").Scan(&mainID); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{
				f.Mutate(func(tn *engagefake.Tenant) error {
					return tn.UpdateMainAccount(mainID, "mainAccountName", "Renamed Main")
				}),
				f.Mutate(func(tn *engagefake.Tenant) error {
					return tn.UpdateSubAccount(tn.SubAccounts[1].ID, "accountName", "Renamed Sub")
				}),
				f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(tn.Users[1].ID, "lastName", "Renamed") }),
				f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgentGroup(gid, "groupName", "Renamed Group") }),
				f.Mutate(func(tn *engagefake.Tenant) error {
					return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Renamed")
				}),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Mutate(func(tn *engagefake.Tenant) error { _, err := tn.AddAgent(gid); return err }); err != nil {
				t.Fatal(err)
			}
			before := e.digests()

			waitsFor, release := tt.pause(t, e)
			f.ResetStats()
			cmd := e.command(t.Context(), "sync")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			at := func() bool {
				if waitsFor == "" {
					return f.Stats().Requests["agents"] > 0
				}
				return e.count(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.relation = $1::regclass AND a.application_name = 'evsync'
  AND (a.backend_xid IS NOT NULL OR NOT $2)`, waitsFor, tt.wrote) > 0
			}
			deadline := time.Now().Add(60 * time.Second)
			for !at() {
				select {
				case err := <-exited:
					t.Fatalf("sync ended (%v) before reaching its point:\n%s", err, out.String())
				case <-time.After(10 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					<-exited
					t.Fatalf("sync never reached its point:\n%s", out.String())
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			release()

			if diff := cmp.Diff(before, e.digests()); diff != "" {
				t.Errorf("a run killed while %s changed the tables (-before +after):\n%s", tt.name, diff)
			}
			var killed int64
			var status string
			if err := e.pool.QueryRow(t.Context(), "SELECT run_id, status FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&killed, &status); err != nil {
				t.Fatal(err)
			}
			if status != "running" {
				t.Fatalf("killed run %d recorded %s, want running (nothing can record a SIGKILL)", killed, status)
			}

			e.mustRun(0, "sync")
			var errText string
			var finished bool
			if err := e.pool.QueryRow(t.Context(), "SELECT status, coalesce(error, ''), finished_at IS NOT NULL FROM engage.sync_runs WHERE run_id = $1", killed).Scan(&status, &errText, &finished); err != nil {
				t.Fatal(err)
			}
			if status != "failed" || errText != "abandoned" || !finished {
				t.Errorf("after the next run, the killed run is %s (%q, finished %v), want failed, abandoned, finished", status, errText, finished)
			}
			if last, _ := e.lastRun(); last != "succeeded" {
				t.Errorf("the run after the crash is %s, want succeeded", last)
			}
			e.wantLiveCounts(f.Counts())
			if n := e.count("SELECT count(*) FROM engage.agents WHERE first_name = 'Renamed' AND deleted_at IS NULL"); n != 1 {
				t.Errorf("the run after the crash did not publish the change (%d renamed agents)", n)
			}
		})
	}
}

// lockTable holds an ACCESS EXCLUSIVE lock on table in a transaction of its own until release.
func lockTable(t *testing.T, e *e2e, table string) (release func()) {
	t.Helper()
	tx, err := e.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		_ = tx.Rollback(context.WithoutCancel(t.Context())) // the pool's close waits for it otherwise
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(context.WithoutCancel(t.Context())); err != nil && !strings.Contains(err.Error(), "closed") {
			t.Errorf("releasing the lock on %s: %v", table, err)
		}
	}
}

// SIGKILL of the real binary in the middle of a window's publish (its rows and ledger row
// written, its run's counts waiting on a lock) leaves every window all-or-nothing against its
// ledger row: a window has rows only if its ledger says it was read. The next run closes the
// killed one as abandoned, reads what is left, and stores every entry the fake serves.
func TestE2EStreamCrashLeavesWindowsWhole(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 81, AuditPerHour: 6})
	e.writeConfig("engage:\n  requests_per_minute: 60000\nstreams:\n  start: 12h\n")
	e.mustRun(0, "migrate", "up")
	release := lockTable(t, e, "engage.sync_run_scopes")
	cmd := e.command(t.Context(), "sync", "--streams", "audit_log")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// A window's publish waits on the lock, having written its rows and its ledger row.
	deadline := time.Now().Add(60 * time.Second)
	for e.count(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.relation = 'engage.sync_run_scopes'::regclass AND a.application_name = 'evsync' AND a.backend_xid IS NOT NULL`) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("sync ended (%v) before its publish waited:\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("sync never reached its publish:\n%s", out.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	release()
	// No window has rows without its ledger row saying it was read.
	whole := `SELECT count(*) FROM (SELECT DISTINCT sub_account_id, window_start FROM engage.audit_log) r
  LEFT JOIN engage.stream_windows w ON w.stream = 'audit_log' AND w.sub_account_id = r.sub_account_id AND w.window_start = r.window_start
 WHERE w.first_read_at IS NULL`
	if n := e.count(whole); n != 0 {
		t.Fatalf("%d windows have rows but no read in the ledger after the kill", n)
	}
	if n := e.count("SELECT count(*) FROM engage.stream_windows WHERE first_read_at IS NOT NULL"); n != 0 {
		t.Errorf("%d windows recorded as read by the killed run, whose transaction never committed", n)
	}
	var killed int64
	if err := e.pool.QueryRow(t.Context(), "SELECT run_id FROM engage.sync_runs WHERE trigger = 'streams' AND status = 'running'").Scan(&killed); err != nil {
		t.Fatalf("the killed stream run's row: %v", err)
	}

	e.mustRun(0, "sync", "--streams", "audit_log")
	var status, errText string
	if err := e.pool.QueryRow(t.Context(), "SELECT status, coalesce(error, '') FROM engage.sync_runs WHERE run_id = $1", killed).Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || errText != "abandoned" {
		t.Errorf("after the next run, the killed run is %s (%q), want failed, abandoned", status, errText)
	}
	if n := e.count(whole); n != 0 {
		t.Errorf("%d windows have rows but no read in the ledger", n)
	}
	if n := e.count("SELECT count(*) FROM engage.stream_windows WHERE status <> 'succeeded'"); n != 0 {
		t.Errorf("%d windows not read after the next run", n)
	}
	var want int64
	var from, to time.Time
	if err := e.pool.QueryRow(t.Context(), "SELECT min(window_start), max(window_end) FROM engage.stream_windows").Scan(&from, &to); err != nil {
		t.Fatal(err)
	}
	for _, sub := range e.fake.SubAccountIDs() {
		for _, a := range e.fake.AuditLog(sub, from, to) {
			if a.VisibleBy(time.Now().Add(-time.Minute)) {
				want++
			}
		}
	}
	if got := e.count("SELECT count(*) FROM engage.audit_log"); got < want {
		t.Errorf("%d audit rows stored, want the %d the fake serves", got, want)
	}
}
