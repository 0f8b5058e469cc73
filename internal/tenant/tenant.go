// Package tenant is one tenant's run, for `sync`, `backfill` and the daemon alike: the client,
// runner and store built from a tenant's configuration, every tenant of a command with bounded
// concurrency, and the one connection pool they share, sized by the runs in flight (never by
// the number of tenants).
package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
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

// PoolSize is the pool bound for runs runs in flight.
func PoolSize(runs int) int32 {
	return int32(min(connsPerRun*max(runs, 1)+connsSpare, 1000)) //nolint:gosec // bounded above
}

// OpenPool connects to the database at url with a pool sized for runs runs in flight, failing
// fast with one line, naming the key and variable to check, when it does not answer.
func OpenPool(ctx context.Context, url string, runs int) (*pgxpool.Pool, error) {
	pool, err := db.Open(ctx, url, db.WithMaxConns(PoolSize(runs)))
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w; check database.url (%s)", err, config.EnvDatabaseURL)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to the database: %w; check database.url (%s)", err, config.EnvDatabaseURL)
	}
	return pool, nil
}

// StoreOptions are the store options the config sets: the run lock's timeout.
func StoreOptions(c config.Config) []db.StoreOption {
	return []db.StoreOption{db.WithLockTimeout(c.Database.LockTimeout)}
}

// Store returns the store of t's schema on pool (with opts: StoreOptions), migrating the
// schema first unless told not to.
func Store(ctx context.Context, pool *pgxpool.Pool, t config.Tenant, migrate bool, opts ...db.StoreOption) (*db.Store, error) {
	if migrate {
		if err := db.MigrateUp(ctx, pool, t.Schema); err != nil {
			return nil, fmt.Errorf("migrating schema %s: %w", t.Schema, err)
		}
	}
	return db.NewStore(pool, t.Schema, opts...)
}

// MigrateAll migrates every tenant's schema, calling done (when not nil) after each.
func MigrateAll(ctx context.Context, pool *pgxpool.Pool, tenants []config.Tenant, done func(config.Tenant)) error {
	for _, t := range tenants {
		if err := db.MigrateUp(ctx, pool, t.Schema); err != nil {
			return fmt.Errorf("migrating schema %s (tenant %s): %w", t.Schema, t.Name, err)
		}
		if done != nil {
			done(t)
		}
	}
	return nil
}

// CheckMigrated fails when schema lacks migrations: a run told not to migrate cannot write to
// tables that are missing or out of date.
func CheckMigrated(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	n, err := db.MigratePending(ctx, pool, schema)
	if err != nil {
		return fmt.Errorf("reading the migrations of schema %s: %w", schema, err)
	}
	if n > 0 {
		return fmt.Errorf("schema %s is not migrated (it lacks %d migrations); run 'syncer migrate up' or drop --no-migrate", schema, n)
	}
	return nil
}

// RunStore returns the store of t's schema on pool (with opts: StoreOptions) for a run:
// migrated first when migrate is set, and required to be migrated already when it is not
// (CheckMigrated). A dry run migrates nothing that lasts: its stage applies the pending
// migrations in the dry run's own transaction, which it rolls back (db.Store.StageBegin).
func RunStore(ctx context.Context, pool *pgxpool.Pool, t config.Tenant, migrate, dryRun bool, opts ...db.StoreOption) (*db.Store, error) {
	if !migrate {
		if err := CheckMigrated(ctx, pool, t.Schema); err != nil {
			return nil, err
		}
	}
	return Store(ctx, pool, t, migrate && !dryRun, opts...)
}

// ErrConfig is matched by the errors of a run that cannot start because its configuration is
// refused (by the client or the runner): retrying it cannot help, and the CLI reports it as a
// usage error.
var ErrConfig = errors.New("the configuration is refused")

// configError is an error of ErrConfig: its own text, matching ErrConfig.
type configError struct{ err error }

func (e *configError) Error() string        { return e.err.Error() }
func (e *configError) Unwrap() error        { return e.err }
func (e *configError) Is(target error) bool { return target == ErrConfig }

// Options are the per-invocation choices of one run.
type Options struct {
	Entities        []entity.Name
	SubAccounts     []string
	DryRun          bool
	AllowMassDelete bool
	Trigger         db.Trigger
	LogProgress     bool // report progress in the log even on a terminal (several runs at once)
	// Streams are the streams read after the entities (nil: the tenant's streams.enabled);
	// NoEntities syncs no entity, NoStreams reads no stream. A dry run reads no stream.
	Streams    []entity.Name
	NoEntities bool
	NoStreams  bool
}

// ProgressFunc returns how a run reports its progress to logger (logOnly: in the log even on
// a terminal), and how often.
type ProgressFunc func(logger *slog.Logger, logOnly bool) (func(syncrun.Progress), time.Duration)

// Runs runs tenants: what every run of a process shares.
type Runs struct {
	Config    config.Config
	Logger    *slog.Logger // each tenant's lines get its name (Logger)
	UserAgent string
	// StateDir is where a run that cannot record its end leaves its error for the next
	// process's run (syncrun.Config.StateDir); "" for nowhere.
	StateDir string
	Progress ProgressFunc // nil: no progress reports
}

// TenantLogger is the logger of t's lines: the process's, with the tenant's name on each.
func (r *Runs) TenantLogger(t config.Tenant) *slog.Logger {
	return r.Logger.With("tenant", t.Name)
}

// ClientConfig maps a tenant's config onto its client's: every tenant has its own client
// (token source, limiter, exchange window).
func (r *Runs) ClientConfig(t config.Tenant) engageclient.Config {
	return engageclient.Config{
		RCServerURL:       t.RingCentral.ServerURL,
		ClientID:          t.RingCentral.ClientID,
		ClientSecret:      t.RingCentral.ClientSecret,
		JWT:               t.RingCentral.JWT,
		EngageServerURL:   t.Engage.ServerURL,
		RefreshMargin:     t.Engage.RefreshMargin,
		RequestsPerMinute: t.Engage.RequestsPerMinute,
		Concurrency:       t.Engage.Concurrency,
		MaxRetryWait:      t.Engage.MaxRetryWait,
		MaxListingRows:    t.Engage.MaxListingRows,
		ReportingLimits:   reportingLimits(t.Streams.ReportingLimits),
		UserAgent:         r.UserAgent,
		Logger:            r.TenantLogger(t),
	}
}

// reportingLimits are streams.reporting_limits as the client's.
func reportingLimits(ls []config.RateLimit) []engageclient.Limit {
	out := make([]engageclient.Limit, len(ls))
	for i, l := range ls {
		out[i] = engageclient.Limit{Count: l.Count, Per: l.Per}
	}
	return out
}

// Sync runs one sync of tenant t with a fresh client (ccfg) against store. A configuration
// the client or the runner refuses is an error of ErrConfig.
func (r *Runs) Sync(ctx context.Context, store *db.Store, ccfg engageclient.Config, t config.Tenant, o Options) (*syncrun.Result, error) {
	client, err := engageclient.New(ccfg)
	if err != nil {
		return nil, &configError{err}
	}
	return r.sync(ctx, store, client, ccfg, t, o, false)
}

// sync is Sync with client; keep leaves its session open for a stream run to follow.
func (r *Runs) sync(ctx context.Context, store *db.Store, client *engageclient.Client, ccfg engageclient.Config,
	t config.Tenant, o Options, keep bool) (*syncrun.Result, error) {
	entities := o.Entities
	if len(entities) == 0 {
		entities = t.Sync.Entities
	}
	scfg := syncrun.Config{
		Entities:               entities,
		SubAccounts:            o.SubAccounts,
		DryRun:                 o.DryRun,
		AllowMassDelete:        o.AllowMassDelete,
		MaxDeleteFraction:      t.Sync.MaxDeleteFraction,
		AssignedAgentsPageSize: t.Engage.AssignedAgentsPageSize,
		Concurrency:            ccfg.Concurrency,
		RequestsPerMinute:      ccfg.RequestsPerMinute,
		Trigger:                o.Trigger,
		StateDir:               r.StateDir,
		KeepSession:            keep,
		ExplainFunc:            func(err error) string { return Explain(t, r.Config.MultiTenant(), err) },
	}
	logger := r.TenantLogger(t)
	if r.Progress != nil {
		scfg.ProgressFunc, scfg.ProgressInterval = r.Progress(logger, o.LogProgress)
	}
	runner, err := syncrun.NewRunner(client, store, scfg, logger)
	if err != nil {
		return nil, &configError{err}
	}
	return runner.Run(ctx)
}

// Result is one tenant's outcome of a multi-tenant sync.
type Result struct {
	Tenant config.Tenant
	Res    *syncrun.Result // nil when no entity run was made (or it could not start: Err)
	Err    error
	// Streams and StreamsErr are the stream run's, when one was made.
	Streams    *syncrun.StreamResult
	StreamsErr error
	// StreamsRan says a stream run was made (Streams may still be nil: StreamsErr).
	StreamsRan bool
}

// SyncAll syncs each of ts on pool, at most sync.tenant_concurrency at once, migrating each
// schema first when migrate is set and requiring it migrated when not (RunStore; a dry run
// applies the migrations in its own transaction and rolls them back). Every
// tenant has its own client, lock and run record: one tenant's failure neither stops nor rolls
// back another's run.
func (r *Runs) SyncAll(ctx context.Context, pool *pgxpool.Pool, ts []config.Tenant, migrate bool, o Options) []Result {
	return r.eachTenant(ctx, pool, ts, migrate, o.DryRun, false, func(store *db.Store, t config.Tenant) Result {
		return r.syncTenant(ctx, store, t, o)
	})
}

// eachTenant runs run for each of ts on its store from pool, at most sync.tenant_concurrency
// at once, each schema migrated first when migrate is set and required migrated when not
// (RunStore; dryRun migrates in the run's own transaction). A store that cannot be had is the
// tenant's error: its entity run's, or its stream run's when that is all it makes
// (streamsOnly).
func (r *Runs) eachTenant(ctx context.Context, pool *pgxpool.Pool, ts []config.Tenant, migrate, dryRun, streamsOnly bool,
	run func(*db.Store, config.Tenant) Result) []Result {
	out := make([]Result, len(ts))
	var g errgroup.Group
	g.SetLimit(max(r.Config.Sync.TenantConcurrency, 1))
	for i, t := range ts {
		g.Go(func() error {
			store, err := RunStore(ctx, pool, t, migrate, dryRun, StoreOptions(r.Config)...)
			switch {
			case err != nil && streamsOnly:
				out[i] = Result{Tenant: t, StreamsRan: true, StreamsErr: err}
			case err != nil:
				out[i] = Result{Tenant: t, Err: err}
			default:
				out[i] = run(store, t)
			}
			return nil // one tenant's failure is its own
		})
	}
	_ = g.Wait() // the functions return nil: each result holds its tenant's error
	return out
}

// StreamsAll runs one stream run of each of ts on pool (a backfill when o.Backfill is set), at
// most sync.tenant_concurrency at once, each schema migrated first when migrate is set and
// required migrated when not (RunStore). Each tenant's result holds its stream run.
func (r *Runs) StreamsAll(ctx context.Context, pool *pgxpool.Pool, ts []config.Tenant, migrate bool, o StreamOptions) []Result {
	return r.eachTenant(ctx, pool, ts, migrate, false, true, func(store *db.Store, t config.Tenant) Result {
		res, err := r.Streams(ctx, store, r.ClientConfig(t), t, o)
		return Result{Tenant: t, StreamsRan: true, Streams: res, StreamsErr: err}
	})
}

// syncTenant runs t's entities and then its streams' due windows (as o selects) with one
// client: one authentication, one session, closed at the end. The streams are not read after
// an entity run that was stopped, or whose configuration or credentials were refused: they
// would fail the same way.
func (r *Runs) syncTenant(ctx context.Context, store *db.Store, t config.Tenant, o Options) Result {
	out := Result{Tenant: t}
	ccfg := r.ClientConfig(t)
	client, err := engageclient.New(ccfg)
	if err != nil {
		out.Err = &configError{err}
		return out
	}
	so := StreamOptions{Streams: o.Streams, SubAccounts: o.SubAccounts, Trigger: db.TriggerStreams, LogProgress: o.LogProgress}
	streams := !o.NoStreams && !o.DryRun && len(StreamsOf(t, so)) > 0
	if !o.NoEntities {
		out.Res, out.Err = r.sync(ctx, store, client, ccfg, t, o, streams)
		if streams && (ctx.Err() != nil || Final(out.Err)) {
			streams = false
			r.closeClient(ctx, client, t)
		}
	}
	if streams {
		if out.Res != nil {
			so.accounts = out.Res.Accounts // listed once per sync
		}
		out.StreamsRan = true
		out.Streams, out.StreamsErr = r.streams(ctx, store, client, ccfg, t, so)
	}
	return out
}

// Final reports whether err is a run's refusal that another try cannot mend: its
// configuration refused (ErrConfig), or RingCentral refusing its credentials.
func Final(err error) bool {
	var ae *engageclient.AuthError
	return errors.Is(err, ErrConfig) || (errors.As(err, &ae) && ae.Fatal())
}

// closeClient ends client's session, even after ctx is done.
func (r *Runs) closeClient(ctx context.Context, client *engageclient.Client, t config.Tenant) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := client.Close(cctx); err != nil {
		r.TenantLogger(t).Warn("revoking the RingCentral token", "err", err)
	}
}

// StreamOptions are the per-invocation choices of one stream run.
type StreamOptions struct {
	// Streams to read; nil means the tenant's streams.enabled.
	Streams     []entity.Name
	SubAccounts []string
	// Backfill, when set, makes the run a backfill of that range.
	Backfill    *syncrun.Backfill
	Trigger     db.Trigger
	LogProgress bool // report progress in the log even on a terminal (several runs at once)
	// accounts are the entity run's accounts, for a stream run after it (syncTenant).
	accounts []*engageclient.Account
}

// StreamsOf returns the streams a stream run of t with options o reads.
func StreamsOf(t config.Tenant, o StreamOptions) []entity.Name {
	if o.Streams != nil {
		return o.Streams
	}
	return t.Streams.Enabled
}

// Streams runs one stream run of tenant t with a fresh client (ccfg) against store: the due
// windows of its streams (or a backfill). A configuration the client or the engine refuses is
// an error of ErrConfig.
func (r *Runs) Streams(ctx context.Context, store *db.Store, ccfg engageclient.Config, t config.Tenant, o StreamOptions) (*syncrun.StreamResult, error) {
	client, err := engageclient.New(ccfg)
	if err != nil {
		return nil, &configError{err}
	}
	return r.streams(ctx, store, client, ccfg, t, o)
}

// streams is Streams with client, which the run logs out at its end.
func (r *Runs) streams(ctx context.Context, store *db.Store, client *engageclient.Client, ccfg engageclient.Config,
	t config.Tenant, o StreamOptions) (*syncrun.StreamResult, error) {
	loc, err := t.Streams.Location()
	if err != nil {
		r.closeClient(ctx, client, t) // an entity run may have left its session to this one
		return nil, &configError{err}
	}
	scfg := syncrun.StreamsConfig{
		Streams:           StreamsOf(t, o),
		SubAccounts:       o.SubAccounts,
		Start:             t.Streams.Start.Time(time.Now()),
		AuditWindow:       t.Streams.AuditWindow,
		Window:            t.Streams.Window,
		FirstDelay:        t.Streams.FirstDelay,
		SettleAfter:       t.Streams.SettleAfter,
		Redact:            t.Streams.Redact,
		Location:          loc,
		Backfill:          o.Backfill,
		Accounts:          o.accounts,
		Concurrency:       ccfg.Concurrency,
		RequestsPerMinute: ccfg.RequestsPerMinute,
		Trigger:           o.Trigger,
		ExplainFunc:       func(err error) string { return Explain(t, r.Config.MultiTenant(), err) },
	}
	logger := r.TenantLogger(t)
	if r.Progress != nil {
		scfg.ProgressFunc, scfg.ProgressInterval = r.Progress(logger, o.LogProgress)
	}
	runner, err := syncrun.NewStreamRunner(client, store, scfg, logger)
	if err != nil {
		r.closeClient(ctx, client, t) // an entity run may have left its session to this one
		return nil, &configError{err}
	}
	return runner.Run(ctx)
}
