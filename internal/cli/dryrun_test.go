package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// sync --dry-run writes nothing at all: on a database where schema engage does not exist it
// migrates only inside its own transaction and rolls that back (no schema, no table, no
// version or sync_runs row, no River control schema), and prints what a first run would
// insert. With --no-migrate it refuses the schema in one line, as a run does. On a migrated
// schema it leaves everything as it was too.
func TestSyncDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 23, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1,
		AgentGroupsPerSubAccount: 1, AgentsPerGroup: 3, Users: 2, QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}})
	url := dbtest.NewURL(t)
	pool, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfgFile := fixture.WriteFile(t, "config.yaml", "engage:\n  requests_per_minute: 60000\n")
	o := fake.Options()
	env := map[string]string{"EVSYNC_DATABASE_URL": url, "EVSYNC_RC_SERVER_URL": fake.URL(), "EVSYNC_ENGAGE_SERVER_URL": fake.URL(),
		"EVSYNC_RC_CLIENT_ID": o.ClientID, "EVSYNC_RC_CLIENT_SECRET": o.ClientSecret, "EVSYNC_RC_JWT": o.JWT}
	sync := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, env, append([]string{"--config", cfgFile, "sync"}, args...)...)
	}
	agentsLine := regexp.MustCompile(`(?m)^\s*agents\s+3\s+3\s+0\s+0\s+0\s+0\s*$`) // fetched 3, would insert 3

	before := dbtest.Catalog(t, pool, "engage")
	code, stdout, stderr := sync("--dry-run")
	if code != exitOK || !strings.Contains(stdout, "dry run succeeded") || !agentsLine.MatchString(stdout) {
		t.Errorf("sync --dry-run on a fresh database: exit %d, want 0 and 3 agents to insert; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if diff := cmp.Diff(before, dbtest.Catalog(t, pool, "engage")); diff != "" {
		t.Errorf("sync --dry-run created objects (-before +after):\n%s", diff)
	}

	code, _, stderr = sync("--dry-run", "--no-migrate")
	want := regexp.MustCompile(`^syncer: schema engage is not migrated \(it lacks \d+ migrations\); run 'syncer migrate up' or drop --no-migrate\n$`)
	if code != exitFailed || !want.MatchString(stderr) {
		t.Errorf("sync --dry-run --no-migrate on a fresh database: exit %d, stderr %q; want %d and %s", code, stderr, exitFailed, want)
	}
	if diff := cmp.Diff(before, dbtest.Catalog(t, pool, "engage")); diff != "" {
		t.Errorf("sync --dry-run --no-migrate created objects (-before +after):\n%s", diff)
	}

	if code, _, stderr := runCLI(t, env, "--config", cfgFile, "migrate", "up"); code != exitOK {
		t.Fatalf("migrate up: exit %d: %s", code, stderr)
	}
	migrated := dbtest.Catalog(t, pool, "engage")
	if code, stdout, stderr := sync("--dry-run", "--no-migrate"); code != exitOK || !agentsLine.MatchString(stdout) {
		t.Errorf("sync --dry-run --no-migrate on a migrated schema: exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if diff := cmp.Diff(migrated, dbtest.Catalog(t, pool, "engage")); diff != "" {
		t.Errorf("sync --dry-run on a migrated schema changed it (-before +after):\n%s", diff)
	}
}
