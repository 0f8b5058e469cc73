package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// daemonProc is a `syncer run` child process whose JSON log lines are collected.
type daemonProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  strings.Builder
	done chan error
}

func (e *e2e) startDaemon(t *testing.T) *daemonProc {
	t.Helper()
	cmd := e.command(context.WithoutCancel(t.Context()), "run")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var m map[string]any
			_ = json.Unmarshal([]byte(line), &m)
			p.mu.Lock()
			p.raw.WriteString(line + "\n")
			if m != nil {
				p.logs = append(p.logs, m)
			}
			p.mu.Unlock()
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return p
}

// waitLog waits for a log line with this message and returns it.
func (p *daemonProc) waitLog(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, m := range p.logs {
			if m["msg"] == msg {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q within %s; log:\n%s", msg, timeout, p.log())
	return nil
}

func (p *daemonProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// stop sends SIGTERM and returns the exit code and how long the exit took.
func (p *daemonProc) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	return p.signal(t, syscall.SIGTERM)
}

// signal sends sig and returns the exit code (-1 when the signal killed the process) and how
// long the exit took. The daemon bounds its own stop by shutdown.grace_period (a run still
// going then makes it exit non-zero), so the wait here is only a generous bound against a
// hang, and the duration is for logs and benchmarks, not for asserts.
func (p *daemonProc) signal(t *testing.T, sig syscall.Signal) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(start)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, time.Since(start)
	case <-time.After(2 * time.Minute):
		t.Fatalf("daemon did not exit within 2 minutes of %s; log:\n%s", sig, p.log())
		return -1, 0
	}
}

func (e *e2e) waitCount(t *testing.T, sql string, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		// The daemon creates its control schema at start: a table it has not created yet
		// counts as none.
		var n int64
		err := e.pool.QueryRow(t.Context(), sql).Scan(&n)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000"):
		case err != nil:
			t.Fatalf("%s: %v", sql, err)
		case n >= want:
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s stayed below %d for %s", sql, want, timeout)
}

func TestE2EDaemonRunsServesMetricsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 61})
	e.writeConfig(`engage:
  requests_per_minute: 6000
schedule:
  cron: "@every 1s"
  seconds: true
  run_on_start: true
http:
  listen: 127.0.0.1:0
shutdown:
  grace_period: 20s
`)
	p := e.startDaemon(t)
	addr := p.waitLog(t, "serving /healthz, /readyz and /metrics", 2*time.Minute)["addr"].(string)
	base := "http://" + addr
	e.waitCount(t, "SELECT count(*) FROM engage.sync_runs WHERE status = 'succeeded'", 2, 2*time.Minute)

	if code, _ := fixture.HTTPGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := fixture.HTTPGet(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, body)
	}
	if code, body := fixture.HTTPGet(t, base+"/healthz/data"); code != 200 {
		t.Errorf("/healthz/data = %d %s", code, body)
	}
	code, body := fixture.HTTPGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	value := func(name string, label ...string) float64 {
		f := fams[name]
		if f == nil {
			t.Errorf("metric %s missing", name)
			return 0
		}
		var sum float64
	metric:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(label); i += 2 {
				ok := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == label[i] && lp.GetValue() == label[i+1] {
						ok = true
					}
				}
				if !ok {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
		return sum
	}
	if v := value("evsync_runs_total", "status", "succeeded"); v < 1 {
		t.Errorf("evsync_runs_total{status=succeeded} = %v", v)
	}
	if v := value("evsync_api_requests_total"); v < 1 {
		t.Errorf("evsync_api_requests_total = %v", v)
	}
	if v := value("evsync_rows_total", "entity", "agents", "kind", "inserted"); v != float64(e.fake.Counts().Agents) {
		t.Errorf("evsync_rows_total{entity=agents,kind=inserted} = %v, want %d", v, e.fake.Counts().Agents)
	}
	if v := value("evsync_last_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("evsync_last_success_timestamp_seconds = %v", v)
	}
	if v := value("evsync_run_duration_seconds"); v < 1 {
		t.Errorf("evsync_run_duration_seconds has %v samples", v)
	}

	// SIGTERM during a run: the run is rolled back and recorded canceled, and the process exits 0.
	gid := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(tn.AgentGroup(gid).Agents[0].ID, "firstName", "Changed")
	}); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Latency: 2 * time.Second})
	e.fake.ResetStats()
	deadline := time.Now().Add(2 * time.Minute)
	for e.fake.Stats().Requests["agents"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Exit 0 says the canceled run ended within shutdown.grace_period.
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("daemon exited %d after SIGTERM, want 0; log:\n%s", code, p.log())
	}
	if n := e.count("SELECT count(*) FROM engage.agents WHERE first_name = 'Changed'"); n != 0 {
		t.Errorf("the interrupted run published a change")
	}
	if status, _ := e.lastRun(); status != "canceled" {
		t.Errorf("interrupted run recorded %q, want canceled", status)
	}
	if n := e.count("SELECT count(*) FROM engage.sync_runs WHERE status = 'running'"); n != 0 {
		t.Errorf("%d runs left 'running'", n)
	}
}

func TestE2ETwoDaemonsNeverRunATenantTwice(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 67, Latency: 150 * time.Millisecond})
	e.writeConfig(`engage:
  requests_per_minute: 6000
schedule:
  cron: "@every 1s"
  seconds: true
  run_on_start: true
`)
	e.mustRun(0, "migrate")
	a := e.startDaemon(t)
	b := e.startDaemon(t)
	e.waitCount(t, "SELECT count(*) FROM engage.sync_runs WHERE status = 'succeeded'", 3, 60*time.Second)
	for _, p := range []*daemonProc{a, b} {
		if code, _ := p.stop(t); code != 0 {
			t.Errorf("daemon exited %d; log:\n%s", code, p.log())
		}
	}
	if n := e.count(`SELECT count(*) FROM engage.sync_runs r1 JOIN engage.sync_runs r2 ON r1.run_id < r2.run_id
		AND tstzrange(r1.started_at, coalesce(r1.finished_at, now())) && tstzrange(r2.started_at, coalesce(r2.finished_at, now()))`); n != 0 {
		t.Errorf("%d pairs of runs overlapped in time", n)
	}
	// River hands a tenant's job to one replica at a time (unique while available, scheduled,
	// running or retryable), so the advisory lock is a second line of defence that a pair of
	// replicas never reaches; before River every tick raced both daemons into it.
	if skipped := strings.Count(a.log()+b.log(), "another run holds the lock"); skipped != 0 {
		t.Errorf("a replica found the lock taken %d times; logs:\n%s\n%s", skipped, a.log(), b.log())
	}
}
