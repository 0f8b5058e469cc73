package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsync/evsync/internal/testing/fixture"
)

// A client that sends its request slowly or keeps its connection idle cannot hold the
// daemon's connections: the server has read and idle timeouts, besides the header one.
func TestDaemonHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("the HTTP server's %s is %s, want it set", name, d)
		}
	}
	if srv.ReadTimeout < srv.ReadHeaderTimeout {
		t.Errorf("ReadTimeout %s is shorter than ReadHeaderTimeout %s", srv.ReadTimeout, srv.ReadHeaderTimeout)
	}
}

// dbProbe stands for a tenant's freshness query: it counts the queries, and the most in flight
// at once.
type dbProbe struct {
	calls, inFlight, maxInFlight atomic.Int32
}

func (p *dbProbe) lastSuccess(context.Context) (Freshness, error) {
	p.calls.Add(1)
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxInFlight.Load()
		if n <= m || p.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond) // a query's round trip, long enough for probes to pile up
	return Freshness{Entity: "agents", RunID: 1, At: time.Now().Add(-time.Hour)}, nil
}

// probeTenants returns n tenants (never run: @yearly) whose freshness queries go to p.
func probeTenants(t *testing.T, n int, p *dbProbe) []Tenant {
	var tenants []Tenant
	for i := range n {
		tn := testTenant(t, fmt.Sprintf("t%02d", i), "@yearly", false, func(context.Context, string) (Outcome, error) {
			return Outcome{Status: "succeeded"}, nil
		})
		tn.LastSuccess = p.lastSuccess
		tenants = append(tenants, tn)
	}
	return tenants
}

// getAll sends n concurrent GETs of url and returns the status codes and bodies seen.
func getAll(t *testing.T, url string, n int) map[int][]string {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		got = map[int][]string{}
	)
	for range n {
		wg.Go(func() {
			code, body := fixture.HTTPGet(t, url)
			mu.Lock()
			defer mu.Unlock()
			got[code] = append(got[code], body)
		})
	}
	wg.Wait()
	return got
}

// Many concurrent /healthz/data probes, each wanting the data read again (a check interval of
// 1 ns), cause one database check at a time, not one per probe and tenant: 200 tenants and 20
// concurrent probes used to take the runs' pool and all answer 503 after 5 s.
func TestHealthzDataChecksTheDatabaseOnceAtATime(t *testing.T) {
	t.Parallel()
	const tenants, probes, rounds = 20, 40, 3
	p := &dbProbe{}
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0", DataCheckInterval: time.Nanosecond}, probeTenants(t, tenants, p)...)
	stop := startDaemon(t, d)
	<-d.listening
	for range rounds {
		got := getAll(t, "http://"+d.Addr()+"/healthz/data", probes)
		if len(got[http.StatusOK]) != probes {
			t.Errorf("/healthz/data answered %v, want %d × 200", got, probes)
		}
	}
	if m := p.maxInFlight.Load(); m != 1 {
		t.Errorf("%d freshness queries were in flight at once, want 1", m)
	}
	// At start and for each probe that found no check in flight: far fewer than probes × tenants.
	if c := p.calls.Load(); c > tenants*(1+rounds*probes/4) {
		t.Errorf("%d freshness queries for %d probes of %d tenants, want them shared", c, rounds*probes, tenants)
	}
	t.Logf("%d freshness queries for %d probes of %d tenants", p.calls.Load(), rounds*probes, tenants)
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// /healthz/data answers from what was read at start and after runs: probes within the data
// check interval read nothing, a run's end reads its tenant again, and a probe after the
// interval reads every tenant once.
func TestHealthzDataServesTheCache(t *testing.T) {
	t.Parallel()
	p := &dbProbe{}
	tenants := probeTenants(t, 3, p)
	ran := make(chan struct{})
	tenants[0] = testTenant(t, "t00", "@yearly", true, func(context.Context, string) (Outcome, error) {
		<-ran
		return Outcome{Status: "succeeded"}, nil
	})
	tenants[0].LastSuccess = p.lastSuccess
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0", DataCheckInterval: time.Hour}, tenants...)
	stop := startDaemon(t, d)
	<-d.listening
	url := "http://" + d.Addr() + "/healthz/data"
	if code, body := fixture.HTTPGet(t, url); code != http.StatusOK {
		t.Fatalf("/healthz/data = %d %q, want 200", code, body)
	}
	if c := p.calls.Load(); c != 3 {
		t.Errorf("%d freshness queries at start, want 3 (one per tenant)", c)
	}
	getAll(t, url, 20)
	if c := p.calls.Load(); c != 3 {
		t.Errorf("%d freshness queries after 20 probes within the check interval, want still 3", c)
	}
	close(ran)
	fixture.Eventually(t, "the run's end to read its tenant's freshness", func() bool { return p.calls.Load() == 4 })
	d.fresh.mu.Lock()
	d.fresh.checked = time.Now().Add(-2 * time.Hour) // the interval has passed
	d.fresh.mu.Unlock()
	getAll(t, url, 20)
	if c := p.calls.Load(); c != 7 {
		t.Errorf("%d freshness queries after probes past the check interval, want 7 (one more each)", c)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// /readyz follows River: with its control schema dropped under the running daemon, River
// only logs, nothing runs, and /readyz says not ready and why.
func TestReadyzFollowsRiver(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River to turn unhealthy: skipped with -short")
	}
	t.Parallel()
	tn := testTenant(t, "acme", "@yearly", false, func(context.Context, string) (Outcome, error) {
		return Outcome{Status: "succeeded"}, nil
	})
	tn.LastSuccess = func(context.Context) (Freshness, error) {
		return Freshness{Entity: "agents", RunID: 1, At: time.Now().Add(-time.Hour)}, nil
	}
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0"}, tn)
	stop := startDaemon(t, d)
	<-d.listening
	url := "http://" + d.Addr() + "/readyz"
	fixture.Eventually(t, "/readyz to answer 200 once River runs", func() bool { code, _ := fixture.HTTPGet(t, url); return code == http.StatusOK })
	if _, err := d.pool.Exec(t.Context(), "DROP SCHEMA "+controlSchema+" CASCADE"); err != nil {
		t.Fatal(err)
	}
	code, body := fixture.HTTPGet(t, url)
	if want := "not ready: river: "; code != http.StatusServiceUnavailable || !strings.HasPrefix(body, want) || !strings.Contains(body, "does not exist") {
		t.Errorf("/readyz with River's schema dropped = %d %q, want 503 with %q naming the missing table", code, body, want)
	}
	_ = stop() // River may report its dropped tables while stopping; the test is about /readyz
}

// /readyz says whether the replica can work, never whether a run has happened: a daemon just
// started on a migrated database is ready while its first run is still in flight; a tenant
// schema that is not migrated makes it 503, naming the tenant and what its check said; and a
// replica whose River has not started is not ready even when another replica's River has
// registered the queue in the shared control schema.
func TestReadyzBeforeTheFirstRunEnds(t *testing.T) {
	t.Parallel()
	var (
		mu         sync.Mutex
		migrateErr error
		runCalled  = make(chan struct{})
		release    = make(chan struct{})
	)
	run := func(ctx context.Context, _ string) (Outcome, error) {
		close(runCalled)
		select {
		case <-release:
			return Outcome{Status: StatusSucceeded}, nil
		case <-ctx.Done():
			return Outcome{Status: StatusCanceled}, ctx.Err()
		}
	}
	tn := testTenant(t, "acme", "@yearly", true, run)
	tn.Migrated = func(context.Context) error { mu.Lock(); defer mu.Unlock(); return migrateErr }
	d := newTestDaemon(t, Config{Listen: "127.0.0.1:0"}, tn)
	if err := d.checkReady(t.Context()); err == nil || !strings.HasPrefix(err.Error(), "river: ") {
		t.Errorf("checkReady before Run = %v, want a river: error", err)
	}
	stop := startDaemon(t, d)
	<-d.listening
	url := "http://" + d.Addr() + "/readyz"
	<-runCalled
	fixture.Eventually(t, "/readyz to answer 200 during the first run", func() bool { code, _ := fixture.HTTPGet(t, url); return code == http.StatusOK })
	if n := counterValue(d, "acme", string(StatusSucceeded)); n != 0 {
		t.Fatalf("%v runs ended before the probe: the test is about a run in flight", n)
	}

	// A second replica on the same database, built but not started: the queue is registered
	// (by the first), yet this one cannot work.
	other, err := New(d.pool, Config{ControlSchema: controlSchema, Logger: fixture.TestLogger(t)}, []Tenant{testTenant(t, "acme", "@yearly", false, run)})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.checkReady(t.Context()); err == nil || !strings.Contains(err.Error(), "river: this replica's River client is not running") {
		t.Errorf("checkReady of a replica not started = %v, want it not ready (river)", err)
	}

	mu.Lock()
	migrateErr = errors.New("schema engage_acme is not migrated: 3 migrations pending")
	mu.Unlock()
	code, body := fixture.HTTPGet(t, url)
	if want := "not ready: migrations: tenant acme: schema engage_acme is not migrated: 3 migrations pending\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("/readyz with the schema not migrated = %d %q, want 503 %q", code, body, want)
	}
	close(release)
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
