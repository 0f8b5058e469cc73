package cli

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// logLines decodes the JSON log lines of stderr (the other lines are left out).
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// runEnded returns the one "run ended" line of lines, failing the test unless there is
// exactly one.
func runEnded(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	var ended []map[string]any
	for _, l := range lines {
		if l["msg"] == "run ended" {
			ended = append(ended, l)
		}
	}
	if len(ended) != 1 {
		t.Fatalf("%d run ended lines, want 1: %v", len(ended), ended)
	}
	return ended[0]
}

// A failing sync prints each failure once in all it writes (stdout and stderr): the run's
// error where it ended the run, each failed scope's error; with what to check when an API
// refused the credentials. The run ended line has the same keys whatever the outcome, and its
// duration is a number of seconds. The exit codes stay.
func TestSyncFailurePrintedOnce(t *testing.T) {
	t.Parallel()
	var (
		keysMu sync.Mutex
		keys   = map[string][]string{} // the keys of each outcome's run ended line
	)
	tests := []struct {
		name       string
		jwt        string
		fault      string
		status     string // the run's
		level      string // of run ended
		code       int
		wantInOut  []string // each in stdout or stderr
		scopeError bool     // the failure to count is a scope's (sync_run_scopes.error)
	}{
		{name: "succeeded", status: "succeeded", level: "INFO", code: exitOK},
		{name: "invalid_grant", jwt: "not-the-jwt", status: "failed", level: "ERROR", code: exitFailed,
			wantInOut: []string{"invalid_grant", "RingCentral refused the JWT: check the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file)",
				"run 1 failed in"}},
		{name: "one scope refused", fault: engagefake.EndpointAgents, status: "partial", level: "INFO", code: exitPartial, scopeError: true,
			wantInOut: []string{"403 Forbidden", "Engage refused the listing: check the permissions", "run 1 partial in", "failed scopes (each error is in its log line \"scope failed\"): agents/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			fake := fixture.Fake(t, engagefake.Options{Seed: 11, Tenant: smallTenant})
			if tt.fault != "" {
				fake.SetFault(tt.fault, engagefake.Fault{Status: 403, Times: 1})
			}
			sdb := storetest.New(t)
			env := fakeEnv(fake, sdb.URL())
			if tt.jwt != "" {
				env[config.EnvRCJWT] = tt.jwt
			}
			cfg := fixture.WriteFile(t, "c.yaml", fastYAML+"database:\n  schema: "+sdb.Schema+"\nlog:\n  format: json\n")
			code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			var status, runErr, scopeErr string
			if err := sdb.Pool.QueryRow(ctx, "SELECT status, coalesce(error, '') FROM "+sdb.Schema+".sync_runs").Scan(&status, &runErr); err != nil {
				t.Fatal(err)
			}
			if status != tt.status {
				t.Fatalf("run %s, want %s", status, tt.status)
			}
			all := stdout + stderr
			if tt.scopeError {
				if err := sdb.Pool.QueryRow(ctx, "SELECT error FROM "+sdb.Schema+".sync_run_scopes WHERE status = 'failed'").Scan(&scopeErr); err != nil {
					t.Fatal(err)
				}
				runErr = scopeErr
			}
			// JSON escapes nothing in these errors but their quotes.
			shown := strings.ReplaceAll(runErr, `"`, `\"`)
			if n := strings.Count(all, shown); runErr != "" && n != 1 {
				t.Errorf("the error %q is printed %d times, want once:\nstdout: %s\nstderr: %s", runErr, n, stdout, stderr)
			}
			for _, w := range tt.wantInOut {
				if !strings.Contains(all, w) {
					t.Errorf("the output does not say %q:\nstdout: %s\nstderr: %s", w, stdout, stderr)
				}
			}
			if strings.Contains(stderr, "syncer: ") {
				t.Errorf("a final stderr line repeats what the log said:\n%s", stderr)
			}
			lines := logLines(t, stderr)
			ended := runEnded(t, lines)
			if ended["level"] != tt.level || ended["status"] != tt.status {
				t.Errorf("run ended at %v with status %v, want %s and %s", ended["level"], ended["status"], tt.level, tt.status)
			}
			if _, ok := ended["duration"].(float64); !ok {
				t.Errorf("run ended's duration = %#v, want a number of seconds", ended["duration"])
			}
			keysMu.Lock()
			keys[tt.name] = slices.Sorted(maps.Keys(ended))
			keysMu.Unlock()
		})
	}
	t.Cleanup(func() {
		var first []string
		for name, k := range keys {
			if first == nil {
				first = k
				continue
			}
			if diff := cmp.Diff(first, k); diff != "" {
				t.Errorf("run ended of %s has other keys (-one +%s):\n%s", name, name, diff)
			}
		}
	})
}

// A database that does not answer: one line on stderr, naming database.url and its variable.
func TestSyncDatabaseDownNamesItsKey(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 12, Tenant: smallTenant})
	env := fakeEnv(fake, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	code, stdout, stderr := runCLI(t, env, "sync")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitFailed || stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "syncer: connecting to the database") ||
		!strings.HasSuffix(lines[0], "check database.url ("+config.EnvDatabaseURL+")") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and one line naming database.url", code, stdout, stderr)
	}
}

// A canceled run (SIGINT) logs its end once, at warn, and nothing at error level; the exit is
// still 1.
func TestSyncCanceledLogsOnceAtWarn(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 13, Tenant: smallTenant})
	sdb := storetest.New(t)
	cfg := fixture.WriteFile(t, "c.yaml", fastYAML+"database:\n  schema: "+sdb.Schema+"\nlog:\n  format: json\n")
	// The run is stopped as soon as it has started (while it logs in).
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &cancelOn{on: `"msg":"run started"`, cancel: cancel}
	var stdout strings.Builder
	err := run(ctx, []string{"--config", cfg, "sync"}, fixture.Env(fakeEnv(fake, sdb.URL())), &stdout, stderr)
	code := exitCode(err, stderr)
	out := stderr.String()
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout.String(), out)
	}
	lines := logLines(t, out)
	ended := runEnded(t, lines)
	if ended["level"] != "WARN" || ended["status"] != "canceled" {
		t.Errorf("run ended: %v, want canceled at WARN", ended)
	}
	for _, l := range lines {
		if l["level"] == "ERROR" {
			t.Errorf("a line at error level: %v", l)
		}
	}
	if strings.Count(stdout.String()+out, "context canceled") != 1 {
		t.Errorf("the cancellation is told more than once:\nstdout: %s\nstderr: %s", stdout.String(), out)
	}
}

// cancelOn is a stderr that calls cancel once a run has started (its "run started" line).
type cancelOn struct {
	mu     sync.Mutex
	b      strings.Builder
	on     string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(string(p), c.on) {
		c.cancel()
	}
	return c.b.Write(p)
}

func (c *cancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}
