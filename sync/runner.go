package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
)

// Entity names, as used in `--entities`, `sync_run_scopes.entity` and the table names.
const (
	EntityAccounts    = "accounts"
	EntitySubAccounts = "sub_accounts"
	EntityUsers       = "users"
	EntityAgentGroups = "agent_groups"
	EntityAgents      = "agents"
)

// AllEntities lists every entity a run can sync, in the order they are fetched.
var AllEntities = []string{EntityAccounts, EntitySubAccounts, EntityUsers, EntityAgentGroups, EntityAgents}

// scopeAll is the scope of the entities that have one scope per run.
const scopeAll = "all"

// Run statuses, as stored in sync_runs.status.
const (
	StatusSucceeded = "succeeded"
	StatusPartial   = "partial"
	StatusFailed    = "failed"
	StatusCanceled  = "canceled"
)

// ErrLocked is returned by Runner.Run when another run holds the target schema's lock.
var ErrLocked = db.ErrLocked

// Client is the part of *engageclient.Client a run uses.
type Client interface {
	Login(ctx context.Context) (*engageclient.AccessTokenUserDetails, error)
	Close(ctx context.Context) error
	Stats() engageclient.Stats
	SetLogger(l *slog.Logger)
	ListAccounts(ctx context.Context) ([]*engageclient.Account, *engageclient.Response, error)
	ListUsers(ctx context.Context, opts *engageclient.UserListOptions) ([]*engageclient.User, *engageclient.Response, error)
	ListAgentGroups(ctx context.Context, accountID string, opts *engageclient.ListOptions) ([]*engageclient.AgentGroup, *engageclient.Response, error)
	ListAgents(ctx context.Context, accountID string, agentGroupID int64) ([]*engageclient.Agent, *engageclient.Response, error)
}

// Config says what one run syncs and how.
type Config struct {
	// Entities to sync; empty means all. "agents" implies "agent_groups" and "sub_accounts"
	// implies "accounts".
	Entities []string
	// SubAccounts restricts agent groups and agents to these sub-account ids; empty means all.
	SubAccounts []string
	// DryRun fetches and stages everything, computes the publish, and rolls it back.
	DryRun bool
	// AllowMassDelete overrides the mass-delete breaker.
	AllowMassDelete bool
	// MaxDeleteFraction is the breaker's threshold per scope (default 0.5).
	MaxDeleteFraction float64
	// Concurrency bounds the scopes fetched at once (default 4); the client paces requests.
	Concurrency int
	// AgentGroupPageSize pages agent-group listings when > 0.
	AgentGroupPageSize int
	// Trigger is recorded on the run: "schedule", "manual" or "demo" (default "manual").
	Trigger string
	// RequestsPerMinute is the client's pacing rate, used for the progress ETA.
	RequestsPerMinute int
	// ProgressInterval is how often Progress is called (default 2s).
	ProgressInterval time.Duration
	// ProgressFunc, when set, receives progress snapshots during the run and once at its end.
	ProgressFunc func(Progress)
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	for _, e := range c.Entities {
		if !slices.Contains(AllEntities, e) {
			return fmt.Errorf("entities: unknown entity %q (expected one of accounts, sub_accounts, users, agent_groups, agents)", e)
		}
	}
	if c.MaxDeleteFraction == 0 {
		c.MaxDeleteFraction = 0.5
	}
	if c.MaxDeleteFraction < 0 || c.MaxDeleteFraction > 1 {
		return fmt.Errorf("max_delete_fraction: must be in (0,1], got %v", c.MaxDeleteFraction)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Trigger == "" {
		c.Trigger = "manual"
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = 2 * time.Second
	}
	return nil
}

// Selects reports whether entity takes part in a run of c: it is selected, or implied by one
// that is (agents imply agent_groups; sub_accounts imply accounts).
func (c *Config) Selects(entity string) bool { return c.selected(entity) }

// selected reports whether an entity takes part in this run.
func (c *Config) selected(entity string) bool {
	if len(c.Entities) == 0 {
		return true
	}
	if slices.Contains(c.Entities, entity) {
		return true
	}
	// Agents are found through their groups, and sub-accounts reference their main accounts
	// (which come from the same listing, at no extra request).
	return (entity == EntityAgentGroups && slices.Contains(c.Entities, EntityAgents)) ||
		(entity == EntityAccounts && slices.Contains(c.Entities, EntitySubAccounts))
}

// Result is what one run did.
type Result struct {
	RunID    int64 // 0 for a dry run
	DryRun   bool
	Status   string
	Error    string
	Started  time.Time
	Finished time.Time
	Scopes   []db.ScopeCounts
	API      engageclient.Stats
}

// Totals sums the scope counts per entity.
func (r *Result) Totals() map[string]db.ScopeCounts {
	out := make(map[string]db.ScopeCounts)
	for _, s := range r.Scopes {
		t := out[s.Entity]
		t.Entity = s.Entity
		t.Fetched += s.Fetched
		t.Inserted += s.Inserted
		t.Updated += s.Updated
		t.Unchanged += s.Unchanged
		t.Deleted += s.Deleted
		t.Restored += s.Restored
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
}

// NewRunner returns a Runner; cfg is validated.
func NewRunner(client Client, store *db.Store, cfg Config, logger *slog.Logger) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{client: client, store: store, cfg: cfg, logger: logger}, nil
}

// Run performs one run: lock, record, authenticate, fetch and stage, publish, finish.
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

	logger := r.logger
	if !r.cfg.DryRun {
		// Holding the lock, no other run of the schema is going: a row still running is a
		// dead process's. (A dry run leaves the database exactly as it was, those rows too.)
		closed, err := r.store.RunCloseAbandoned(ctx)
		if err != nil {
			return nil, fmt.Errorf("recording the run: %w", err)
		}
		if len(closed) > 0 {
			logger.Warn("closed runs left running by a process that died", "run_ids", closed, "status", StatusFailed, "error", db.AbandonedError)
		}
		id, err := r.store.RunCreate(ctx, r.cfg.Trigger)
		if err != nil {
			return nil, fmt.Errorf("recording the run: %w", err)
		}
		res.RunID = id
		logger = logger.With("run_id", id)
	}
	r.client.SetLogger(logger) // the client's log lines carry the run id too
	logger.Info("run started", "trigger", r.cfg.Trigger, "dry_run", r.cfg.DryRun)

	published := false
	fail := func(err error) (*Result, error) {
		if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil && !errors.Is(cause, ctx.Err()) {
			err = fmt.Errorf("%w: %v", err, cause) // "run exceeded sync.timeout (1h0m0s)"
		}
		res.Finished = time.Now()
		res.API = r.client.Stats()
		res.Status = StatusFailed
		if errors.Is(ctx.Err(), context.Canceled) {
			res.Status = StatusCanceled // a timeout (deadline) is a failure, a stop request is not
		}
		res.Error = err.Error()
		if !published && res.RunID != 0 {
			// Even after ctx is done: RunFinish bounds itself by the store's cleanup timeout.
			if ferr := r.store.RunFinish(ctx, &db.RunFinishParams{
				RunID: res.RunID, Status: res.Status, Error: res.Error,
				APIRequests: res.API.Requests, TokenRefreshes: res.API.Refreshes,
				Retries: res.API.Retries, RateLimited: res.API.RateLimited,
			}); ferr != nil {
				logger.Error("recording the run's end", "err", ferr)
			}
		}
		logger.Error("run ended", "status", res.Status, "err", err)
		return res, err
	}

	// Close before Login returns: a login that got a RingCentral token and then failed (the
	// exchange refused) still revokes it; RingCentral allows about five sessions per user.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := r.client.Close(cctx); err != nil {
			logger.Warn("revoking the RingCentral token", "err", err)
		}
	}()
	login, err := r.client.Login(ctx)
	if err != nil {
		return fail(fmt.Errorf("authenticating: %w", err))
	}

	stage, err := r.store.StageBegin(ctx, res.RunID)
	if err != nil {
		return fail(fmt.Errorf("starting staging: %w", err))
	}
	defer stage.Close()

	f := newFetcher(r, stage, logger)
	f.progress.runID = res.RunID
	if err := f.fetchAll(ctx, login); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("fetching: %w", err))
	}

	api := r.client.Stats()
	pres, err := stage.Publish(ctx, &db.PublishParams{
		Problems:          f.problems,
		DryRun:            r.cfg.DryRun,
		AllowMassDelete:   r.cfg.AllowMassDelete,
		MaxDeleteFraction: r.cfg.MaxDeleteFraction,
		APIRequests:       api.Requests,
		TokenRefreshes:    api.Refreshes,
		Retries:           api.Retries,
		RateLimited:       api.RateLimited,
		Lock:              lock, // a run that lost its lock must not publish
	})
	// Publish finishes the run itself, whether it commits or fails.
	published = true
	if err != nil {
		return fail(fmt.Errorf("publishing: %w", err))
	}
	res.Finished = time.Now()
	res.API = api
	res.Status = pres.Status
	res.Error = pres.Error
	res.Scopes = pres.Scopes
	sort.SliceStable(res.Scopes, func(i, j int) bool {
		return entityOrder(res.Scopes[i].Entity) < entityOrder(res.Scopes[j].Entity)
	})
	f.progress.finish()
	r.report(f.progress)
	logger.Info("run ended", "status", res.Status, "error", res.Error,
		"duration", res.Finished.Sub(res.Started).Round(time.Millisecond),
		"api_requests", api.Requests, "retries", api.Retries, "rate_limited", api.RateLimited,
		"token_refreshes", api.Refreshes)
	if res.Status == StatusFailed {
		// Every scope failed: what did publish (the items fetched) is recorded, and the run
		// ends as failed.
		return res, errors.New(res.Error)
	}
	return res, nil
}

// report hands a progress snapshot to ProgressFunc, one call at a time.
func (r *Runner) report(p *progress) {
	if r.cfg.ProgressFunc == nil {
		return
	}
	p.reportMu.Lock()
	defer p.reportMu.Unlock()
	r.cfg.ProgressFunc(p.snapshot(r.client.Stats(), r.cfg.RequestsPerMinute))
}

func entityOrder(e string) int {
	if i := slices.Index(AllEntities, e); i >= 0 {
		return i
	}
	return len(AllEntities)
}
