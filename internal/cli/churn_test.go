package cli

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// startFakeEngage runs `syncer fake-engage` with args on a free port until the test ends and
// returns what it printed before serving: its address, tenant and the exports.
func startFakeEngage(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"fake-engage", "--listen", "127.0.0.1:0"}, args...), fixture.Env(nil), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fake-engage: %v", err)
		}
	})
	env := map[string]string{}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for line := range lines {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok && strings.HasPrefix(k, "EVSYNC_") {
			env[k] = v
		} else {
			env[line] = ""
		}
		if _, ok := env["EVSYNC_RC_JWT"]; ok { // the last line
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return env
		}
	}
	t.Fatalf("fake-engage ended without serving: %v", <-done)
	return nil
}

// fake-engage --churn shows changes without Go: with the exports it prints, a second sync
// records history rows, soft deletes and an api_field_changes row.
func TestFakeEngageChurn(t *testing.T) {
	t.Parallel()
	if code, _, stderr := runCLI(t, nil, "fake-engage", "--churn", "-1"); code != exitUsage || !strings.Contains(stderr, "--churn: must be zero or more, got -1") {
		t.Errorf("fake-engage --churn -1: exit %d, stderr %q; want a usage error", code, stderr)
	}

	env := startFakeEngage(t, "--churn", "2", "--seed", "5", "--sub-accounts", "1", "--agent-groups", "2", "--agents", "5", "--users", "4",
		"--queue-groups", "1", "--queues", "1", "--dial-groups", "1")
	if _, ok := env["churn: every login after the first (each sync) changes 2 agents of each kind, some users, a group, a queue and an API field first"]; !ok {
		t.Errorf("fake-engage does not announce its churn: %v", env)
	}
	pool, _ := dbtest.New(t)
	env["EVSYNC_DATABASE_URL"] = pool.Config().ConnString()
	cfg := fixture.WriteFile(t, "config.yaml", "engage:\n  requests_per_minute: 60000\n")
	for i := range 2 {
		if code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync"); code != exitOK {
			t.Fatalf("sync %d: exit %d\n%s\n%s", i+1, code, stdout, stderr)
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The second sync's entity run (each sync's streams are a run of their own).
	run2 := strconv.Itoa(count(`SELECT max(run_id) FROM engage.sync_runs WHERE trigger = 'manual'`))
	if n := count(`SELECT count(*) FROM engage.agents_history WHERE change = 'update' AND run_id = ` + run2); n < 2 {
		t.Errorf("%d agent updates in the second run's history, want the renamed and moved agents", n)
	}
	if n := count(`SELECT count(*) FROM engage.agents WHERE deleted_at IS NOT NULL AND last_run_id = ` + run2); n < 1 {
		t.Errorf("%d agents soft-deleted by the second run, want the removed one", n)
	}
	if n := count(`SELECT count(*) FROM engage.api_field_changes WHERE run_id = ` + run2 + ` AND entity = 'sub_accounts' AND path = '` + engagefake.ChurnField + `' AND change = 'added'`); n != 1 {
		t.Errorf("%d api_field_changes rows of the second run for %s, want 1", n, engagefake.ChurnField)
	}
}
