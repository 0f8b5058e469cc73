package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// SIGHUP (a closed terminal, or a config reload by habit) stops `syncer run` as cleanly as
// SIGTERM: the run in flight is canceled and recorded canceled, its River job is not left
// running (blocking the tenant until the rescuer comes), and the process exits 0.
func TestE2EDaemonSIGHUPStopsCleanly(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 71})
	e.writeConfig(`engage:
  requests_per_minute: 6000
schedule:
  cron: "@yearly"
  run_on_start: true
shutdown:
  grace_period: 20s
`)
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 2 * time.Second})
	p := e.startDaemon(t)
	deadline := time.Now().Add(2 * time.Minute)
	for e.fake.Stats().Requests["agents"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if e.fake.Stats().Requests["agents"] == 0 {
		t.Fatalf("the run on start did not reach the agents listing; log:\n%s", p.log())
	}
	if code, _ := p.signal(t, syscall.SIGHUP); code != 0 {
		t.Errorf("daemon exited %d after SIGHUP, want 0; log:\n%s", code, p.log())
	}
	if status, _ := e.lastRun(); status != "canceled" {
		t.Errorf("the run interrupted by SIGHUP recorded %q, want canceled", status)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'running'"); n != 0 {
		t.Errorf("%d runs left 'running'", n)
	}
	if n := e.count("SELECT count(*) FROM evsync.river_job WHERE state = 'running'"); n != 0 {
		t.Errorf("%d River jobs left running", n)
	}
	if reason, _ := p.waitLog(t, "stopping", time.Second)["reason"].(string); !strings.Contains(reason, "hangup") {
		t.Errorf("the stop's reason is %q, want the hangup signal named", reason)
	}
	p.waitLog(t, "stopped", time.Second)
}

// A process started with SIGHUP ignored (nohup, or a shell's trap "" HUP) keeps ignoring it:
// `nohup syncer sync &` survives the terminal closing, as it did before SIGHUP stopped runs.
func TestE2ESyncStartedWithSIGHUPIgnoredKeepsRunning(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 73})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n")
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 500 * time.Millisecond})
	cmd := exec.CommandContext(t.Context(), "sh", "-c", `trap "" HUP; exec "$0" "$@"`, syncerBinary(t), "--config", e.config, "sync")
	cmd.Env = e.env
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for e.fake.Stats().Requests["agents"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sync started with SIGHUP ignored exited %v after SIGHUP, want 0\nstderr: %s", err, errb.String())
	}
	if status, _ := e.lastRun(); status != "succeeded" {
		t.Errorf("the run recorded %q, want succeeded", status)
	}
}
