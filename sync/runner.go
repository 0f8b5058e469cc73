package sync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// ErrLocked is returned by Runner.Run when another run holds the target schema's lock.
var ErrLocked = db.ErrLocked

// Session is the part of *engageclient.Client every run uses: its session, its counters and
// the accounts listing.
type Session interface {
	Login(ctx context.Context) (*engageclient.AccessTokenUserDetails, error)
	Close(ctx context.Context) error
	Stats() engageclient.Stats
	SetLogger(l *slog.Logger)
	ListAccounts(ctx context.Context) ([]*engageclient.Account, *engageclient.Response, error)
}

// Client is the part of *engageclient.Client an entity run uses.
type Client interface {
	Session
	ListUsers(ctx context.Context, opts *engageclient.UserListOptions) ([]*engageclient.User, *engageclient.Response, error)
	ListAgentGroups(ctx context.Context, accountID string, opts *engageclient.ListOptions) ([]*engageclient.AgentGroup, *engageclient.Response, error)
	ListAgents(ctx context.Context, accountID string, agentGroupID int64) ([]*engageclient.Agent, *engageclient.Response, error)
	ListGateGroupsWithChildren(ctx context.Context, accountID string) ([]*engageclient.GateGroup, *engageclient.Response, error)
	ListGateGroupSkills(ctx context.Context, accountID string, gateGroupID int64) ([]*engageclient.GateGroupSkill, *engageclient.Response, error)
	ListGateAssignedAgents(ctx context.Context, accountID string, gateGroupID, gateID int64, opts *engageclient.ListOptions) ([]*engageclient.Agent, *engageclient.Response, error)
	ListDialGroupsWithChildren(ctx context.Context, accountID string) ([]*engageclient.DialGroup, *engageclient.Response, error)
	ListDialGroupAssignedAgents(ctx context.Context, accountID string, dialGroupID int64, opts *engageclient.ListOptions) ([]*engageclient.Agent, *engageclient.Response, error)
}

// Config says what one run syncs and how.
type Config struct {
	// Entities to sync; empty means all. An entity implies others (entity.Expand): "agents" implies
	// "agent_groups", "queues" implies "queue_groups", and so on.
	Entities []entity.Name
	// SubAccounts restricts agent groups and agents to these sub-account ids; empty means all.
	SubAccounts []string
	// DryRun fetches and stages everything, computes the publish, and rolls it back.
	DryRun bool
	// AllowMassDelete overrides the mass-delete breaker.
	AllowMassDelete bool
	// MaxDeleteFraction is the breaker's threshold per scope, greater than 0 and at most 1
	// (default MaxDeleteFractionDefault).
	MaxDeleteFraction float64
	// Concurrency bounds the scopes fetched at once, at most engageclient.ConcurrencyMax
	// (default engageclient.ConcurrencyDefault, the client's own bound); the client paces
	// requests.
	Concurrency int
	// AgentGroupPageSize pages agent-group listings when > 0 (at most PageSizeMax).
	AgentGroupPageSize int
	// AssignedAgentsPageSize pages the assigned-agents listings of queues and dial groups when
	// > 0 (stopping on a short page; at most PageSizeMax); 0 requests each full list at once.
	AssignedAgentsPageSize int
	// Trigger is recorded on the run (default TriggerDefault).
	Trigger db.Trigger
	// RequestsPerMinute is the client's pacing rate, used for the progress ETA.
	RequestsPerMinute int
	// ProgressInterval is how often ProgressFunc is called (default ProgressIntervalDefault).
	ProgressInterval time.Duration
	// ProgressFunc, when set, receives progress snapshots during the run, and one with Done set
	// at its end, whatever the end (once the run lock is taken).
	ProgressFunc func(Progress)
	// StateDir, when set, is where a run that cannot record its end (its database is away)
	// leaves its error, for the next run of its schema to record on the row it closes as
	// abandoned ("abandoned: <error>"); the error is also kept for the next run in this
	// process. The directory is created when needed.
	StateDir string
	// ExplainFunc, when set, returns what to check for an error that ends a run or fails a
	// listing (the configuration key or credential an API or network error points at), or ""
	// when it knows nothing to add. The error is logged and recorded with it: "<error>; <hint>".
	// It is asked once for each listing's error, which then fails each of the scopes it spoils
	// (or, when it leaves the sub-accounts unknown and none is stored, the run) with the hint.
	ExplainFunc func(error) string
	// KeepSession leaves the client logged in at the run's end, for a run that follows with
	// the same client (the streams after the entities: one authentication, one session);
	// the caller closes it then.
	KeepSession bool
}

// explain appends to err what cfg.ExplainFunc says to check for it.
func (c *Config) explain(err error) error {
	if err == nil || c.ExplainFunc == nil {
		return err
	}
	if h := c.ExplainFunc(err); h != "" {
		return fmt.Errorf("%w; %s", err, h)
	}
	return err
}

// Defaults Config.WithDefaults applies (MaxDeleteFractionDefault is the breaker's, in
// policy.go; Concurrency defaults to the client's own bound, engageclient.ConcurrencyDefault).
const (
	// TriggerDefault is the trigger recorded on a run whose Config names none.
	TriggerDefault = db.TriggerManual
	// ProgressIntervalDefault is how often ProgressFunc is called unless ProgressInterval says.
	ProgressIntervalDefault = 2 * time.Second
)

// PageSizeMax is the largest AgentGroupPageSize and AssignedAgentsPageSize: Engage reads maxRows
// as a 32-bit integer, and a page this large is a full list in practice.
const PageSizeMax = 100000

// WithDefaults returns c with its defaults in place: MaxDeleteFraction 0 becomes
// MaxDeleteFractionDefault, Trigger "" TriggerDefault, a Concurrency below 1
// engageclient.ConcurrencyDefault and a ProgressInterval that is not positive
// ProgressIntervalDefault.
// Entities stays as it is (empty means all). NewRunner applies it.
func (c Config) WithDefaults() Config {
	c.MaxDeleteFraction = cmp.Or(c.MaxDeleteFraction, MaxDeleteFractionDefault)
	c.Concurrency = cmp.Or(max(c.Concurrency, 0), engageclient.ConcurrencyDefault)
	c.Trigger = cmp.Or(c.Trigger, TriggerDefault)
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = ProgressIntervalDefault
	}
	return c
}

// ConfigError is one problem Config.Validate found: the Go name of the field and what is
// wrong with it.
type ConfigError struct {
	Field  string // the Config field, e.g. "MaxDeleteFraction"
	Reason string // reads after the field's name: "must be greater than 0 and at most 1, got 1.5"
}

// Error returns "sync: Config.<Field> <Reason>".
func (e *ConfigError) Error() string { return "sync: Config." + e.Field + " " + e.Reason }

// Validate checks c as a run would use it, so call it on WithDefaults' result (NewRunner
// does): a zero MaxDeleteFraction or Concurrency is reported like any other value out of
// range. It returns one *ConfigError per problem, joined (errors.As finds the first).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, e := range c.Entities {
		if _, err := entity.Parse(string(e)); err != nil {
			bad("Entities", "has an %v", err)
		}
	}
	if f := c.MaxDeleteFraction; !(f > 0 && f <= 1) { // NaN too
		bad("MaxDeleteFraction", "must be greater than 0 and at most 1, got %v", f)
	}
	if n := c.Concurrency; n < 1 || n > engageclient.ConcurrencyMax {
		bad("Concurrency", "must be an integer from 1 to %d, got %d", engageclient.ConcurrencyMax, n)
	}
	for _, p := range []struct {
		field string
		n     int
	}{{"AgentGroupPageSize", c.AgentGroupPageSize}, {"AssignedAgentsPageSize", c.AssignedAgentsPageSize}} {
		if p.n < 0 || p.n > PageSizeMax {
			bad(p.field, "must be 0 (full lists) or a page size from 1 to %d, got %d", PageSizeMax, p.n)
		}
	}
	if c.RequestsPerMinute < 0 {
		bad("RequestsPerMinute", "must not be negative, got %d", c.RequestsPerMinute)
	}
	if c.ProgressInterval <= 0 {
		bad("ProgressInterval", "must be a positive duration, got %s", c.ProgressInterval)
	}
	return errors.Join(errs...)
}

// Selects reports whether an entity takes part in a run of c: it is selected, or implied by
// one that is (entity.Expand).
func (c *Config) Selects(name entity.Name) bool {
	return slices.Contains(entity.Expand(c.Entities), name)
}

// Result is what one run did.
type Result struct {
	RunID    int64 // 0 for a dry run
	DryRun   bool
	Status   db.RunStatus
	Error    string
	Started  time.Time
	Finished time.Time
	Scopes   []db.ScopeCounts
	API      engageclient.Stats
	// Fields is what the run observed of each entity's API objects; FieldChanges the paths it
	// found added, removed or changed in type (recorded in api_field_changes, except by a
	// dry run).
	Fields       []db.EntityFields
	FieldChanges []db.FieldChange
	// Accounts is what the run's accounts listing returned, when it made one and it completed
	// (nil otherwise): a stream run after it reads them instead of listing again.
	Accounts []*engageclient.Account
}

// ScopesAmiss counts the run's scopes that failed and those whose deletes were withheld (the
// mass-delete guard): what its end and its summary report.
func (r *Result) ScopesAmiss() (failed, withheld int) {
	for _, s := range r.Scopes {
		switch s.Status {
		case db.ScopeFailed:
			failed++
		case db.ScopeWithheld:
			withheld++
		}
	}
	return failed, withheld
}

// Totals sums the scope counts per entity.
func (r *Result) Totals() map[entity.Name]db.ScopeCounts {
	out := make(map[entity.Name]db.ScopeCounts)
	for _, s := range r.Scopes {
		t := out[s.Entity]
		t.Entity = s.Entity
		t.Add(s)
		out[s.Entity] = t
	}
	return out
}

// Runner runs syncs of one tenant into one target schema.
type Runner struct {
	client Client
	store  *db.Store
	cfg    Config
	logger *slog.Logger
	// selected is cfg.Entities expanded by their implications (entity.Expand).
	selected []entity.Name
	// scoped are the selected entities scoped per sub-account; listings are the listings the
	// run makes (those a selected entity's listing lies under), parents first. Both follow
	// from selected, once.
	scoped   []*entity.Desc
	listings []*entity.Listing
}

// NewRunner returns a Runner for cfg with its defaults in place (Config.WithDefaults), or
// Config.Validate's error.
func NewRunner(client Client, store *db.Store, cfg Config, logger *slog.Logger) (*Runner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{client: client, store: store, cfg: cfg, logger: logger, selected: entity.Expand(cfg.Entities)}
	for _, n := range r.selected {
		if d := entity.Of(n); d.Scoped() {
			r.scoped = append(r.scoped, d)
		}
	}
	for _, l := range entity.Listings() {
		if slices.ContainsFunc(r.selected, func(n entity.Name) bool { return entity.Of(n).Listing.Under(l) }) {
			r.listings = append(r.listings, l)
		}
	}
	return r, nil
}

// Run performs one run: lock, record, authenticate, fetch and stage, decide, publish, finish.
// It returns a Result whenever a run was recorded (or a dry run computed), with an error for a
// run that failed (every scope failed included) or was canceled. A partial run returns its
// Result and a nil error.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	res := &Result{DryRun: r.cfg.DryRun, Started: time.Now()}
	lock, err := r.store.LockTake(ctx)
	if err != nil {
		if errors.Is(err, db.ErrLocked) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("taking the run lock: %w", err)
	}
	defer lock.Release()
	// A run that lost its lock (its session ended, or stopped answering its heartbeat) stops:
	// another run may hold the lock by now, and nothing of this one may be published.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lock.Lost():
			cancel(lock.Err())
		case <-ctx.Done():
		}
	}()
	prog := newProgress(r.listings)
	// A run's last progress report says Done, whatever its end: a display can close its line.
	defer func() {
		prog.finish()
		r.report(prog)
	}()
	logger, ident, err := r.record(ctx, res)
	if err != nil {
		return nil, err
	}
	prog.runID = res.RunID
	r.client.SetLogger(logger) // the client's log lines carry the run id too
	logger.Info("run started", "trigger", r.cfg.Trigger, "dry_run", r.cfg.DryRun)
	// Deferred before Login: a login that got a RingCentral token and then failed (the
	// exchange refused) still revokes it; RingCentral allows about five sessions per user.
	defer r.closeClient(ctx, logger)
	if err := r.run(ctx, res, lock, logger, prog); err != nil {
		return r.fail(ctx, res, logger, ident, err)
	}
	logEnd(ctx, logger, res, nil)
	if res.Status == db.RunFailed {
		// Every scope failed: what did publish (the items fetched) is recorded, and the run
		// ends as failed.
		return res, errors.New(res.Error)
	}
	return res, nil
}

// record closes the runs a dead process left running and records this one (not for a dry
// run, which leaves the database exactly as it was, those rows too). It returns the run's
// logger and its database's identity (db.Store.Identity; "" for a dry run).
func (r *Runner) record(ctx context.Context, res *Result) (*slog.Logger, string, error) {
	if r.cfg.DryRun {
		return r.logger, "", nil
	}
	ident, err := r.store.Identity(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("recording the run: %w", err)
	}
	// Holding the lock, no other run of the schema is going: a row still running is a dead
	// process's, or one whose end could not be recorded (its error kept, when known).
	known, kerr := unrecordedErrors.load(r.cfg.StateDir, ident)
	if kerr != nil {
		r.logger.Warn("reading the errors of runs that could not record their end", "err", kerr)
	}
	closed, err := r.store.RunCloseAbandoned(ctx, known)
	if err != nil {
		return nil, "", fmt.Errorf("recording the run: %w", err)
	}
	if len(closed) > 0 {
		var withErr []int64 // closed with the error their run kept
		for _, id := range closed {
			if _, ok := known[id]; ok {
				withErr = append(withErr, id)
			}
		}
		r.logger.Warn("closed runs left running by a process that died or could not record their end",
			"run_ids", closed, "status", db.RunFailed, "error", db.AbandonedError, "with_their_error", withErr)
	}
	// A file that is not this database's would be warned of on every run: it goes too.
	if len(known) > 0 || errors.Is(kerr, errUnrecordedForeign) {
		if err := unrecordedErrors.clear(r.cfg.StateDir, ident); err != nil {
			r.logger.Warn("forgetting the errors of runs now closed", "err", err)
		}
	}
	id, err := r.store.RunCreate(ctx, r.cfg.Trigger)
	if err != nil {
		return nil, "", fmt.Errorf("recording the run: %w", err)
	}
	res.RunID = id
	return r.logger.With("run_id", id), ident, nil
}

// run authenticates, fetches and stages every selected scope, decides and publishes, filling
// in res. An error means the run published nothing.
func (r *Runner) run(ctx context.Context, res *Result, lock *db.Lock, logger *slog.Logger, prog *progress) error {
	login, err := r.client.Login(ctx)
	if err != nil {
		return fmt.Errorf("authenticating: %w", err)
	}
	stage, err := r.store.StageBegin(ctx, res.RunID)
	if err != nil {
		return fmt.Errorf("starting staging: %w", err)
	}
	defer stage.Close()
	if n := stage.DryMigrations(); n > 0 {
		logger.Info("dry run: the schema's pending migrations are applied in its transaction, and roll back with it", "migrations", n)
	}
	stage.SetReconnectFunc(func(i db.ReconnectInfo) {
		logger.Warn("database connection lost; reconnected and restaged what was fetched", "err", i.Cause,
			"attempts", i.Attempts, "took", i.Took.Round(time.Millisecond), "restaged_rows", i.Restaged, "reconnections", i.Count)
	})
	f := newFetcher(r, stage, logger, prog)
	if err := f.fetchAll(ctx, login); err != nil {
		return err
	}
	res.Accounts = f.accounts
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fetching: %w", err)
	}
	plan, err := stage.Plan(ctx)
	if err != nil {
		return err
	}
	dec := Policy{MaxDeleteFraction: r.cfg.MaxDeleteFraction, AllowMassDelete: r.cfg.AllowMassDelete,
		SomeSubAccounts: len(r.cfg.SubAccounts) > 0}.Decide(plan, f.problems)
	api := r.client.Stats()
	pres, err := stage.Publish(ctx, &db.PublishParams{
		Scopes: dec.Scopes, Status: dec.Status, Error: dec.Error, DryRun: r.cfg.DryRun, WholeEntities: dec.WholeEntities,
		APIRequests: api.Requests, TokenRefreshes: api.Refreshes, Retries: api.Retries, RateLimited: api.RateLimited,
		Lock: lock, // a run that lost its lock must not publish
	})
	if err != nil {
		return err
	}
	res.Finished, res.API = time.Now(), api
	res.Status, res.Error, res.Scopes = pres.Status, pres.Error, pres.Scopes
	res.Fields, res.FieldChanges = pres.Fields, pres.FieldChanges
	logFields(logger, res)
	sort.SliceStable(res.Scopes, func(i, j int) bool { return res.Scopes[i].Entity.Order() < res.Scopes[j].Entity.Order() })
	return nil
}

// fail ends a run that published nothing: its status is StatusOf(ctx, err), and this is the
// one place that records such an end (RunFinish). An end that cannot be recorded leaves its
// error for the next run of the schema (unrecorded).
func (r *Runner) fail(ctx context.Context, res *Result, logger *slog.Logger, ident string, err error) (*Result, error) {
	if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil && !errors.Is(cause, ctx.Err()) && !errors.Is(err, cause) {
		err = fmt.Errorf("%w: %w", err, cause) // "run exceeded sync.timeout (1h0m0s)", unless err says it already
	}
	res.Finished = time.Now()
	res.API = r.client.Stats()
	res.Status = StatusOf(ctx, err)
	if res.Status != db.RunCanceled {
		err = r.cfg.explain(err)
	}
	res.Error = err.Error()
	if res.RunID != 0 {
		// Even after ctx is done: RunFinish bounds itself by the store's cleanup timeout.
		if ferr := r.store.RunFinish(ctx, &db.RunFinishParams{
			RunID: res.RunID, Status: res.Status, Error: res.Error,
			APIRequests: res.API.Requests, TokenRefreshes: res.API.Refreshes,
			Retries: res.API.Retries, RateLimited: res.API.RateLimited,
		}); ferr != nil {
			logger.Error("recording the run's end", "err", ferr)
			if serr := unrecordedErrors.save(r.cfg.StateDir, ident, res.RunID, res.Error); serr != nil {
				logger.Warn("keeping the run's error for the next run, in this process only", "err", serr)
			}
		}
	}
	logEnd(ctx, logger, res, err)
	return res, err
}

// logEnd logs the end of a run, once, with the same attributes whatever its outcome: at info
// when it published (succeeded or partial), warn when canceled, error when failed. Its error
// is the run's own, err (one that ended it before publishing): a failed or withheld scope was
// logged when it failed ("scope failed") and is only counted here, so no failure is logged
// twice.
func logEnd(ctx context.Context, logger *slog.Logger, res *Result, err error) {
	level := slog.LevelInfo
	switch res.Status {
	case db.RunCanceled:
		level = slog.LevelWarn
	case db.RunFailed:
		level = slog.LevelError
	}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	failed, withheld := res.ScopesAmiss()
	logger.Log(ctx, level, "run ended", "status", res.Status, "error", errText, "dry_run", res.DryRun,
		"duration", res.Finished.Sub(res.Started).Round(time.Millisecond),
		"api_requests", res.API.Requests, "retries", res.API.Retries, "rate_limited", res.API.RateLimited,
		"token_refreshes", res.API.Refreshes, "scopes_failed", failed, "scopes_withheld", withheld)
}

// logFields logs the entities observed for the first time and each field change: at warn
// level a removed path or a changed type that feeds a typed column, naming it (the column
// turns NULL, or its value stops parsing), at info level the others.
func logFields(logger *slog.Logger, res *Result) {
	for _, ef := range res.Fields {
		if ef.Baseline {
			logger.Info("API fields recorded as the entity's baseline", "entity", ef.Entity, "paths", ef.Paths, "dry_run", res.DryRun)
		}
		if ef.Overflow {
			logger.Warn("API objects carry more distinct paths than api_fields keeps: the smallest are recorded, the rest neither recorded nor judged",
				"entity", ef.Entity, "max_paths", db.MaxFieldPaths)
		}
	}
	for _, c := range res.FieldChanges {
		attrs := []any{"entity", c.Entity, "path", c.Path, "change", c.Change, "old_type", c.OldType, "new_type", c.NewType, "dry_run", res.DryRun}
		cols := entity.Of(c.Entity).ColumnsFed(c.Path)
		if c.Change == db.FieldAdded || len(cols) == 0 {
			logger.Info("API field changed", attrs...)
			continue
		}
		logger.Warn("API field changed under a typed column", append(attrs, "column", strings.Join(cols, ", "))...)
	}
}

// closeClient revokes the run's tokens, even after ctx is done.
func (r *Runner) closeClient(ctx context.Context, logger *slog.Logger) {
	if r.cfg.KeepSession {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.client.Close(cctx); err != nil {
		logger.Warn("revoking the RingCentral token", "err", err)
	}
}

// selects reports whether an entity takes part in the run (Config.Selects).
func (r *Runner) selects(name entity.Name) bool { return slices.Contains(r.selected, name) }

// selectsScoped reports whether the run has an entity scoped per sub-account: the sub-accounts
// must be found then.
func (r *Runner) selectsScoped() bool { return len(r.scoped) > 0 }

// report hands a progress snapshot to ProgressFunc, one call at a time.
func (r *Runner) report(p *progress) {
	if r.cfg.ProgressFunc == nil {
		return
	}
	p.reportMu.Lock()
	defer p.reportMu.Unlock()
	r.cfg.ProgressFunc(p.snapshot(r.client.Stats(), &r.cfg, time.Now()))
}
