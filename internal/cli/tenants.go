package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/oneline"
	syncrun "github.com/evsync/evsync/sync"
)

// Connections a process's pool may open: connsPerRun for each run in flight (the run's
// advisory lock holds one for the run, staging and publishing one more, and the ledger's
// short statements a third at most), plus connsSpare for the daemon's River client (its
// notifier's LISTEN, fetches, leader election) and /readyz. One pool serves every tenant, so
// the bound follows the runs in flight, never the number of tenants.
const (
	connsPerRun = 3
	connsSpare  = 4
)

// poolSize is the pool bound for runs runs in flight.
func poolSize(runs int) int32 {
	return int32(min(connsPerRun*max(runs, 1)+connsSpare, 1000)) //nolint:gosec // bounded above
}

// tenantNames lists the names of ts, for messages.
func tenantNames(ts []config.Tenant) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// selectTenants returns the tenants named by --tenant, in config order; every tenant when none
// is named. An unknown name is a usage error.
func (a *app) selectTenants(names []string) ([]config.Tenant, error) {
	all := a.cfg.Tenants()
	if len(names) == 0 {
		return all, nil
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(t config.Tenant) bool { return t.Name == n }) {
			return nil, usageErr("--tenant: unknown tenant %q (expected one of %s)", n, tenantNames(all))
		}
	}
	var out []config.Tenant
	for _, t := range all {
		if slices.Contains(names, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

// openPool connects to the database with a pool sized for runs runs in flight, failing fast
// with one line when it does not answer.
func (a *app) openPool(ctx context.Context, runs int) (*pgxpool.Pool, error) {
	pool, err := db.Open(ctx, a.cfg.Database.URL, db.WithMaxConns(poolSize(runs)))
	if err != nil {
		return nil, fmt.Errorf("connecting to the database (database.url): %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to the database (database.url): %w", err)
	}
	return pool, nil
}

// tenantStore returns the store of t's schema on pool (with opts: storeOptions), migrating the
// schema first unless told not to.
func tenantStore(ctx context.Context, pool *pgxpool.Pool, t config.Tenant, migrate bool, opts ...db.StoreOption) (*db.Store, error) {
	if migrate {
		if err := db.MigrateUp(ctx, pool, t.Schema); err != nil {
			return nil, fmt.Errorf("migrating schema %s: %w", t.Schema, err)
		}
	}
	return db.NewStore(pool, t.Schema, opts...)
}

// storeOptions are the store options the config sets: the run lock's timeout.
func storeOptions(c config.Config) []db.StoreOption {
	return []db.StoreOption{db.WithLockTimeout(c.Database.LockTimeout)}
}

// migratedForDryRun fails when schema lacks migrations: a dry run creates nothing, so it
// does not migrate, and it cannot compare against tables that are missing or out of date.
func migratedForDryRun(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	n, err := db.MigratePending(ctx, pool, schema)
	if err != nil {
		return fmt.Errorf("reading the migrations of schema %s: %w", schema, err)
	}
	if n > 0 {
		return fmt.Errorf("schema %s lacks %d migrations, and a dry run creates nothing: run 'syncer migrate up' first", schema, n)
	}
	return nil
}

// tenantLogger is the app's logger with the tenant's name on every line.
func (a *app) tenantLogger(t config.Tenant) *slog.Logger {
	if a.logger == nil {
		a.setupLogger()
	}
	return a.logger.With("tenant", t.Name)
}

// tenantResult is one tenant's outcome of a multi-tenant sync.
type tenantResult struct {
	tenant config.Tenant
	res    *syncrun.Result
	err    error
}

// syncTenants syncs each of ts on pool, at most sync.tenant_concurrency at once. Every tenant
// has its own client, lock and run record: one tenant's failure neither stops nor rolls back
// another's run.
func (a *app) syncTenants(ctx context.Context, pool *pgxpool.Pool, ts []config.Tenant, migrate bool, o syncOptions) []tenantResult {
	out := make([]tenantResult, len(ts))
	var g errgroup.Group
	g.SetLimit(max(a.cfg.Sync.TenantConcurrency, 1))
	for i, t := range ts {
		g.Go(func() error {
			out[i] = tenantResult{tenant: t}
			store, err := tenantStore(ctx, pool, t, migrate, storeOptions(a.cfg)...)
			if err == nil && o.DryRun {
				err = migratedForDryRun(ctx, pool, t.Schema)
			}
			if err != nil {
				out[i].err = err
				return nil
			}
			out[i].res, out[i].err = a.syncOnce(ctx, store, a.clientConfig(t), t, o)
			return nil // one tenant's failure is its own
		})
	}
	_ = g.Wait() // the functions return nil: each result holds its tenant's error
	return out
}

// tenantsExit is the exit of a multi-tenant sync: 1 if any tenant failed, else 3 if any was
// partial, else 4 if any found its lock taken, else 0. Its message has one line per tenant
// that did not succeed.
func tenantsExit(results []tenantResult) error {
	code := exitOK
	rank := map[int]int{exitOK: 0, exitLocked: 1, exitPartial: 2, exitFailed: 3, exitUsage: 4}
	var lines []error
	for _, r := range results {
		err := syncExit(r.res, r.err, r.tenant.Schema)
		if err == nil {
			continue
		}
		c := exitFailed
		var ee *exitError
		if errors.As(err, &ee) {
			c = ee.code
		}
		if rank[c] > rank[code] {
			code = c
		}
		lines = append(lines, prefixTenant(r.tenant.Name, err))
	}
	if code == exitOK {
		return nil
	}
	return &exitError{code: code, err: errors.Join(lines...)}
}

// printTenantLines prints one summary line per tenant of a multi-tenant sync.
func printTenantLines(w io.Writer, results []tenantResult) error {
	o := &output{w: w}
	for _, r := range results {
		o.printf("tenant %s: %s\n", r.tenant.Name, tenantLine(r))
	}
	return o.done("the tenants' summary")
}

// tenantLine is one tenant's outcome in one line: the run, its status and time, its requests
// and rows, and its error.
func tenantLine(r tenantResult) string {
	res := r.res
	switch {
	case errors.Is(r.err, syncrun.ErrLocked):
		return fmt.Sprintf("skipped: another run holds the lock on schema %s", r.tenant.Schema)
	case res == nil && r.err != nil:
		return "failed: " + oneline.Of(r.err.Error(), 0)
	case res == nil:
		return "no run"
	}
	var b strings.Builder
	if res.DryRun {
		fmt.Fprintf(&b, "dry run %s", res.Status)
	} else {
		fmt.Fprintf(&b, "run %d %s", res.RunID, res.Status)
	}
	fmt.Fprintf(&b, " in %s; %d requests", res.Finished.Sub(res.Started).Round(time.Millisecond), res.API.Requests)
	var fetched, ins, upd, del, rest int64
	for _, t := range res.Totals() {
		fetched, ins, upd, del, rest = fetched+t.Fetched, ins+t.Inserted, upd+t.Updated, del+t.Deleted, rest+t.Restored
	}
	fmt.Fprintf(&b, "; rows: %d fetched, %d inserted, %d updated, %d deleted, %d restored", fetched, ins, upd, del, rest)
	errText := res.Error
	if errText == "" && r.err != nil {
		errText = r.err.Error()
	}
	if errText != "" {
		b.WriteString("; error: " + oneline.Of(errText, 0))
	}
	return b.String()
}

// prefixTenant puts "tenant NAME: " before err's message, keeping its exit code.
func prefixTenant(name string, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err == nil {
			return err
		}
		return &exitError{code: ee.code, err: fmt.Errorf("tenant %s: %w", name, ee.err)}
	}
	return fmt.Errorf("tenant %s: %w", name, err)
}
