package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// smallTenant is the size of each fake tenant of the multi-tenant tests: about a dozen
// requests a run.
var smallTenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 3,
	QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}

// multiE2E is several tenants, each with its own fake API, in one database, with a config file
// that names them: the binary gets only EVSYNC_DATABASE_URL from the environment.
type multiE2E struct {
	*e2e
	fakes map[string]*engagefake.Server
	names []string
}

// newMultiE2E starts a fake per tenant name (seeds 1, 2, ...) and writes a config whose tenants
// share the top-level client id and secret file and each have their own JWT file and URLs.
// The JWT of a tenant in badJWT is wrong. extra is YAML added at the top level.
func newMultiE2E(t *testing.T, names []string, badJWT map[string]bool, opts func(name string) engagefake.Options, extra string) *multiE2E {
	t.Helper()
	skipShort(t)
	first := opts(names[0])
	e := newE2E(t, first)
	m := &multiE2E{e2e: e, fakes: map[string]*engagefake.Server{names[0]: e.fake}, names: names}
	for _, n := range names[1:] {
		f := engagefake.New(opts(n))
		f.Start()
		t.Cleanup(f.Close)
		m.fakes[n] = f
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	o := e.fake.Options()
	var b strings.Builder
	fmt.Fprintf(&b, "ringcentral:\n  client_id: %s\n  client_secret_file: %s\n", o.ClientID, write("client_secret", o.ClientSecret))
	b.WriteString(extra)
	b.WriteString("tenants:\n")
	for _, n := range names {
		f := m.fakes[n]
		jwt := f.Options().JWT
		if badJWT[n] {
			jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm90LWEtdmFsaWQtand0"
		}
		fmt.Fprintf(&b, "  - name: %s\n    ringcentral: {server_url: '%s', jwt_file: %s}\n    engage: {server_url: '%s'}\n",
			n, f.URL(), write(n+".jwt", jwt), f.URL())
	}
	e.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "EVSYNC_DATABASE_URL=" + e.dbURL, envNoStreams}
	e.writeConfig(b.String())
	return m
}

func smallFake(seed int64) func(string) engagefake.Options {
	return func(name string) engagefake.Options {
		return engagefake.Options{Seed: seed + int64(len(name)), Tenant: smallTenant}
	}
}

func TestE2ESyncEveryTenantOneFailingAlone(t *testing.T) {
	t.Parallel()
	m := newMultiE2E(t, []string{"acme", "globex", "initech"}, map[string]bool{"globex": true}, smallFake(70),
		"engage:\n  requests_per_minute: 6000\n")

	r := m.mustRun(1, "sync")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("sync printed %d lines, want one per tenant:\n%s", len(lines), r.stdout)
	}
	for i, want := range []string{"tenant acme: run 1 succeeded", "tenant globex: run 1 failed", "tenant initech: run 1 succeeded"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], want)
		}
	}
	// Why globex failed is printed once, in its run's log line, with what to check.
	if n := strings.Count(r.stdout+r.stderr, "invalid_grant"); n != 1 || !strings.Contains(r.stderr, `"tenant":"globex"`) ||
		!strings.Contains(r.stderr, "check the JWT (EVSYNC_TENANT_GLOBEX_RC_JWT or tenant globex's ringcentral.jwt_file)") {
		t.Errorf("globex's invalid_grant is printed %d times, want once with what to check:\nstdout: %s\nstderr: %s", n, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "syncer: ") {
		t.Errorf("a final stderr line repeats what the log said:\n%s", r.stderr)
	}
	for _, n := range []string{"acme", "initech"} {
		if got, want := m.count("SELECT count(*) FROM engage_"+n+".agents WHERE deleted_at IS NULL"), int64(m.fakes[n].Counts().Agents); got != want {
			t.Errorf("engage_%s.agents: %d live rows, want %d", n, got, want)
		}
	}
	if got := m.count("SELECT count(*) FROM engage_globex.sync_runs WHERE status = 'failed'"); got != 1 {
		t.Errorf("globex has %d failed runs recorded, want 1 (the ledger row is written before auth)", got)
	}
	if got := m.count("SELECT count(*) FROM engage_globex.agents"); got != 0 {
		t.Errorf("globex has %d agents", got)
	}
	for _, secret := range []string{m.fake.Options().ClientSecret, m.fakes["initech"].Options().JWT} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Error("a secret appears in the output")
		}
	}

	// --tenant: only the named tenant runs, with the full summary.
	r = m.mustRun(0, "sync", "--tenant", "initech")
	if !strings.HasPrefix(r.stdout, "tenant initech (schema engage_initech):\nrun 2 succeeded") {
		t.Errorf("sync --tenant initech printed:\n%s", r.stdout)
	}
	if got := m.count("SELECT count(*) FROM engage_acme.sync_runs"); got != 1 {
		t.Errorf("acme has %d runs after sync --tenant initech, want 1", got)
	}
	r = m.mustRun(0, "sync", "--tenant", "acme", "--tenant", "initech")
	if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, "tenant acme: run 2 succeeded") {
		t.Errorf("sync --tenant acme --tenant initech printed:\n%s", r.stdout)
	}
	r = m.mustRun(2, "sync", "--tenant", "nope")
	if want := "syncer: --tenant: unknown tenant \"nope\" (expected one of acme, globex, initech)\n"; r.stderr != want {
		t.Errorf("sync --tenant nope: stderr %q, want %q", r.stderr, want)
	}

	r = m.mustRun(0, "status")
	for _, n := range []string{"acme", "globex", "initech"} {
		if !strings.Contains(r.stdout, "tenant "+n+", schema engage_"+n+"\n") {
			t.Errorf("status does not show tenant %s:\n%s", n, r.stdout)
		}
	}
	r = m.mustRun(0, "config")
	if strings.Contains(r.stdout, m.fake.Options().ClientSecret) || strings.Contains(r.stdout, m.fakes["acme"].Options().JWT) {
		t.Errorf("config shows a secret:\n%s", r.stdout)
	}
}

// daemonRuns is the ledger of a tenant: its runs' ids, statuses and intervals.
func (m *multiE2E) overlaps(tenant string) int64 {
	return m.count(`SELECT count(*) FROM engage_` + tenant + `.sync_runs r1 JOIN engage_` + tenant + `.sync_runs r2 ON r1.run_id < r2.run_id
		AND tstzrange(r1.started_at, coalesce(r1.finished_at, now())) && tstzrange(r2.started_at, coalesce(r2.finished_at, now()))`)
}

// TestE2ETwoReplicasThreeTenants runs three tenants on a 2-second schedule on two daemon
// replicas of one database: every tenant runs repeatedly, no two runs of a tenant overlap, a
// failed run is retried before the next tick, and SIGTERM stops both with exit 0.
func TestE2ETwoReplicasThreeTenants(t *testing.T) {
	t.Parallel()
	m := newMultiE2E(t, []string{"acme", "flaky", "initech"}, nil, func(name string) engagefake.Options {
		return engagefake.Options{Seed: int64(80 + len(name)), Tenant: smallTenant, Latency: 100 * time.Millisecond}
	}, `engage:
  requests_per_minute: 6000
schedule:
  cron: "*/2 * * * * *"
  seconds: true
  max_concurrent_runs: 1
  retries: 2
`)
	// flaky's first run fails at once: its accounts and users listings answer 404 (not
	// retried), so every scope fails. (Not a 5xx: the client's backoff would take 16 s, and
	// the other tenants, on a 2 s schedule, would meanwhile exhaust their fakes' 5 token
	// exchanges a minute.)
	m.fakes["flaky"].SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 404, Times: 1})
	m.fakes["flaky"].SetFault(engagefake.EndpointUsers, engagefake.Fault{Status: 404, Times: 1})
	m.mustRun(0, "migrate")
	a := m.startDaemon(t)
	b := m.startDaemon(t)
	// How soon the first run starts is measured by BenchmarkDaemonManyTenants (head_s) and
	// internal/daemon's BenchmarkFirstRunLatency, not asserted here.
	for _, n := range m.names {
		m.waitCount(t, "SELECT count(*) FROM engage_"+n+".sync_runs WHERE status = 'succeeded'", 2, 60*time.Second)
	}
	for _, p := range []*daemonProc{a, b} {
		if code, _ := p.stop(t); code != 0 {
			t.Errorf("daemon exited %d after SIGTERM, want 0; log:\n%s", code, p.log())
		}
	}
	for _, n := range m.names {
		if got := m.overlaps(n); got != 0 {
			t.Errorf("tenant %s: %d pairs of runs overlapped in time", n, got)
		}
		if got := m.count("SELECT count(*) FROM engage_" + n + ".sync_runs WHERE status = 'running'"); got != 0 {
			t.Errorf("tenant %s: %d runs left running", n, got)
		}
	}
	// flaky's failed run 1 was retried as attempt 2 before its next tick (a new job, attempt 1).
	logs := a.log() + b.log()
	if !strings.Contains(logs, `"tenant":"flaky"`) || !strings.Contains(logs, `"msg":"run finished","tenant":"flaky","run_id":1,"status":"failed","attempt":1`) {
		t.Errorf("no failed first run of flaky in the logs:\n%s", logs)
	}
	if got := m.count("SELECT count(*) FROM engage_flaky.sync_runs WHERE run_id = 2 AND trigger = 'schedule'"); got != 1 {
		t.Errorf("flaky has no run 2")
	}
	if !strings.Contains(logs, `"msg":"run starting","tenant":"flaky","trigger":"schedule","attempt":2`) {
		t.Errorf("flaky's failed run was not retried (no attempt 2 in the logs)")
	}
	for i, p := range []*daemonProc{a, b} {
		if !strings.Contains(p.log(), `"msg":"run finished"`) {
			t.Errorf("replica %d worked no run", i+1)
		}
	}
}

// TestE2EReplicaKilledMidRun kills the replica running a tenant's run with SIGKILL: River
// rescues the job after schedule.timeout + shutdown.grace_period, the survivor runs the tenant
// again with a warning (the same job: a rescue is no failure and uses up no retry, so this
// holds with schedule.retries 0 too, where River used to discard it), and the next run closes
// the stale running row.
func TestE2EReplicaKilledMidRun(t *testing.T) {
	t.Parallel()
	for i, retries := range []int{3, 0} {
		t.Run(fmt.Sprintf("retries %d", retries), func(t *testing.T) {
			t.Parallel()
			m := newMultiE2E(t, []string{"acme"}, nil, func(string) engagefake.Options {
				return engagefake.Options{Seed: 90 + int64(i), Tenant: smallTenant, Latency: 400 * time.Millisecond}
			}, fmt.Sprintf(`engage:
  requests_per_minute: 6000
  concurrency: 1
schedule:
  cron: "@yearly"
  run_on_start: true
  timeout: 8s
  retries: %d
shutdown:
  grace_period: 2s
`, retries))
			m.mustRun(0, "migrate")
			a := m.startDaemon(t)
			b := m.startDaemon(t)
			var victim, survivor *daemonProc
			deadline := time.Now().Add(20 * time.Second)
			for victim == nil && time.Now().Before(deadline) {
				for _, p := range [][2]*daemonProc{{a, b}, {b, a}} {
					if strings.Contains(p[0].log(), `"msg":"run starting"`) {
						victim, survivor = p[0], p[1]
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			if victim == nil {
				t.Fatalf("no replica started the run; logs:\n%s\n%s", a.log(), b.log())
			}
			m.waitCount(t, "SELECT count(*) FROM engage_acme.sync_runs WHERE status = 'running'", 1, 10*time.Second)
			if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-victim.done
			// Rescued after timeout + grace (10 s), at the rescuer's next look (every 30 s).
			m.waitCount(t, "SELECT count(*) FROM engage_acme.sync_runs WHERE status = 'succeeded'", 1, 90*time.Second)
			if got := m.count("SELECT count(*) FROM engage_acme.sync_runs WHERE status = 'running'"); got != 0 {
				t.Errorf("%d runs left running after the rescued run", got)
			}
			if got := m.count("SELECT count(*) FROM engage_acme.sync_runs WHERE run_id = 1 AND status <> 'running'"); got != 1 {
				t.Errorf("the killed replica's run 1 was not closed")
			}
			// The rescued job itself ran again (not a new job: the tick is @yearly).
			m.waitCount(t, "SELECT count(*) FROM evsync.river_job WHERE state = 'completed'", 1, 10*time.Second)
			if got := m.count("SELECT count(*) FROM evsync.river_job WHERE state <> 'completed'"); got != 0 {
				t.Errorf("%d jobs not completed (the rescued one discarded?)", got)
			}
			if !strings.Contains(survivor.log(), `"msg":"run rescued: the replica running it died; running it again"`) {
				t.Errorf("no warning of the rescue in the survivor's log:\n%s", survivor.log())
			}
			if code, _ := survivor.stop(t); code != 0 {
				t.Errorf("the surviving replica exited %d; log:\n%s", code, survivor.log())
			}
		})
	}
}
