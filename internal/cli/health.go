package cli

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
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

// defaultDataCheckInterval is how old the freshness /healthz/data serves may be before a probe
// has the database read again (daemonConfig.DataCheckInterval).
const defaultDataCheckInterval = time.Minute

// dataCheckTimeout bounds one check of every tenant's freshness.
const dataCheckTimeout = time.Minute

// freshCache is every tenant's data freshness as the database last said it: read at start,
// after each of the tenant's runs, and by /healthz/data when the last check of every tenant
// is older than the data check interval (a run on another replica freshens the data too).
type freshCache struct {
	mu       sync.Mutex
	byTenant map[string]freshEntry
	checked  time.Time // when the last check of every tenant ended; zero before the first
}

// freshEntry is one tenant's freshness, or the error its last read failed with.
type freshEntry struct {
	f   freshness
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
func (d *runDaemon) checkFreshness(ctx context.Context) <-chan singleflight.Result {
	return d.checks.DoChan("freshness", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dataCheckTimeout)
		defer cancel()
		for _, t := range d.tenants {
			d.refreshLastSuccess(ctx, t)
		}
		d.fresh.markChecked()
		return nil, nil
	})
}

// checkReady asks whether the daemon can work: the database answers and River's tables do.
// However many probes ask at once, one check is in flight; a probe waits for it until ctx
// ends. The error names what failed ("database: ...", "river: ...").
func (d *runDaemon) checkReady(ctx context.Context) error {
	ch := d.checks.DoChan("ready", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if d.ready != nil {
			if err := d.ready(ctx); err != nil {
				return nil, &checkError{what: "database", err: err}
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

// checkError is a failed readiness check: what failed (database, river) and why.
type checkError struct {
	what string
	err  error
}

func (e *checkError) Error() string { return e.what + ": " + e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }
