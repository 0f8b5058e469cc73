package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestE2ETenantOnlyOnAFollower is a rolling deploy that adds a tenant: the replica that leads
// has only acme, a newer one also has newco. newco runs on its schedule, on the replica that
// has it, and the leader warns naming newco and itself.
func TestE2ETenantOnlyOnAFollower(t *testing.T) {
	t.Parallel()
	m := newMultiE2E(t, []string{"acme", "newco"}, nil, smallFake(100), `engage:
  requests_per_minute: 6000
schedule:
  cron: "*/2 * * * * *"
  seconds: true
`)
	m.mustRun(0, "migrate")
	full, err := os.ReadFile(m.config)
	if err != nil {
		t.Fatal(err)
	}
	// The old replica's config: newco's entry (its three lines) left out.
	i := strings.Index(string(full), "  - name: newco\n")
	if i < 0 {
		t.Fatalf("no newco in the config:\n%s", full)
	}
	rest := strings.SplitAfterN(string(full[i:]), "\n", 4)
	newConfig := m.config
	m.config = writeConfigFile(t, string(full[:i])+rest[len(rest)-1])
	old := m.startDaemon(t)
	// Alone, the old replica becomes the leader.
	m.waitCount(t, "SELECT count(*) FROM evsync.river_leader", 1, 30*time.Second)
	m.config = newConfig
	newer := m.startDaemon(t)
	m.waitCount(t, "SELECT count(*) FROM engage_newco.sync_runs WHERE status = 'succeeded'", 2, 60*time.Second)
	m.waitCount(t, "SELECT count(*) FROM engage_acme.sync_runs WHERE status = 'succeeded'", 2, 30*time.Second)
	for _, p := range []*daemonProc{old, newer} {
		if code, _ := p.stop(t); code != 0 {
			t.Errorf("daemon exited %d after SIGTERM, want 0; log:\n%s", code, p.log())
		}
	}
	if strings.Contains(old.log(), `"msg":"run starting","tenant":"newco"`) {
		t.Error("the replica without newco ran it")
	}
	var warned bool
	for _, l := range strings.Split(old.log(), "\n") {
		warned = warned || strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, `"tenant":"newco"`) && strings.Contains(l, `"replica":"`)
	}
	if !warned {
		t.Errorf("the leader did not warn naming newco and itself; its log:\n%s", old.log())
	}
	if got := m.count("SELECT count(*) FROM evsync.river_job WHERE args->>'tenant' = 'newco' AND state IN ('cancelled', 'discarded')"); got != 0 {
		t.Errorf("%d jobs of newco canceled or discarded", got)
	}
}

// TestE2ERunOnStartNotOnLeaderElection: run_on_start runs the tenant when the first replica
// starts; a second replica, started after that run, inserts none, nor does it when it becomes
// leader once the first one stops.
func TestE2ERunOnStartNotOnLeaderElection(t *testing.T) {
	t.Parallel()
	m := newMultiE2E(t, []string{"acme"}, nil, smallFake(110), `engage:
  requests_per_minute: 6000
schedule:
  cron: "@yearly"
  run_on_start: true
`)
	m.mustRun(0, "migrate")
	a := m.startDaemon(t)
	m.waitCount(t, "SELECT count(*) FROM engage_acme.sync_runs WHERE status = 'succeeded'", 1, 30*time.Second)
	b := m.startDaemon(t)
	b.waitLog(t, "scheduled", 30*time.Second)
	if code, _ := a.stop(t); code != 0 {
		t.Errorf("the first replica exited %d; log:\n%s", code, a.log())
	}
	// The second replica becomes leader (it inserts at once what it inserts on election), and
	// a run it queued would start within a second.
	m.waitCount(t, "SELECT count(*) FROM evsync.river_leader", 1, 30*time.Second)
	time.Sleep(3 * time.Second)
	if code, _ := b.stop(t); code != 0 {
		t.Errorf("the second replica exited %d; log:\n%s", code, b.log())
	}
	if got := m.count("SELECT count(*) FROM engage_acme.sync_runs"); got != 1 {
		t.Errorf("acme has %d runs, want the one run on start; second replica's log:\n%s", got, b.log())
	}
}
