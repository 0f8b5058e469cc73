package main

import (
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// `syncer sync` runs under sync.timeout: an API that stops answering fails the run at the
// deadline (exit 1, recorded as failed with the reason) instead of hanging it.
func TestE2ESyncTimeoutFailsTheRun(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 61})
	e.writeConfig("engage:\n  requests_per_minute: 6000\nsync:\n  timeout: 3s\n")
	// Migrated first, so that the deadline falls on the API that hangs, not on the
	// migrations of a loaded machine (sync.timeout bounds those too).
	e.mustRun(0, "migrate", "up")
	e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Latency: time.Minute})
	r := e.mustRun(1, "sync")
	if !strings.Contains(r.stderr, "run exceeded sync.timeout (3s)") {
		t.Errorf("stderr does not say the run exceeded sync.timeout:\n%s", r.stderr)
	}
	var status, errText string
	if err := e.pool.QueryRow(t.Context(), "SELECT status, error FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "run exceeded sync.timeout (3s)") {
		t.Errorf("run recorded %s with error %q, want failed naming sync.timeout", status, errText)
	}
}
