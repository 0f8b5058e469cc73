package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

// stringList is a repeatable flag of comma-separated values. An empty value or element
// ("", "1,,2") is an error: it would otherwise silently widen what the flag selects (an empty
// --sub-account list means every sub-account).
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			return errors.New("got an empty value, want one or more comma-separated values")
		}
		*s = append(*s, p)
	}
	return nil
}

// Type names the flag's value in the usage, as pflag's own lists do.
func (s *stringList) Type() string { return "strings" }

// parseEntities validates a comma-separated entity list named by key. Every element must be
// an entity: an empty one ("", "agents,,users") is an error, not "the default".
func parseEntities(key, v string) ([]entity.Name, error) {
	return parseNames(key, "entity", v, entity.Parse, config.EntityNames(","))
}

// parseNames validates a comma-separated list of kind's names (entities, streams) named by
// key: each element must be one that parse accepts (names lists them, for the error).
func parseNames(key, kind, v string, parse func(string) (entity.Name, error), names string) ([]entity.Name, error) {
	var out []entity.Name
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, usageErr("%s: empty %s in %q (expected a comma-separated subset of %s)", key, kind, v, names)
		}
		if _, err := parse(e); err != nil {
			return nil, usageErr("%s: unknown %s %q (expected a comma-separated subset of %s)", key, kind, e, names)
		}
		out = append(out, entity.Name(e))
	}
	return out, nil
}

// openStore connects to the database (failing fast with one line when it does not answer) and,
// unless told not to, migrates the top level's schema: the store of demo.
func (a *app) openStore(ctx context.Context, migrate bool) (*pgxpool.Pool, *db.Store, error) {
	pool, err := a.openPool(ctx, 1)
	if err != nil {
		return nil, nil, err
	}
	store, err := tenant.Store(ctx, pool, a.cfg.TopLevelTenant(), migrate, tenant.StoreOptions(a.cfg)...)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pool, store, nil
}

// stateDir is where a run that cannot record its end (its database away) leaves its error
// for the next process's run to record (syncrun.Config.StateDir): $XDG_CACHE_HOME/evsync, else
// $HOME/.cache/evsync, else nowhere (the next run of this process still gets it).
func (a *app) stateDir() string {
	if d := a.getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "evsync")
	}
	if h := a.getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "evsync")
	}
	return ""
}

// syncCode is the exit code of a run that returned res and err (runCode).
func syncCode(res *syncrun.Result, err error) int {
	var status db.RunStatus
	if res != nil {
		status = res.Status
	}
	return runCode(status, err)
}

// runCode is the exit code of a run, of the entities or the streams, that ended with status
// (when it has a result) and err: 4 when it found its lock taken (a stream run: every
// sub-account it needed), an exitError's own code, 2 for a configuration it refused, 1 when
// it failed or was canceled, 3 when partial, else 0.
func runCode(status db.RunStatus, err error) int {
	var ee *exitError
	switch {
	case errors.Is(err, syncrun.ErrLocked):
		return exitLocked
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, tenant.ErrConfig):
		return exitUsage
	case err != nil:
		return exitFailed
	case status == db.RunPartial:
		return exitPartial
	}
	return exitOK
}

// syncExit turns a run's result into the command's exit (syncCode). A run that has a result
// logged its end, its error included ("run ended"), so its exit is the code alone; one that
// never started (the lock taken, a schema not migrated) says why.
func syncExit(res *syncrun.Result, err error, schema string) error {
	code := syncCode(res, err)
	var ee *exitError
	switch {
	case code == exitOK:
		return nil
	case res != nil:
		return &exitError{code: code}
	case errors.Is(err, syncrun.ErrLocked):
		return &exitError{code: code, err: fmt.Errorf("another run holds the lock on schema %s; nothing was done", schema)}
	case errors.As(err, &ee):
		return err
	}
	return &exitError{code: code, err: err}
}

// syncFlags are the flags of sync.
type syncFlags struct {
	tenants         stringList
	entities        string
	streams         string
	subAccounts     stringList
	dryRun          bool
	allowMassDelete bool
	noMigrate       bool
	output          *formatFlag
}

func newSyncCmd(a *app) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync [--tenant NAME]... [--entities LIST] [--streams LIST] [--sub-account ID]... [--dry-run] [--allow-mass-delete] [--no-migrate]",
		Short: "run one sync now (backfill, or the entry point for an external cron)",
		Args:  noArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, _ []string) error {
			var ents, streams []entity.Name
			entsSet, streamsSet := cmd.Flags().Changed("entities"), cmd.Flags().Changed("streams")
			if entsSet { // an explicit empty list is an error
				var err error
				if ents, err = parseEntities("--entities", f.entities); err != nil {
					return err
				}
			}
			if streamsSet {
				var err error
				if streams, err = parseStreams("--streams", f.streams); err != nil {
					return err
				}
			}
			// Naming one kind only syncs that kind; naming both, both; neither, the config's.
			o := tenant.Options{Entities: ents, Streams: streams, NoEntities: streamsSet && !entsSet, NoStreams: entsSet && !streamsSet}
			return cmdSync(cmd.Context(), a, &f, o)
		}),
	}
	fs := cmd.Flags()
	fs.Var(&f.tenants, "tenant", "sync tenant `NAME` only (repeatable); default every tenant")
	fs.StringVar(&f.entities, "entities", "", "comma-separated `LIST` of entities to sync ("+config.EntityNames(",")+"); default sync.entities")
	fs.StringVar(&f.streams, "streams", "", "comma-separated `LIST` of streams whose due windows to read ("+config.StreamNames(",")+"); default streams.enabled")
	fs.Var(&f.subAccounts, "sub-account", "sync the per-sub-account entities and streams of sub-account `ID` only (repeatable)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "fetch and stage, print what would change, write nothing")
	fs.BoolVar(&f.allowMassDelete, "allow-mass-delete", false, "publish deletes even where a scope would lose more than sync.max_delete_fraction of its rows")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply pending migrations first")
	f.output = addFormatFlag(cmd, formatJSON)
	return cmd
}

// cmdSync syncs the tenants f selects: the entities and streams o selects (nil: each tenant's
// sync.entities and streams.enabled).
func cmdSync(ctx context.Context, a *app, f *syncFlags, o tenant.Options) error {
	selected, err := a.selectTenants(f.tenants)
	if err != nil {
		return err
	}
	if o.NoEntities && f.dryRun {
		return usageErr("--dry-run reads no stream: with --streams alone it would do nothing (add --entities, or drop --dry-run)")
	}
	ctx, cancel, pool, err := a.startRuns(ctx, selected)
	if err != nil {
		return err
	}
	defer cancel()
	defer pool.Close()
	o.SubAccounts, o.DryRun, o.AllowMassDelete, o.Trigger, o.LogProgress = f.subAccounts, f.dryRun, f.allowMassDelete, db.TriggerManual, len(selected) > 1
	// A dry run creates nothing: it migrates in its own transaction, which it rolls back.
	return a.reportRuns(a.runs().SyncAll(ctx, pool, selected, !f.noMigrate, o), f.output)
}

// startRuns prepares the runs of the tenants selected: the credentials required, the logger,
// the deadline of sync.timeout (every API and database call of the runs, migrating included,
// stops at it; cancel releases it) and a pool sized for the runs at once.
func (a *app) startRuns(ctx context.Context, selected []config.Tenant) (context.Context, context.CancelFunc, *pgxpool.Pool, error) {
	if err := a.cfg.RequireCredentials(); err != nil {
		return nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	a.setupLogger()
	ctx, cancel := context.WithTimeoutCause(ctx, a.cfg.Sync.Timeout, fmt.Errorf("run exceeded sync.timeout (%s)", a.cfg.Sync.Timeout))
	pool, err := a.openPool(ctx, min(len(selected), max(a.cfg.Sync.TenantConcurrency, 1)))
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, cancel, pool, nil
}

// reportRuns prints the results of a sync or a backfill (as output asks: a document, one
// tenant's summaries, or a line per tenant) and returns the command's exit. Each failure is
// printed once. A run logs its own ("scope failed", "run ended"); what went wrong before a run
// could start (the lock taken, a schema not migrated) is printed by the document, the
// tenants' lines, or else the exit's line on stderr (unloggedExit).
func (a *app) reportRuns(results []tenant.Result, output *formatFlag) error {
	codes, exit := tenantsExit(results)
	multi := a.cfg.MultiTenant()
	switch {
	case output.is(formatJSON):
		if err := writeJSON(a.stdout, "the run's summary", syncDocOf(results, codes, exitOf(exit))); err != nil {
			a.logger.Warn("the run's summary was not shown", "err", err.Error())
			return unloggedExit(results, exit, multi)
		}
		return exit
	case len(results) == 1:
		r := results[0]
		if multi {
			a.tell("tenant %s (schema %s):\n", r.Tenant.Name, r.Tenant.Schema)
		}
		if r.Res != nil {
			a.reportSummary(r.Res)
		}
		if r.Streams != nil {
			if err := printStreamSummary(a.stdout, r.Streams); err != nil {
				a.logger.Warn("the stream run's summary was not shown", "run_id", r.Streams.RunID, "err", err.Error())
			}
		}
		return unloggedExit(results, exit, multi)
	default:
		if err := printTenantLines(a.stdout, results); err != nil {
			a.logger.Warn("the tenants' summary was not shown", "err", err.Error())
			return unloggedExit(results, exit, multi)
		}
		return exit
	}
}

// unloggedExit is exit (a sync's, code only) with the failures of results that no run logged
// (syncExit's messages; each naming its tenant when the config has a tenants list): the exit
// of a sync whose results were not otherwise printed.
func unloggedExit(results []tenant.Result, exit error, multiTenant bool) error {
	if exit == nil {
		return nil
	}
	var lines []error
	for _, r := range results {
		for _, err := range []error{unloggedSyncExit(r), streamExit(r.Streams, r.StreamsErr)} {
			if err == nil {
				continue
			}
			if multiTenant {
				err = prefixTenant(r.Tenant.Name, err)
			}
			lines = append(lines, err)
		}
	}
	return &exitError{code: exitOf(exit), err: errors.Join(lines...)}
}

// unloggedSyncExit is the line of r's entity run when it never started (syncExit's), else nil.
func unloggedSyncExit(r tenant.Result) error {
	if r.Res != nil || r.Err == nil {
		return nil
	}
	return syncExit(r.Res, r.Err, r.Tenant.Schema)
}

// reportSummary prints a run's summary on stdout. The exit code stays the run's (the data is
// published or not either way): a summary that cannot be written is logged.
func (a *app) reportSummary(res *syncrun.Result) {
	if err := printSummary(a.stdout, res); err != nil {
		a.logger.Warn("the run's summary was not shown", "run_id", res.RunID, "err", err.Error())
	}
}

// printSummary prints a run's outcome and its per-entity counts.
func printSummary(w io.Writer, res *syncrun.Result) error {
	o := &output{w: w}
	dur := res.Finished.Sub(res.Started).Round(time.Millisecond)
	if res.DryRun {
		o.printf("dry run %s in %s: nothing was written; this is what a run would do\n", res.Status, dur)
	} else {
		o.printf("run %d %s in %s\n", res.RunID, res.Status, dur)
	}
	o.printf("api: %d requests, %d retries, %d rate-limited (429), %d token refreshes\n",
		res.API.Requests, res.API.Retries, res.API.RateLimited, res.API.Refreshes)
	if len(res.Scopes) > 0 {
		tw := o.table(tabwriter.AlignRight)
		if res.DryRun {
			tw.printf("entity\tfetched\twould insert\twould update\tunchanged\twould delete\twould restore\t\n")
		} else {
			tw.printf("entity\tfetched\tinserted\tupdated\tunchanged\tdeleted\trestored\t\n")
		}
		totals := res.Totals()
		for _, e := range entity.Names() {
			t, ok := totals[e]
			if !ok {
				continue
			}
			tw.printf("%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", e, t.Fetched, t.Inserted, t.Updated, t.Unchanged, t.Deleted, t.Restored)
		}
		tw.flush()
	}
	printRunFields(o, res.DryRun, res.Fields, res.FieldChanges)
	// Each failure is printed once: a failed scope's error is in its log line ("scope failed"),
	// and the error that ended a run in "run ended", so the summary only names the failed
	// scopes. A withheld scope's reason is logged nowhere else.
	var failed []string
	for _, s := range res.Scopes {
		switch s.Status {
		case db.ScopeFailed:
			failed = append(failed, string(s.Entity)+"/"+oneline.Escape(s.Scope))
		case db.ScopeWithheld:
			o.printf("scope %s/%s %s: %s\n", s.Entity, oneline.Escape(s.Scope), s.Status, oneline.Of(s.Error, 0))
		}
	}
	if len(failed) > 0 {
		o.printf("failed scopes (each error is in its log line \"scope failed\"): %s\n", strings.Join(failed, ", "))
	}
	return o.done("the run's summary")
}

// migrateVerbs are the directions of migrate; the first is the default.
var migrateVerbs = []string{"up", "down", "status"}

func newMigrateCmd(a *app) *cobra.Command {
	var (
		names  stringList
		yes    bool
		output *formatFlag
	)
	cmd := &cobra.Command{
		Use:   "migrate [up|down|status] [--tenant NAME]... [--yes]",
		Short: "apply (up), roll back one (down; --yes when it drops rows) or list (status) the migrations",
		Long: "down rolls back the latest migration while holding the schema's run lock (exit 4 when a run\n" +
			"holds it); when that drops tables that hold rows, it needs --yes (exit 2 without)",
		ValidArgs: migrateVerbs,
		Args:      migrateArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, args []string) error {
			verb := migrateVerbs[0]
			if len(args) > 0 {
				verb = args[0]
			}
			if verb != "status" && !output.is(formatText) {
				return usageErr("migrate %s: --output is for migrate status only", verb)
			}
			return cmdMigrate(cmd.Context(), a, verb, yes, names, output)
		}),
	}
	output = addFormatFlag(cmd, formatJSON)
	cmd.Flags().BoolVar(&yes, "yes", false, "migrate down: drop tables even when they hold rows (the rows and their history are lost)")
	cmd.Flags().Var(&names, "tenant", "migrate the schema of tenant `NAME` only (repeatable); default every tenant")
	return cmd
}

// migrateArgs accepts at most one argument, the direction of migrate.
func migrateArgs(_ *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageErr("migrate: unexpected argument %q (expected one of up, down, status)", args[1])
	}
	if len(args) == 1 && !slices.Contains(migrateVerbs, args[0]) {
		return usageErr("migrate: unknown direction %q (expected up, down or status)", args[0])
	}
	return nil
}

// cmdMigrate migrates the schemas of the tenants names selects in the direction verb; yes
// allows down to drop tables that hold rows; output is the format of status.
func cmdMigrate(ctx context.Context, a *app, verb string, yes bool, names []string, output *formatFlag) error {
	tenants, err := a.selectTenants(names)
	if err != nil {
		return err
	}
	a.setupLogger()
	pool, err := a.openPool(ctx, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch verb {
	case "up":
		if err := a.migrateControl(ctx, pool); err != nil {
			return err
		}
		return tenant.MigrateAll(ctx, pool, tenants, func(t config.Tenant) { a.tell("schema %s is up to date\n", t.Schema) })
	case "down":
		if len(tenants) > 1 {
			return usageErr("migrate down: name the one tenant to roll back with --tenant (the config has %s)", tenantNames(tenants))
		}
		return a.migrateDown(ctx, pool, tenants[0].Schema, yes)
	case "status":
		if output.is(formatJSON) {
			return a.migrateStatusJSON(ctx, pool, tenants)
		}
		for _, t := range tenants {
			if len(tenants) > 1 {
				a.tell("schema %s (tenant %s):\n", t.Schema, t.Name)
			}
			if err := db.MigrateStatus(ctx, pool, t.Schema, a.stdout); err != nil {
				return fmt.Errorf("reading migration status of schema %s: %w", t.Schema, err)
			}
		}
	}
	return nil
}

// migrateStatusJSON writes the migrations of each tenant's schema as one document.
func (a *app) migrateStatusJSON(ctx context.Context, pool *pgxpool.Pool, tenants []config.Tenant) error {
	doc := migrateStatusDoc{Tenants: []migrateTenantDoc{}}
	for _, t := range tenants {
		ms, err := db.MigrationsGet(ctx, pool, t.Schema)
		if err != nil {
			return fmt.Errorf("reading migration status of schema %s: %w", t.Schema, err)
		}
		doc.Tenants = append(doc.Tenants, migrateTenantDocOf(t.Name, ms))
	}
	return writeJSON(a.stdout, "the migration status", doc)
}

// migrateControl keeps River's tables up to date in the control schema when it exists (the
// daemon's first start creates it; `migrate up` before `run --no-migrate` must upgrade River
// too), and leaves a missing one missing: use without the daemon needs neither the schema
// nor the privilege to create it.
func (a *app) migrateControl(ctx context.Context, pool *pgxpool.Pool) error {
	control := a.cfg.Database.ControlSchema
	ok, err := db.SchemaExists(ctx, pool, control)
	if err != nil || !ok {
		return err
	}
	if err := daemon.Migrate(ctx, pool, control); err != nil {
		return err
	}
	a.tell("control schema %s (River's tables) is up to date\n", control)
	return nil
}

// migrateDown rolls back the latest migration; yes allows it to drop tables that hold rows.
func (a *app) migrateDown(ctx context.Context, pool *pgxpool.Pool, schema string, yes bool) error {
	plan, err := db.MigrateDown(ctx, pool, schema, yes)
	var lost *db.RowsLostError
	switch {
	case errors.Is(err, db.ErrLocked):
		return &exitError{code: exitLocked, err: fmt.Errorf("another run holds the lock on schema %s; nothing was rolled back", schema)}
	case errors.As(err, &lost):
		return usageErr("migrate down: %v; nothing was rolled back: pass --yes to drop them", lost)
	case err != nil:
		return err
	case plan.Version == 0:
		a.tell("schema %s: no migration to roll back\n", schema)
	default:
		a.tell("schema %s: rolled back migration %d (%s), dropping %d tables and %d rows\n",
			schema, plan.Version, plan.Path, len(plan.Tables), plan.Rows())
	}
	return nil
}

// tell prints a line about a change the command has made to the database. The exit code stays
// the change's (it is made either way): a line that cannot be written is logged.
func (a *app) tell(format string, args ...any) {
	if _, err := fmt.Fprintf(a.stdout, format, args...); err != nil {
		a.logger.Warn("writing to stdout", "err", err.Error())
	}
}

func newConfigCmd(a *app) *cobra.Command {
	var output *formatFlag
	cmd := &cobra.Command{
		Use:   "config",
		Short: "print the effective configuration with secrets masked",
		Args:  cobra.ArbitraryArgs, // ignored, as they always were
		RunE:  a.withConfig(func(*cobra.Command, []string) error { return cmdConfig(a, output) }),
	}
	output = addFormatFlag(cmd, formatJSON)
	return cmd
}

// cmdConfig prints the effective configuration, its secrets masked: as YAML, or (output json)
// as one document.
func cmdConfig(a *app, output *formatFlag) error {
	if output.is(formatJSON) {
		return writeJSON(a.stdout, "the configuration", a.cfg.MaskedJSON())
	}
	if _, err := fmt.Fprint(a.stdout, a.cfg.Masked()); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	return nil
}
