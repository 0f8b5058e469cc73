package cli

// The life of a run beyond the happy path (issue 9): sync.timeout, freshness in /healthz/data and the
// last-success metric.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// sync.timeout: default 1h, read from the YAML, a positive duration or exit 2 naming the key.
func TestConfigSyncTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string // "" = no file
		want    time.Duration
		wantErr string
	}{
		{name: "default", want: time.Hour},
		{name: "set", yaml: "sync:\n  timeout: 90s\n", want: 90 * time.Second},
		{name: "zero", yaml: "sync:\n  timeout: 0s\n", wantErr: `config: sync.timeout: must be a positive duration like "1h", got "0s"`},
		{name: "negative", yaml: "sync:\n  timeout: -5m\n", wantErr: `config: sync.timeout: must be a positive duration like "1h", got "-5m0s"`},
		{name: "not a duration", yaml: "sync:\n  timeout: soon\n", wantErr: `config: sync.timeout: must be a duration like "60s" or "1h30m", got "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.yaml != "" {
				path = fixture.WriteFile(t, "c.yaml", tt.yaml)
			}
			c, err := config.Load(path, nil)
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error = %v, want one line containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Sync.Timeout != tt.want {
				t.Errorf("sync.timeout = %s, want %s", c.Sync.Timeout, tt.want)
			}
		})
	}
}

// /healthz/data and evsync_last_success_timestamp_seconds follow entity_freshness: after a run
// whose agents scope failed for one sub-account, agents are as fresh as the run before (here
// 30 h old), so the data is not fresh and /healthz/data says which entity is stale. Before,
// the partial run counted as fresh and the endpoint (then /readyz) answered 200.
func TestHealthzDataNamesTheStaleEntity(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 67,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 3}})
	sdb := storetest.New(t)
	pool, store := sdb.Pool, sdb.Store
	syncOnce := func(wantStatus db.RunStatus) int64 {
		t.Helper()
		client := engagetest.Client(t, fake, func(c *engageclient.Config) { c.MaxAttempts = 1 })
		r, err := syncrun.NewRunner(client, store, syncrun.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := r.Run(t.Context())
		if res == nil || res.Status != wantStatus {
			t.Fatalf("run = %+v, want %s", res, wantStatus)
		}
		return res.RunID
	}
	old := syncOnce(db.RunSucceeded)
	var oldAt time.Time
	if err := pool.QueryRow(t.Context(), `UPDATE engage.sync_runs SET started_at = started_at - interval '30 hours',
 finished_at = finished_at - interval '30 hours' WHERE run_id = $1 RETURNING finished_at`, old).Scan(&oldAt); err != nil {
		t.Fatal(err)
	}
	fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 404, PathContains: "/accounts/" + fake.SubAccountIDs()[1] + "/"})
	syncOnce(db.RunPartial)

	if err := daemon.Migrate(t.Context(), pool, testControlSchema); err != nil {
		t.Fatal(err)
	}
	tn := testTenant(t, config.TenantDefault, "@yearly", false, func(context.Context, string) (daemon.Outcome, error) { return daemon.Outcome{}, nil })
	tn.LastSuccess = func(ctx context.Context) (daemon.Freshness, error) { return lastSuccess(ctx, store, entity.Names()) }
	reg := prometheus.NewRegistry()
	d, err := daemon.New(pool, daemon.Config{ControlSchema: testControlSchema, Listen: "127.0.0.1:0", ReadyStaleness: 26 * time.Hour,
		DefaultTenant: config.TenantDefault, Logger: fixture.TestLogger(t), Registry: reg}, []daemon.Tenant{tn})
	if err != nil {
		t.Fatal(err)
	}
	stop := startDaemon(t, d)
	<-d.Listening()
	code, body := fixture.HTTPGet(t, "http://"+d.Addr()+"/healthz/data")
	want := fmt.Sprintf("not fresh: agents is stale: its last complete run %d finished 30h", old)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, want) || !strings.Contains(body, "more than http.ready_staleness (26h0m0s)") {
		t.Errorf("/healthz/data = %d %q, want 503 with %q", code, body, want)
	}
	if got := metricValue(t, reg, "evsync_last_success_timestamp_seconds", map[string]string{"tenant": config.TenantDefault}); got != float64(oldAt.UnixNano())/1e9 {
		t.Errorf("evsync_last_success_timestamp_seconds = %v, want %v (the run that last completed agents)", got, float64(oldAt.UnixNano())/1e9)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
