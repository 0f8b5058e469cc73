package tenant_test

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/tenant"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// The pool follows the runs in flight, never the number of tenants: three connections a run
// and four spare, at least one run's worth, and bounded.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	for runs, want := range map[int]int32{0: 7, 1: 7, 4: 16, 64: 196, 1000: 1000} {
		if got := tenant.PoolSize(runs); got != want {
			t.Errorf("PoolSize(%d) = %d, want %d", runs, got, want)
		}
	}
}

func runs(c config.Config) *tenant.Runs {
	return &tenant.Runs{Config: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UserAgent: "evsync/test"}
}

// A configuration the client refuses is ErrConfig, with the client's own words.
func TestSyncRefusedConfigIsErrConfig(t *testing.T) {
	t.Parallel()
	r := runs(config.Default())
	_, err := r.Sync(t.Context(), nil, r.ClientConfig(config.Tenant{}), config.Tenant{}, tenant.Options{})
	if !errors.Is(err, tenant.ErrConfig) || !strings.Contains(err.Error(), "ClientID") {
		t.Fatalf("Sync with no credentials = %v, want ErrConfig naming ClientID", err)
	}
}

// SyncAll runs every tenant against its own schema, each with its own outcome, migrating the
// schemas first; told not to migrate, a run refuses a schema that is not migrated, and a dry
// run migrates only in its own transaction.
func TestSyncAllRunsEachTenantOnItsOwn(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 5, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1,
		AgentGroupsPerSubAccount: 1, AgentsPerGroup: 2, Users: 2, QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}})
	pool, err := db.Open(t.Context(), dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	c := config.Default()
	c.Sync.TenantConcurrency = 1
	var ts []config.Tenant
	for _, name := range []string{"acme", "globex"} {
		tn := c.TopLevelTenant()
		tn.Name, tn.Schema = name, "engage_"+name
		o := fake.Options()
		tn.RingCentral = config.RingCentral{ServerURL: fake.URL(), ClientID: o.ClientID, ClientSecret: o.ClientSecret, JWT: o.JWT}
		tn.Engage.ServerURL, tn.Engage.RequestsPerMinute = fake.URL(), 60000
		ts = append(ts, tn)
	}
	r := runs(c)
	for _, dryRun := range []bool{true, false} {
		got := r.SyncAll(t.Context(), pool, ts[:1], false, tenant.Options{DryRun: dryRun})
		want := "schema engage_acme is not migrated (it lacks "
		if len(got) != 1 || got[0].Err == nil || !strings.HasPrefix(got[0].Err.Error(), want) ||
			!strings.HasSuffix(got[0].Err.Error(), "migrations); run 'syncer migrate up' or drop --no-migrate") {
			t.Fatalf("run (dry %v) told not to migrate an unmigrated schema = %+v, want it refused: %s...", dryRun, got, want)
		}
	}
	// A dry run that may migrate does, in its own transaction, and rolls it all back.
	dry := r.SyncAll(t.Context(), pool, ts[:1], true, tenant.Options{DryRun: true})
	if len(dry) != 1 || dry[0].Err != nil || dry[0].Res == nil || dry[0].Res.Totals()[entity.Agents].Inserted != 2 {
		t.Fatalf("dry run of an unmigrated schema = %+v, want it to count 2 agents to insert", dry)
	}
	if ok, err := db.SchemaExists(t.Context(), pool, "engage_acme"); err != nil || ok {
		t.Fatalf("the dry run left schema engage_acme behind (%v)", err)
	}

	res := r.SyncAll(t.Context(), pool, ts, true, tenant.Options{Trigger: db.TriggerManual})
	for i, got := range res {
		if got.Tenant.Name != ts[i].Name || got.Err != nil || got.Res == nil || got.Res.Status != db.RunSucceeded {
			t.Errorf("tenant %s: %+v, want its own succeeded run", ts[i].Name, got)
		}
	}
	for _, tn := range ts {
		var n int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+tn.Schema+".agents").Scan(&n); err != nil || n != 2 {
			t.Errorf("%s.agents: %d rows (%v), want 2", tn.Schema, n, err)
		}
	}
}
