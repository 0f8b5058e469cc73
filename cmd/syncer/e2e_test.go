package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/dbtest"
)

// syncerBin is the real binary, built once for the end-to-end tests.
var syncerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syncer-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: making a temp dir:", err)
		os.Exit(1)
	}
	syncerBin = filepath.Join(dir, "syncer")
	build := exec.Command("go", "build", "-race", "-o", syncerBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building syncer:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// e2e is one end-to-end setup: a fake API, a fresh database, and the binary's environment.
type e2e struct {
	t      *testing.T
	fake   *engagefake.Server
	dbURL  string
	pool   *pgxpool.Pool
	env    []string
	config string // path of a config file, "" for none
}

func newE2E(t *testing.T, opts engagefake.Options) *e2e {
	t.Helper()
	if opts.Tenant == (engagefake.TenantSpec{}) {
		opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 6}
	}
	fake := engagefake.New(opts)
	url := fake.Start()
	t.Cleanup(fake.Close)
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	o := fake.Options()
	return &e2e{
		t: t, fake: fake, dbURL: dbURL, pool: pool,
		env: []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + os.Getenv("HOME"),
			"EVSYNC_DATABASE_URL=" + dbURL,
			"EVSYNC_RC_SERVER_URL=" + url,
			"EVSYNC_ENGAGE_SERVER_URL=" + url,
			"EVSYNC_RC_CLIENT_ID=" + o.ClientID,
			"EVSYNC_RC_CLIENT_SECRET=" + o.ClientSecret,
			"EVSYNC_RC_JWT=" + o.JWT,
		},
	}
}

// writeConfig writes a YAML config file used by every later command.
func (e *e2e) writeConfig(yaml string) {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.config = p
}

type result struct {
	code           int
	stdout, stderr string
}

func (e *e2e) command(ctx context.Context, args ...string) *exec.Cmd {
	if e.config != "" {
		args = append([]string{"--config", e.config}, args...)
	}
	cmd := exec.CommandContext(ctx, syncerBin, args...)
	cmd.Env = e.env
	return cmd
}

func (e *e2e) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running syncer %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func (e *e2e) mustRun(wantCode int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != wantCode {
		e.t.Fatalf("syncer %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, wantCode, r.stdout, r.stderr)
	}
	return r
}

func (e *e2e) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.pool.QueryRow(e.t.Context(), sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// liveCounts returns the live rows per entity table.
func (e *e2e) liveCounts() map[string]int64 {
	out := make(map[string]int64)
	for _, tbl := range []string{"accounts", "sub_accounts", "users", "agent_groups", "agents"} {
		out[tbl] = e.count("SELECT count(*) FROM engage." + tbl + " WHERE deleted_at IS NULL")
	}
	return out
}

func (e *e2e) wantLiveCounts(want engagefake.Counts) {
	e.t.Helper()
	got := e.liveCounts()
	w := map[string]int64{
		"accounts": int64(want.MainAccounts), "sub_accounts": int64(want.SubAccounts), "users": int64(want.Users),
		"agent_groups": int64(want.AgentGroups), "agents": int64(want.Agents),
	}
	for k, v := range w {
		if got[k] != v {
			e.t.Errorf("live %s = %d, want %d", k, got[k], v)
		}
	}
}

// lastRun returns the newest run's status, error and counts summed over scopes.
func (e *e2e) lastRun() (status string, sums map[string]int64) {
	e.t.Helper()
	var id int64
	if err := e.pool.QueryRow(e.t.Context(), "SELECT run_id, status FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&id, &status); err != nil {
		e.t.Fatalf("reading the last run: %v", err)
	}
	sums = make(map[string]int64)
	for _, c := range []string{"fetched", "inserted", "updated", "unchanged", "deleted", "restored"} {
		sums[c] = e.count("SELECT coalesce(sum("+c+"),0) FROM engage.sync_run_scopes WHERE run_id = $1", id)
	}
	return status, sums
}

// tableDigest is a digest of every entity table's full contents, to prove "unchanged".
func (e *e2e) tableDigest() string {
	e.t.Helper()
	var b strings.Builder
	for _, tbl := range []string{"accounts", "sub_accounts", "users", "agent_groups", "agents"} {
		var d string
		q := "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM engage." + tbl + " t"
		if err := e.pool.QueryRow(e.t.Context(), q).Scan(&d); err != nil {
			e.t.Fatalf("digesting %s: %v", tbl, err)
		}
		b.WriteString(tbl + ":" + d + " ")
	}
	return b.String()
}

func TestE2ESyncMatchesTenantAndSecondRunIsNoop(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 7})
	r := e.mustRun(0, "sync")
	if !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("summary does not say succeeded:\n%s", r.stdout)
	}
	e.wantLiveCounts(e.fake.Counts())
	status, sums := e.lastRun()
	if status != "succeeded" || sums["inserted"] == 0 {
		t.Fatalf("first run: status %s, sums %v", status, sums)
	}
	before := e.tableDigest()
	e.mustRun(0, "sync")
	status, sums = e.lastRun()
	if status != "succeeded" || sums["inserted"]+sums["updated"]+sums["deleted"]+sums["restored"] != 0 || sums["unchanged"] != sums["fetched"] {
		t.Fatalf("second run is not a no-op: status %s, sums %v", status, sums)
	}
	if after := e.tableDigest(); after != before {
		t.Errorf("a no-op run changed the tables")
	}
	if n := e.count("SELECT count(*) FROM engage.agents_history WHERE change = 'update'"); n != 0 {
		t.Errorf("a no-op run wrote %d history rows", n)
	}
}

func TestE2EMutationsOfEveryKind(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 11})
	e.mustRun(0, "sync")
	f := e.fake
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	subs := f.SubAccountIDs()
	groups := f.AgentGroupIDs(subs[0])
	agents := f.AgentIDs(groups[0])
	users := f.UserIDs()

	// Round 1: add, change and remove something of every kind.
	newMain, newMainSub := f.AddMainAccount()
	must(f.UpdateMainAccount(newMain, "mainAccountName", "Renamed Main"))
	emptySub, err := f.AddSubAccount(newMain)
	must(err)
	must(f.UpdateSubAccount(subs[1], "accountName", "Renamed Sub"))
	_, err = f.AddAgentGroup(subs[1])
	must(err)
	must(f.UpdateAgentGroup(groups[1], "groupName", "Renamed Group"))
	must(f.RemoveAgentGroup(groups[2])) // takes its agents along
	newAgent, err := f.AddAgent(groups[0])
	must(err)
	must(f.UpdateAgent(agents[0], "firstName", "Renamed"))
	must(f.RemoveAgent(agents[1]))
	newUser, err := f.AddUser(users[0])
	must(err)
	must(f.UpdateUser(users[1], "lastName", "Renamed"))
	must(f.RemoveUser(users[len(users)-1]))
	e.mustRun(0, "sync")
	e.wantLiveCounts(f.Counts())
	checks := map[string]string{
		"new main account":       fmt.Sprintf("SELECT count(*) FROM engage.accounts WHERE main_account_id = '%s' AND name = 'Renamed Main' AND deleted_at IS NULL", newMain),
		"new sub-accounts":       fmt.Sprintf("SELECT count(*) - 1 FROM engage.sub_accounts WHERE sub_account_id IN ('%s', '%s') AND deleted_at IS NULL", newMainSub, emptySub),
		"renamed sub-account":    fmt.Sprintf("SELECT count(*) FROM engage.sub_accounts WHERE sub_account_id = '%s' AND name = 'Renamed Sub'", subs[1]),
		"renamed group":          fmt.Sprintf("SELECT count(*) FROM engage.agent_groups WHERE agent_group_id = %d AND name = 'Renamed Group'", groups[1]),
		"removed group":          fmt.Sprintf("SELECT count(*) FROM engage.agent_groups WHERE agent_group_id = %d AND deleted_at IS NOT NULL", groups[2]),
		"removed group's agents": fmt.Sprintf("SELECT (count(*) > 0 AND bool_and(deleted_at IS NOT NULL))::int FROM engage.agents WHERE agent_group_id = %d", groups[2]),
		"new agent":              fmt.Sprintf("SELECT count(*) FROM engage.agents WHERE agent_id = %d AND deleted_at IS NULL", newAgent),
		"renamed agent":          fmt.Sprintf("SELECT count(*) FROM engage.agents WHERE agent_id = %d AND first_name = 'Renamed'", agents[0]),
		"removed agent":          fmt.Sprintf("SELECT count(*) FROM engage.agents WHERE agent_id = %d AND deleted_at IS NOT NULL", agents[1]),
		"new user":               fmt.Sprintf("SELECT count(*) FROM engage.users WHERE user_id = %d AND parent_user_id = %d", newUser, users[0]),
		"renamed user":           fmt.Sprintf("SELECT count(*) FROM engage.users WHERE user_id = %d AND last_name = 'Renamed'", users[1]),
		"removed user":           fmt.Sprintf("SELECT count(*) FROM engage.users WHERE user_id = %d AND deleted_at IS NOT NULL", users[len(users)-1]),
	}
	for what, q := range checks {
		if n := e.count(q); n != 1 {
			t.Errorf("%s: %s = %d, want 1", what, q, n)
		}
	}
	for _, tbl := range []string{"sub_accounts", "users", "agent_groups", "agents"} {
		for _, change := range []string{"insert", "update", "delete"} {
			if tbl == "sub_accounts" && change == "delete" {
				continue // round 2
			}
			if e.count("SELECT count(*) FROM engage."+tbl+"_history WHERE change = $1 AND run_id = (SELECT max(run_id) FROM engage.sync_runs)", change) == 0 {
				t.Errorf("no %s history row in %s_history for the mutated run", change, tbl)
			}
		}
	}

	// Round 2: a sub-account and a main account vanish; a removed agent comes back.
	must(f.RemoveSubAccount(emptySub))
	must(f.RemoveSubAccount(newMainSub)) // its main account has no sub-account left
	e.mustRun(0, "sync")
	e.wantLiveCounts(f.Counts())
	if n := e.count("SELECT count(*) FROM engage.accounts WHERE main_account_id = $1 AND deleted_at IS NOT NULL", newMain); n != 1 {
		t.Errorf("vanished main account %s not soft-deleted", newMain)
	}
	if n := e.count("SELECT count(*) FROM engage.accounts_history WHERE change = 'delete'"); n != 1 {
		t.Errorf("main account delete has %d history rows, want 1", n)
	}
	if n := e.count("SELECT count(*) FROM engage.sub_accounts WHERE deleted_at IS NOT NULL"); n != 2 {
		t.Errorf("%d sub-accounts soft-deleted, want 2", n)
	}
}
