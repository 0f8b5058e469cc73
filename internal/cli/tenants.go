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

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

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
	return tenant.OpenPool(ctx, a.cfg.Database.URL, runs)
}

// tenantLogger is the app's logger with the tenant's name on every line.
func (a *app) tenantLogger(t config.Tenant) *slog.Logger {
	return a.runs().TenantLogger(t)
}

// runs is what the app's tenant runs share: its config, logger, user agent, state directory
// and progress display.
func (a *app) runs() *tenant.Runs {
	if a.logger == nil {
		a.setupLogger()
	}
	return &tenant.Runs{Config: a.cfg, Logger: a.logger, UserAgent: userAgent(),
		StateDir: a.stateDir(), Progress: a.progressReporter}
}

// tenantsExit is each tenant's exit code (syncCode) and the exit of the sync, code only: 2 if
// any tenant's configuration was refused, else 1 if any failed, else 3 if any was partial,
// else 4 if any found its lock taken, else 0 (nil). Each failure is printed by its run's log,
// its tenant's line or document, or unloggedExit.
func tenantsExit(results []tenant.Result) (codes []int, exit error) {
	code := exitOK
	codes = make([]int, len(results))
	for i, r := range results {
		codes[i] = syncCode(r.Res, r.Err)
		if r.StreamsRan {
			codes[i] = worseCode(codes[i], streamCode(r.Streams, r.StreamsErr))
		}
		code = worseCode(code, codes[i])
	}
	if code == exitOK {
		return codes, nil
	}
	return codes, &exitError{code: code}
}

// printTenantLines prints one summary line per tenant of a multi-tenant sync.
func printTenantLines(w io.Writer, results []tenant.Result) error {
	o := &output{w: w}
	for _, r := range results {
		o.printf("tenant %s: %s\n", r.Tenant.Name, tenantLine(r))
	}
	return o.done("the tenants' summary")
}

// tenantLine is one tenant's outcome in one line: its entity run and its stream run, each with
// its status and time, its requests and rows, and its error.
func tenantLine(r tenant.Result) string {
	var parts []string
	if r.Res != nil || r.Err != nil {
		parts = append(parts, entityLine(r))
	}
	if r.StreamsRan {
		parts = append(parts, streamLine(r.Streams, r.StreamsErr))
	}
	if len(parts) == 0 {
		return "no run"
	}
	return strings.Join(parts, "; ")
}

// streamLine is a stream run's outcome in tenantLine.
func streamLine(res *syncrun.StreamResult, err error) string {
	switch {
	case errors.Is(err, syncrun.ErrLocked):
		return "streams skipped: another process is reading the windows of every sub-account needed"
	case res == nil && err != nil:
		return "streams failed: " + oneline.Of(err.Error(), 0)
	case res == nil:
		return "no stream run"
	}
	read, failed, left := res.Windows()
	var sum db.WindowCounts
	for _, s := range res.Scopes {
		sum.Fetched, sum.Inserted = sum.Fetched+s.Counts.Fetched, sum.Inserted+s.Counts.Inserted
	}
	line := fmt.Sprintf("stream run %d %s in %s; %d windows read, %d failed, %d left due; rows: %d fetched, %d inserted",
		res.RunID, res.Status, res.Finished.Sub(res.Started).Round(time.Millisecond), read, failed, left, sum.Fetched, sum.Inserted)
	if res.Status == db.RunFailed || res.Status == db.RunCanceled {
		line += " (the error is in the log)"
	}
	return line
}

// entityLine is an entity run's outcome in tenantLine.
func entityLine(r tenant.Result) string {
	res := r.Res
	switch {
	case errors.Is(r.Err, syncrun.ErrLocked):
		return fmt.Sprintf("skipped: another run holds the lock on schema %s", r.Tenant.Schema)
	case res == nil && r.Err != nil:
		return "failed: " + oneline.Of(r.Err.Error(), 0)
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
	var sum db.ScopeCounts
	for _, t := range res.Totals() {
		sum.Add(t)
	}
	fmt.Fprintf(&b, "; rows: %d fetched, %d inserted, %d updated, %d deleted, %d restored",
		sum.Fetched, sum.Inserted, sum.Updated, sum.Deleted, sum.Restored)
	// The run logged its errors (tenant=NAME): the line counts the scopes that did not succeed.
	failed, withheld := res.ScopesAmiss()
	if failed > 0 {
		fmt.Fprintf(&b, "; %d scopes failed", failed)
	}
	if withheld > 0 {
		fmt.Fprintf(&b, "; %d scopes withheld their deletes", withheld)
	}
	if res.Status == db.RunFailed || res.Status == db.RunCanceled {
		b.WriteString(" (the error is in the log)")
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
