package cli

import (
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// streamsYAML reads the audit log of the last 6 hours, fast.
const streamsYAML = "engage:\n  requests_per_minute: 60000\n  concurrency: 4\nstreams:\n  start: 6h\n"

// Without "Audit log access" the audit search answers 403: sync exits 0, the scope says
// not_entitled, the log says what to ask for, and status shows it.
func TestSyncStreamsNotEntitledExitsZero(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 31, Tenant: smallTenant, NoAuditLogAccess: true})
	env := fakeEnv(fake, storetest.New(t).URL())
	cfg := fixture.WriteFile(t, "c.yaml", streamsYAML)
	code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync", "--streams", "audit_log")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "not_entitled") || !strings.Contains(stderr, "Audit log access") {
		t.Errorf("want the scopes not_entitled on stdout and what to ask for in the log\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	if strings.Contains(stdout, "accounts ") && strings.Contains(stdout, "agent_groups") {
		t.Errorf("--streams alone synced the entities:\n%s", stdout)
	}
	code, stdout, stderr = runCLI(t, env, "--config", cfg, "status")
	if code != exitOK || !strings.Contains(stdout, "not entitled (403)") {
		t.Errorf("status: exit %d, want the 403 shown\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// backfill reads a range once: a second backfill reads nothing, --refetch reads it again; the
// JSON document says so; status shows the stream's high-water mark.
func TestBackfillOnceThenRefetch(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 32, Tenant: smallTenant})
	env := fakeEnv(fake, storetest.New(t).URL())
	cfg := fixture.WriteFile(t, "c.yaml", streamsYAML)
	var doc syncDoc
	code, stdout, stderr := runCLI(t, env, "--config", cfg, "backfill", "--since", "1d", "--streams", "audit_log", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	decodeStrict(t, stdout, &doc)
	first := doc.Tenants[0].Streams
	if first == nil || first.WindowsRead < 23*2 || first.Status != "succeeded" || doc.ExitCode != 0 {
		t.Fatalf("first backfill: %+v", first)
	}
	code, stdout, _ = runCLI(t, env, "--config", cfg, "backfill", "--since", "1d", "--output", "json")
	decodeStrict(t, stdout, &doc)
	if code != exitOK || doc.Tenants[0].Streams.WindowsRead != 0 {
		t.Errorf("second backfill: exit %d, %d windows read, want 0 and 0", code, doc.Tenants[0].Streams.WindowsRead)
	}
	code, stdout, _ = runCLI(t, env, "--config", cfg, "backfill", "--since", "1d", "--refetch", "--output", "json")
	decodeStrict(t, stdout, &doc)
	if code != exitOK || doc.Tenants[0].Streams.WindowsRead != first.WindowsRead {
		t.Errorf("--refetch: exit %d, %d windows read, want 0 and %d", code, doc.Tenants[0].Streams.WindowsRead, first.WindowsRead)
	}
	code, stdout, _ = runCLI(t, env, "--config", cfg, "status")
	if code != exitOK || !strings.Contains(stdout, "streams:") || !strings.Contains(stdout, "audit_log") {
		t.Errorf("status: exit %d:\n%s", code, stdout)
	}
}

// backfill's flags are checked before anything runs: one line naming the flag, exit 2.
func TestBackfillUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backfill"}, "--since is required"},
		{[]string{"backfill", "--since", "soon"}, `--since: must be a duration back from now`},
		{[]string{"backfill", "--since", "2999-01-01"}, "--since: \"2999-01-01\" is in the future"},
		{[]string{"backfill", "--since", "2d", "--until", "3d"}, "--until: \"3d\" is not after --since"},
		{[]string{"backfill", "--since", "2d", "--streams", "audit"}, `--streams: unknown stream "audit" (expected a comma-separated subset of audit_log`},
		{[]string{"sync", "--streams", "audit_log,"}, `--streams: empty stream`},
	} {
		code, stdout, stderr := runCLI(t, nil, tt.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line with %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

// sync --entities reads no stream, and a dry run reads no window: their documents say so.
func TestSyncEntitiesOrDryRunReadNoStream(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 33, Tenant: smallTenant})
	env := fakeEnv(fake, storetest.New(t).URL())
	cfg := fixture.WriteFile(t, "c.yaml", streamsYAML)
	for _, args := range [][]string{{"--entities", "accounts"}, {"--dry-run"}} {
		fake.ResetStats()
		code, stdout, stderr := runCLI(t, env, append([]string{"--config", cfg, "sync", "--output", "json"}, args...)...)
		var doc syncDoc
		decodeStrict(t, stdout, &doc)
		if code != exitOK || doc.Tenants[0].Streams != nil {
			t.Errorf("%q: exit %d, streams %+v; want 0 and none\nstderr: %s", args, code, doc.Tenants[0].Streams, stderr)
		}
		if n := fake.Stats().Requests[engagefake.EndpointAuditSearch]; n != 0 {
			t.Errorf("%q: %d audit searches, want 0", args, n)
		}
	}
	fake.ResetStats()
	code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync", "--output", "json")
	var doc syncDoc
	decodeStrict(t, stdout, &doc)
	if code != exitOK || doc.Tenants[0].Streams == nil || doc.Tenants[0].Streams.WindowsRead == 0 || len(doc.Tenants[0].Entities) == 0 {
		t.Errorf("plain sync: exit %d, want the entities and the streams\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// One session and one accounts listing serve both runs of the sync.
	if st := fake.Stats(); st.Requests[engagefake.EndpointAccounts] != 1 || st.Grants != 1 {
		t.Errorf("plain sync: %d accounts listings and %d grants, want 1 and 1", st.Requests[engagefake.EndpointAccounts], st.Grants)
	}
}

// With several tenants, sync --streams prints each tenant's stream run on its line, and a
// backfill runs them as sync does.
func TestStreamsSeveralTenantsLines(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 34, Tenant: smallTenant})
	env := fakeEnv(fake, storetest.New(t).URL())
	for _, k := range []string{config.EnvRCJWT, config.EnvRCClientSecret, config.EnvRCClientID} {
		delete(env, k)
	}
	for _, name := range []string{"acme", "globex"} {
		env[config.TenantEnv(name, "RC_JWT")] = engagefake.JWTDefault
		env[config.TenantEnv(name, "RC_CLIENT_SECRET")] = engagefake.ClientSecretDefault
	}
	cfg := fixture.WriteFile(t, "c.yaml", streamsYAML+"ringcentral:\n  client_id: "+engagefake.ClientIDDefault+
		"\ntenants:\n  - name: acme\n  - name: globex\n")
	for _, args := range [][]string{{"sync", "--streams", "audit_log"}, {"backfill", "--since", "12h"}} {
		code, stdout, stderr := runCLI(t, env, append([]string{"--config", cfg}, args...)...)
		if code != exitOK {
			t.Fatalf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
		for _, name := range []string{"acme", "globex"} {
			if !strings.Contains(stdout, "tenant "+name+": stream run ") || strings.Contains(stdout, "no run") {
				t.Errorf("%q: want tenant %s's stream run on its line:\n%s", args, name, stdout)
			}
		}
	}
	code, _, stderr := runCLI(t, env, "--config", cfg, "sync", "--streams", "audit_log", "--dry-run")
	if code != exitUsage || !strings.Contains(stderr, "--dry-run reads no stream") {
		t.Errorf("sync --streams --dry-run: exit %d, stderr %q; want a usage error", code, stderr)
	}
}
