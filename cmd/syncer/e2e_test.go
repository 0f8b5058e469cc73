package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// binDir holds the binaries the tests build; TestMain removes it.
var binDir string

var (
	syncerBinOnce sync.Once
	syncerBinPath string
	syncerBinErr  error
)

// syncerBinary is the real binary for the end-to-end tests, built the first time a test asks
// (with -race when the tests run with it), so that a run of only the unit tests builds nothing.
func syncerBinary(tb testing.TB) string {
	tb.Helper()
	skipShort(tb)
	syncerBinOnce.Do(func() {
		syncerBinPath = filepath.Join(binDir, "syncer")
		args := []string{"build", "-o", syncerBinPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, ".")...)
		var out bytes.Buffer
		build.Stdout, build.Stderr = &out, &out
		if err := build.Run(); err != nil {
			syncerBinErr = fmt.Errorf("building syncer: %w\n%s", err, out.String())
		}
	})
	if syncerBinErr != nil {
		tb.Fatal(syncerBinErr)
	}
	return syncerBinPath
}

// skipShort skips an end-to-end test under -short: every test of this package runs the built
// binary, and the fast loop (go test -short ./...) leaves them to the full suite.
func skipShort(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("end-to-end test of the built binary: skipped with -short")
	}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syncer-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: making a temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	// The binary's children must start with SIGHUP at its default, as under a terminal or a
	// service manager: the signal tests send it. A test run under nohup ignores it, and an
	// ignored signal stays ignored across exec (which syncer then keeps, by design); one this
	// process handles is reset to the default in each child instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
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
	skipShort(t)
	if opts.Tenant == (engagefake.TenantSpec{}) {
		opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 6}
	}
	// Without configuration unless a test sizes it: the binary paces at the default 120
	// requests a minute, and each queue would cost another half second.
	if opts.Tenant.QueueGroupsPerSubAccount == 0 {
		opts.Tenant.QueueGroupsPerSubAccount = -1
	}
	if opts.Tenant.DialGroupsPerSubAccount == 0 {
		opts.Tenant.DialGroupsPerSubAccount = -1
	}
	fake := fixture.Fake(t, opts)
	url := fake.URL()
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	env := syncerEnv(dbURL, url, fake.Options())
	if opts.AuditPerHour > 0 { // a test of the streams: they read as configured
		env = slices.DeleteFunc(env, func(v string) bool { return strings.HasPrefix(v, envNoStreams) })
	}
	return &e2e{t: t, fake: fake, dbURL: dbURL, pool: pool, env: env}
}

// envNoStreams keeps the entities' tests (and benchmarks) to the entities: at the default
// 120 requests a minute, three days of audit windows would cost each sync minutes. The
// streams' tests ask for an audit history (engagefake.Options.AuditPerHour) and read them.
const envNoStreams = "EVSYNC_STREAMS_ENABLED=[]"

// syncerEnv is the whole environment of a syncer child process: the database, and the fake at
// baseURL (both APIs) with its credentials.
func syncerEnv(dbURL, baseURL string, o engagefake.Options) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"EVSYNC_DATABASE_URL=" + dbURL,
		"EVSYNC_RC_SERVER_URL=" + baseURL,
		"EVSYNC_ENGAGE_SERVER_URL=" + baseURL,
		"EVSYNC_RC_CLIENT_ID=" + o.ClientID,
		"EVSYNC_RC_CLIENT_SECRET=" + o.ClientSecret,
		"EVSYNC_RC_JWT=" + o.JWT,
		envNoStreams,
	}
}

// writeConfigFile writes a YAML config file into a temporary directory and returns its path.
func writeConfigFile(tb testing.TB, yaml string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// writeConfig writes a YAML config file used by every later command.
func (e *e2e) writeConfig(yaml string) {
	e.t.Helper()
	e.config = writeConfigFile(e.t, yaml)
}

type result struct {
	code           int
	stdout, stderr string
}

func (e *e2e) command(ctx context.Context, args ...string) *exec.Cmd {
	if e.config != "" {
		args = append([]string{"--config", e.config}, args...)
	}
	cmd := exec.CommandContext(ctx, syncerBinary(e.t), args...)
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
	for _, name := range entity.Names() {
		out[string(name)] = e.count("SELECT count(*) FROM engage." + string(name) + " WHERE deleted_at IS NULL")
	}
	return out
}

func (e *e2e) wantLiveCounts(want engagefake.Counts) {
	e.t.Helper()
	got := e.liveCounts()
	w := map[string]int64{
		"accounts": int64(want.MainAccounts), "sub_accounts": int64(want.SubAccounts), "users": int64(want.Users),
		"agent_groups": int64(want.AgentGroups), "agents": int64(want.Agents),
		"queue_groups": int64(want.QueueGroups), "queues": int64(want.Queues), "skills": int64(want.Skills),
		"dial_groups": int64(want.DialGroups), "campaigns": int64(want.Campaigns),
		"agent_queues": int64(want.QueueAssignments), "agent_dial_groups": int64(want.DialGroupAssignments),
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
	for _, name := range entity.Names() {
		tbl := string(name)
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
	e := newE2E(t, engagefake.Options{Seed: 7, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3,
		AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 6, QueueGroupsPerSubAccount: 1, QueuesPerGroup: 2,
		SkillsPerQueueGroup: 2, AgentsPerQueue: 3, DialGroupsPerSubAccount: 1, CampaignsPerDialGroup: 2, AgentsPerDialGroup: 2}})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n") // the fake has no rate limit; 32 requests
	r := e.mustRun(0, "sync")
	if !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("summary does not say succeeded:\n%s", r.stdout)
	}
	// Non-interactive: JSON logs, and the run's lines (the client's included) carry run_id.
	for _, msg := range []string{"run started", "ringcentral: JWT grant succeeded", "engage: token exchange succeeded", "run ended"} {
		found := false
		for _, line := range strings.Split(r.stderr, "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
				found = true
				if m["run_id"] == nil {
					t.Errorf("log line %q has no run_id: %s", msg, line)
				}
			}
		}
		if !found {
			t.Errorf("no JSON log line %q in:\n%s", msg, r.stderr)
		}
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
	var newMain, newMainSub string
	must(f.Mutate(func(tn *engagefake.Tenant) error {
		newMain = tn.AddMainAccount().ID
		sa, err := tn.AddSubAccount(newMain)
		if err == nil {
			newMainSub = sa.ID
		}
		return err
	}))
	must(f.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateMainAccount(newMain, "mainAccountName", "Renamed Main")
	}))
	var emptySub string
	must(f.Mutate(func(tn *engagefake.Tenant) error {
		sa, err := tn.AddSubAccount(newMain)
		if err == nil {
			emptySub = sa.ID
		}
		return err
	}))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(subs[1], "accountName", "Renamed Sub") }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { _, err := tn.AddAgentGroup(subs[1]); return err }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgentGroup(groups[1], "groupName", "Renamed Group") }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgentGroup(groups[2]) })) // takes its agents along
	var newAgent int
	must(f.Mutate(func(tn *engagefake.Tenant) error {
		a, err := tn.AddAgent(groups[0])
		if err == nil {
			newAgent = a.ID
		}
		return err
	}))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(agents[0], "firstName", "Renamed") }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(agents[1]) }))
	var newUser int
	must(f.Mutate(func(tn *engagefake.Tenant) error {
		u, err := tn.AddUser(users[0])
		if err == nil {
			newUser = u.ID
		}
		return err
	}))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(users[1], "lastName", "Renamed") }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveUser(users[len(users)-1]) }))
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
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(emptySub) }))
	must(f.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(newMainSub) })) // its main account has no sub-account left
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

func TestE2EExpiringTokensAndRateLimitStorm(t *testing.T) {
	t.Parallel()
	tenant := engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 8, AgentsPerGroup: 3, Users: 4}
	t.Run("token TTL 2s", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t, engagefake.Options{Seed: 31, Tenant: tenant, TokenTTL: 2 * time.Second, Latency: 40 * time.Millisecond})
		e.writeConfig("engage:\n  requests_per_minute: 300\n")
		e.mustRun(0, "sync")
		e.wantLiveCounts(e.fake.Counts())
		var refreshes int64
		if err := e.pool.QueryRow(t.Context(), "SELECT token_refreshes FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&refreshes); err != nil {
			t.Fatal(err)
		}
		if st := e.fake.Stats(); refreshes < 2 || st.Refreshes != refreshes || st.Exchanges != 1 {
			t.Errorf("ledger says %d refreshes, fake saw %d refreshes and %d exchanges; want >= 2, equal, 1", refreshes, st.Refreshes, st.Exchanges)
		}
	})
	t.Run("429 storm", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t, engagefake.Options{Seed: 37, Tenant: tenant, RateLimit: 240, RateBurst: 2, RateLimitRetryAfter: true})
		e.writeConfig("engage:\n  requests_per_minute: 6000\n  concurrency: 8\n")
		e.mustRun(0, "sync")
		e.wantLiveCounts(e.fake.Counts())
		var limited int64
		if err := e.pool.QueryRow(t.Context(), "SELECT rate_limited FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&limited); err != nil {
			t.Fatal(err)
		}
		if st := e.fake.Stats(); limited == 0 || limited != st.RateLimited {
			t.Errorf("ledger counts %d 429s, the fake served %d; want equal and > 0", limited, st.RateLimited)
		}
	})
}

func TestE2EOneSubAccountFailingIsPartial(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 41})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n")
	e.mustRun(0, "sync")
	subs := e.fake.SubAccountIDs()
	bad := subs[0]
	badGroup := e.fake.AgentGroupIDs(bad)[0]
	badAgent := e.fake.AgentIDs(badGroup)[0]
	goodAgent := e.fake.AgentIDs(e.fake.AgentGroupIDs(subs[1])[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(badAgent) }); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(goodAgent) }); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Status: 500, PathContains: "/accounts/" + bad + "/"})
	r := e.mustRun(3, "sync")
	if !strings.Contains(r.stdout, "partial") || !strings.Contains(r.stderr, bad) {
		t.Errorf("partial run does not say so or name the sub-account:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND deleted_at IS NULL", badAgent); n != 1 {
		t.Errorf("agent of the failing sub-account was deleted")
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND deleted_at IS NOT NULL", goodAgent); n != 1 {
		t.Errorf("agent of a healthy sub-account was not deleted")
	}
	if status, _ := e.lastRun(); status != "partial" {
		t.Errorf("run recorded %s, want partial", status)
	}
}

// A run in which every selected scope failed exits 1 (failed), not 3 (partial).
func TestE2EEveryScopeFailingExits1(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 42})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n")
	// 404s are not retried, so the run ends at once.
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 404})
	e.fake.SetFault(engagefake.EndpointUsers, engagefake.Fault{Status: 404})
	r := e.mustRun(1, "sync")
	if !strings.Contains(r.stderr, "failed") || !strings.Contains(r.stderr, "listing accounts") {
		t.Errorf("stderr does not say the run failed and why: %s", r.stderr)
	}
	if status, _ := e.lastRun(); status != "failed" {
		t.Errorf("run recorded %s, want failed", status)
	}
}

func TestE2EBadConfigExits2NamingTheKey(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 43})
	tests := []struct {
		name, yaml, key string
	}{
		{"negative rate", "engage:\n  requests_per_minute: -5\n", "engage.requests_per_minute"},
		{"unknown key", "engage:\n  request_per_minute: 5\n", "engage.request_per_minute"},
		{"inline secret", "ringcentral:\n  client_secret: hunter2\n", "ringcentral.client_secret"},
		{"bad cron", "schedule:\n  cron: \"every day\"\n", "schedule.cron"},
	}
	for _, tt := range tests {
		e.writeConfig(tt.yaml)
		r := e.mustRun(2, "sync")
		if !strings.Contains(r.stderr, tt.key) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: stderr %q does not name %s on one line", tt.name, r.stderr, tt.key)
		}
		if strings.Contains(r.stderr, "hunter2") {
			t.Errorf("%s: stderr leaks the inline secret", tt.name)
		}
	}
	e.config = ""
	r := e.mustRun(2, "sync", "--entities", "agents,gates")
	if !strings.Contains(r.stderr, "--entities") {
		t.Errorf("bad flag: stderr %q does not name --entities", r.stderr)
	}
	var tables int64
	if err := e.pool.QueryRow(t.Context(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'engage'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("a config error still touched the database (%d tables)", tables)
	}
}

// TestE2ESignalMidRunRollsBack interrupts a sync mid-run with SIGTERM and with SIGHUP (a
// closed terminal): either cancels the run, which is rolled back and recorded canceled, and
// the process exits non-zero; neither kills it with the run left running.
func TestE2ESignalMidRunRollsBack(t *testing.T) {
	t.Parallel()
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, engagefake.Options{Seed: 47 + int64(i)})
			e.writeConfig("engage:\n  requests_per_minute: 6000\n")
			e.mustRun(0, "sync")
			gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
			if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Changed")
			}); err != nil {
				t.Fatal(err)
			}
			before := e.tableDigest()
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: time.Second})
			e.fake.ResetStats()
			cmd := e.command(t.Context(), "sync")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for e.fake.Stats().Requests["agents"] == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			// No bound on how soon it exits (a busy machine is slow): the canceled status and
			// the unchanged tables below show that the signal, not the run's end, stopped it.
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
				t.Fatalf("interrupted sync exited %v, want a non-zero exit code (not killed by the signal)\nstderr: %s", err, errb.String())
			}
			if after := e.tableDigest(); after != before {
				t.Errorf("an interrupted run changed the tables")
			}
			if status, _ := e.lastRun(); status != "canceled" {
				t.Errorf("interrupted run recorded %q, want canceled", status)
			}
			if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'running'"); n != 0 {
				t.Errorf("%d runs left 'running'", n)
			}
		})
	}
}

func TestE2EConcurrentSyncsOneExits4(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 53})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n")
	e.mustRun(0, "migrate")
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Latency: 3 * time.Second})
	first := e.command(t.Context(), "sync")
	var out bytes.Buffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.fake.Stats().Requests["accounts"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r := e.mustRun(4, "sync")
	if !strings.Contains(r.stderr, "lock") {
		t.Errorf("locked-out sync says %q", r.stderr)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first sync: %v\n%s", err, out.String())
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs"); n != 1 {
		t.Errorf("%d runs recorded, want 1 (the locked-out one writes nothing)", n)
	}
}

func TestE2ENoSecretsInLogsOrDatabase(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 59, TokenTTL: 2 * time.Second, Latency: 20 * time.Millisecond})
	e.writeConfig("engage:\n  requests_per_minute: 600\nlog:\n  level: debug\n")
	r1 := e.mustRun(0, "sync")
	r2 := e.mustRun(0, "sync", "--dry-run")
	r3 := e.mustRun(0, "config")
	dump, err := exec.Command("pg_dump", "--no-owner", e.dbURL).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("agents_history")) {
		t.Fatalf("pg_dump output does not look like a dump")
	}
	secrets := e.fake.SecretValues()
	if len(secrets) < 10 {
		t.Fatalf("the fake reports only %d secret values", len(secrets))
	}
	haystacks := map[string]string{
		"sync output": r1.stdout + r1.stderr, "dry-run output": r2.stdout + r2.stderr,
		"config output": r3.stdout + r3.stderr, "database dump": string(dump),
	}
	for _, s := range secrets {
		for where, h := range haystacks {
			if strings.Contains(h, s) {
				t.Errorf("%s contains a secret value (%d chars, starts %q)", where, len(s), s[:min(4, len(s))])
			}
		}
	}
}
