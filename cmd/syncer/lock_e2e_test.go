package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// The lock dies with its holder, for real: a `syncer sync` stopped by SIGSTOP mid-fetch holds
// its tenant's lock for database.lock_timeout at most; another sync then takes the lock and
// succeeds. The stopped one, continued, finds that it lost the lock and fails without
// publishing. Before, the lock stayed with the stopped process (until TCP keepalive gave up,
// hours later) and every other sync exited 4.
func TestE2EFrozenSyncLosesItsLock(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 97})
	e.writeConfig("database:\n  lock_timeout: 2s\nengage:\n  requests_per_minute: 6000\n")
	e.mustRun(0, "migrate")
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 5 * time.Minute})
	frozen := e.command(t.Context(), "sync")
	var out bytes.Buffer
	frozen.Stdout, frozen.Stderr = &out, &out
	if err := frozen.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = frozen.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = frozen.Process.Kill() // SIGKILL ends a stopped process too
		<-exited
	})
	fixture.Eventually(t, "the first sync to fetch agents", func() bool { return e.fake.Stats().Requests["agents"] > 0 })
	if err := frozen.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	e.fake.ClearFaults()

	deadline := time.Now().Add(2 * time.Minute) // generous: the lock dies 2 s after the stop
	for {
		r := e.run("sync")
		if r.code == 0 {
			break
		}
		if r.code != exitLocked || time.Now().After(deadline) {
			t.Fatalf("sync beside a stopped holder: exit %d, want 4 and then 0\nstderr:\n%s", r.code, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := frozen.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		t.Fatal("the continued sync did not end")
	}
	err := waitErr
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailed || !strings.Contains(out.String(), "lost the advisory lock of schema engage") {
		t.Fatalf("continued sync: %v, want exit 1 saying it lost the advisory lock; output:\n%s", err, out.String())
	}
	// The stopped run's row was closed by the run that took the lock; nothing else was
	// recorded, and the tables are the second run's.
	if n := e.count(`SELECT count(*) FROM engage.sync_runs WHERE (run_id = 1 AND status = 'failed' AND error = 'abandoned')
 OR (run_id = 2 AND status = 'succeeded')`); n != 2 {
		t.Errorf("sync_runs: want run 1 failed/abandoned and run 2 succeeded, and no other")
	}
	if n := e.count(`SELECT count(*) FROM engage.sync_runs`); n != 2 {
		t.Errorf("%d runs recorded, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.agents WHERE last_run_id <> 2`); n != 0 {
		t.Errorf("%d agents published by another run than the second", n)
	}
}
