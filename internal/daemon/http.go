package daemon

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
)

// The HTTP server's limits: a client that sends its request slowly, or keeps an idle
// connection open, cannot hold a connection (and its goroutine) for longer.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 15 * time.Second
	httpIdleTimeout       = 2 * time.Minute
)

// newHTTPServer returns the daemon's HTTP server for h, with its read and idle timeouts set.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		IdleTimeout:       httpIdleTimeout,
	}
}

// dataCheckTimeout bounds one check of every tenant's freshness.
const dataCheckTimeout = time.Minute

// freshCache is every tenant's data freshness and streams' lag as the database last said
// them: read at start, after each of the tenant's runs (stream runs: the lag), and by
// /healthz/data when the last check of every tenant is older than the data check interval (a
// run on another replica freshens the data too).
type freshCache struct {
	mu       sync.Mutex
	byTenant map[string]freshEntry
	streams  map[string]streamEntry // tenants with StreamLag
	checked  time.Time              // when the last check of every tenant ended; zero before the first
}

// streamEntry is one tenant's streams' high-water marks (highWaters), or the error their last
// read failed with.
type streamEntry struct {
	high map[entity.Name]time.Time
	err  error
}

// setStreams records the tenant's last read of its streams' lag.
func (c *freshCache) setStreams(tenant string, e streamEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams == nil {
		c.streams = map[string]streamEntry{}
	}
	c.streams[tenant] = e
}

// getStreams returns the tenant's last read of its streams' lag, and whether there is one.
func (c *freshCache) getStreams(tenant string) (streamEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.streams[tenant]
	return e, ok
}

// freshEntry is one tenant's freshness, or the error its last read failed with.
type freshEntry struct {
	f   Freshness
	err error
}

// set records the tenant's last read.
func (c *freshCache) set(tenant string, e freshEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byTenant == nil {
		c.byTenant = map[string]freshEntry{}
	}
	c.byTenant[tenant] = e
}

// get returns the tenant's last read, and whether there is one.
func (c *freshCache) get(tenant string) (freshEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byTenant[tenant]
	return e, ok
}

// due reports whether every tenant's freshness should be read again: never read, or last
// read at least interval ago.
func (c *freshCache) due(interval time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked.IsZero() || time.Since(c.checked) >= interval
}

// markChecked records that every tenant was just read.
func (c *freshCache) markChecked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked = time.Now()
}

// checkFreshness reads every tenant's freshness into the cache, one tenant after the other,
// and returns a channel that receives once that is done. However many callers ask at once,
// one check is in flight: the others wait for it. The check runs to its end (within
// dataCheckTimeout) whether or not its callers still wait.
func (d *Daemon) checkFreshness(ctx context.Context) <-chan singleflight.Result {
	return d.checks.DoChan("freshness", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dataCheckTimeout)
		defer cancel()
		for _, t := range d.tenants {
			d.refreshLastSuccess(ctx, t)
			d.refreshStreamLag(ctx, t)
		}
		d.fresh.markChecked()
		return nil, nil
	})
}

// checkReady asks whether the daemon can work: the database answers, every tenant's schema is
// migrated, this replica's River runs and its tables answer. Nothing in it waits for a run.
// However many probes ask at once, one check is in flight; a probe waits for it until ctx
// ends. The error names what failed ("database: ...", "migrations: ...", "river: ...").
func (d *Daemon) checkReady(ctx context.Context) error {
	ch := d.checks.DoChan("ready", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if d.ready != nil {
			if err := d.ready(ctx); err != nil {
				return nil, &checkError{what: "database", err: err}
			}
		}
		for _, t := range d.tenants {
			if t.Migrated == nil {
				continue
			}
			if err := t.Migrated(ctx); err != nil {
				return nil, &checkError{what: "migrations", err: fmt.Errorf("%s%w", d.tenantRef(t.Name), err)}
			}
		}
		if d.riverReady != nil {
			if err := d.riverReady(ctx); err != nil {
				return nil, &checkError{what: "river", err: err}
			}
		}
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return fmt.Errorf("the check did not end in time: %w", context.Cause(ctx))
	}
}

// checkError is a failed readiness check: what failed (database, migrations, river) and why.
type checkError struct {
	what string
	err  error
}

func (e *checkError) Error() string { return e.what + ": " + e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// Handler serves /healthz, /healthz/data, /readyz and /metrics (Run serves it on Listen).
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /healthz/data", d.handleData)
	mux.HandleFunc("GET /readyz", d.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	return mux
}

// handleReady answers 200 when the daemon can work: the database answers, every tenant's
// schema is migrated, this replica's River runs and its tables answer (a control schema
// dropped under a running daemon leaves River retrying and logging, and nothing runs); 503
// with a one-line reason naming which failed otherwise. It never waits for a run: a replica
// is ready seconds after it starts. One check is in flight however many probes ask. Whether
// the data is fresh is /healthz/data's.
func (d *Daemon) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := d.checkReady(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %s\n", oneline.Of(err.Error(), 0))
		return
	}
	_, _ = io.WriteString(w, "ready: the database answers, its schemas are migrated and River runs\n")
}

// handleData answers 200 when every tenant's synced entities are fresh: each one's last
// complete run (entity_Freshness) finished less than ReadyStaleness ago, and no stream of the
// tenant's (StreamLag) lags more than ReadyStaleness; 503 with a one-line reason naming the
// stale tenant and entity or stream otherwise. It answers from the Freshness read at
// start and after each run; when the last read of every tenant is older than
// DataCheckInterval it has them read again first, one check in flight however many probes
// ask, and waits for it up to 5 s.
func (d *Daemon) handleData(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if d.fresh.due(d.cfg.DataCheckInterval) {
		select {
		case <-d.checkFreshness(ctx):
		case <-ctx.Done(): // answer from what was read before
		}
	}
	notFresh := func(format string, args ...any) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not fresh: "+format+"\n", args...)
	}
	var least Freshness
	leastTenant := ""
	for _, t := range d.tenants {
		name := t.Name
		f := Freshness{At: d.metrics.lastSuccessTime(name)}
		if t.LastSuccess != nil {
			e, ok := d.fresh.get(name)
			switch {
			case !ok:
				notFresh("%snot read yet: the database has not answered", d.tenantRef(name))
				return
			case e.err != nil:
				notFresh("%sreading the last successful run: %s", d.tenantRef(name), oneline.Of(e.err.Error(), 0))
				return
			}
			f = e.f
		}
		if reason := d.staleReason(f); reason != "" {
			notFresh("%s%s", d.tenantRef(name), reason)
			return
		}
		if reason := d.streamsStaleReason(t); reason != "" {
			notFresh("%s%s", d.tenantRef(name), reason)
			return
		}
		if leastTenant == "" || f.At.Before(least.At) {
			least, leastTenant = f, name
		}
	}
	age := time.Since(least.At)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "fresh: every synced entity is complete as of %s ago (%s; the least fresh, %s%s, in run%s)\n",
		age.Round(time.Second), least.At.UTC().Format(time.RFC3339), d.tenantRef(leastTenant), least.Entity, runRef(least.RunID))
}

// staleReason says why f is not fresh, or "" when it is.
func (d *Daemon) staleReason(f Freshness) string {
	if f.At.IsZero() {
		if f.Entity != "" {
			return fmt.Sprintf("%s has never been complete (a scope of it has not completed in any run)", f.Entity)
		}
		return "no successful run yet"
	}
	if age := time.Since(f.At); age > d.cfg.ReadyStaleness {
		return fmt.Sprintf("%s is stale: its last complete run%s finished %s ago (%s), more than http.ready_staleness (%s)",
			f.Entity, runRef(f.RunID), age.Round(time.Second), f.At.UTC().Format(time.RFC3339), d.cfg.ReadyStaleness)
	}
	return ""
}

// streamsStaleReason says why t's streams are not fresh (their lag was not read, or the worst
// one lags more than ReadyStaleness), or "" when they are or t has no StreamLag. The lag is
// the time since the high-water mark last read: it grows between reads.
func (d *Daemon) streamsStaleReason(t Tenant) string {
	if t.StreamLag == nil {
		return ""
	}
	e, ok := d.fresh.getStreams(t.Name)
	switch {
	case !ok:
		return "the streams' lag not read yet: the database has not answered"
	case e.err != nil:
		return "reading the streams' lag: " + oneline.Of(e.err.Error(), 0)
	}
	var worst entity.Name
	for _, s := range slices.Sorted(maps.Keys(e.high)) {
		if worst == "" || e.high[s].Before(e.high[worst]) {
			worst = s
		}
	}
	if worst == "" {
		return ""
	}
	if lag := time.Since(e.high[worst]); lag > d.cfg.ReadyStaleness {
		return fmt.Sprintf("stream %s lags %s: its windows are read up to %s, more than http.ready_staleness (%s) ago",
			worst, lag.Round(time.Second), e.high[worst].UTC().Format(time.RFC3339), d.cfg.ReadyStaleness)
	}
	return ""
}

// tenantRef is "tenant acme: " in the messages of a daemon with named tenants, and "" for the
// single tenant of a config without a tenants list.
func (d *Daemon) tenantRef(name string) string {
	if len(d.tenants) == 1 && name == d.cfg.DefaultTenant {
		return ""
	}
	return "tenant " + name + ": "
}

// runRef is " 12" for a known run id, "" otherwise.
func runRef(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf(" %d", id)
}
