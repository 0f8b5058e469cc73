package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	gosync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
)

// fetcher lists every selected scope with bounded concurrency and streams the rows to one
// staging writer, so memory is bounded by a few pages and the staging connection is used by
// one goroutine only.
type fetcher struct {
	r        *Runner
	stage    *db.Stage
	logger   *slog.Logger
	progress *progress
	writes   chan stageWrite

	problems []string // failures that belong to no scope (PublishParams.Problems)
}

// runProblem records a failure that belongs to no scope: the run is partial, or failed when no
// scope succeeded. It is called between phases, by the goroutine that runs them.
func (f *fetcher) runProblem(err error) {
	f.logger.Warn("run problem", "err", err)
	f.problems = append(f.problems, err.Error())
}

// stageWrite is one page of rows on its way to staging.
type stageWrite struct {
	write func(ctx context.Context) error
}

// groupRef is one agent group to list the agents of.
type groupRef struct {
	subAccountID string
	groupID      int64
}

func newFetcher(r *Runner, stage *db.Stage, logger *slog.Logger) *fetcher {
	stage.SetDuplicateFunc(func(d db.Duplicate) {
		logger.Warn("listed twice in one run; one copy kept", "entity", d.Entity, "key", d.Key,
			"kept", d.Kept, "dropped", d.Dropped)
	})
	return &fetcher{
		r:        r,
		stage:    stage,
		logger:   logger,
		progress: newProgress(),
		writes:   make(chan stageWrite, r.cfg.Concurrency),
	}
}

// fetchAll runs the three fetch phases and marks every selected scope complete or failed. It
// returns an error only for what makes the whole run fail: staging errors and cancellation.
func (f *fetcher) fetchAll(ctx context.Context, login *engageclient.AccessTokenUserDetails) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// One writer owns the staging connection.
	writerDone := make(chan error, 1)
	go func() {
		var werr error
		for w := range f.writes {
			if werr != nil {
				continue // drain
			}
			if err := w.write(ctx); err != nil {
				werr = err // a *db.StageError names its own entity, source and item
				cancel(werr)
			}
		}
		writerDone <- werr
	}()

	stopBeat := f.heartbeat(ctx)
	ferr := f.phases(ctx, login)
	close(f.writes)
	werr := <-writerDone
	stopBeat()
	if werr != nil {
		return werr
	}
	if ferr != nil {
		return ferr
	}
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("fetching: %w", cause)
	}
	return nil
}

// heartbeat reports progress every ProgressInterval until stopped.
func (f *fetcher) heartbeat(ctx context.Context) (stop func()) {
	if f.r.cfg.ProgressFunc == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg gosync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(f.r.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				f.r.report(f.progress)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// send queues a write for the staging writer, or gives up when the run is canceled.
func (f *fetcher) send(ctx context.Context, rows int, write func(ctx context.Context) error) error {
	select {
	case f.writes <- stageWrite{write: write}:
		f.progress.rows.Add(int64(rows))
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (f *fetcher) phases(ctx context.Context, login *engageclient.AccessTokenUserDetails) error {
	cfg := &f.r.cfg
	needAccounts := cfg.selected(EntityAccounts) || cfg.selected(EntitySubAccounts) ||
		(cfg.selected(EntityAgentGroups) && len(cfg.SubAccounts) == 0)

	// Phase 1: the accounts listing and the users listing, side by side.
	f.progress.setPhase("accounts+users", btoi(needAccounts)+btoi(cfg.selected(EntityUsers)))
	var accounts []*engageclient.Account
	var accountsErr error
	g, gctx := errgroup.WithContext(ctx)
	if needAccounts {
		g.Go(func() error {
			var resp *engageclient.Response
			accounts, resp, accountsErr = f.r.client.ListAccounts(gctx)
			f.progress.scopeDone()
			if accountsErr != nil {
				if cerr := cancelErr(gctx, accountsErr); cerr != nil {
					return cerr
				}
				if !itemsOnly(accountsErr) {
					return nil
				}
			}
			return f.stageAccounts(gctx, resp.Endpoint(), accounts, login)
		})
	}
	if cfg.selected(EntityUsers) {
		g.Go(func() error {
			users, resp, err := f.r.client.ListUsers(gctx, &engageclient.UserListOptions{Flatten: true})
			f.progress.scopeDone()
			if err != nil {
				if cerr := cancelErr(gctx, err); cerr != nil {
					return cerr
				}
				if !itemsOnly(err) {
					f.scopeFail(EntityUsers, scopeAll, err)
					return nil
				}
			}
			if err := f.stageUsers(gctx, resp.Endpoint(), users); err != nil {
				return err
			}
			f.scopeDone(EntityUsers, scopeAll, err)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, e := range []string{EntityAccounts, EntitySubAccounts} {
		if needAccounts && cfg.selected(e) {
			f.scopeDone(e, scopeAll, accountsErr)
		}
	}

	if !cfg.selected(EntityAgentGroups) {
		return nil
	}
	subIDs, err := f.subAccountScopes(ctx, accounts, accountsErr)
	if err != nil {
		return err
	}
	if err := f.vanishedSubAccounts(ctx, subIDs, accountsErr); err != nil {
		return err
	}

	// Phase 2: agent groups per sub-account.
	f.r.report(f.progress) // the finished phase's final numbers
	f.progress.setPhase("agent_groups", len(subIDs))
	var mu gosync.Mutex
	var groups []groupRef
	groupsOK := make(map[string]bool, len(subIDs))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for _, sub := range subIDs {
		g.Go(func() error {
			var opts *engageclient.ListOptions
			if cfg.AgentGroupPageSize > 0 {
				opts = &engageclient.ListOptions{MaxRows: cfg.AgentGroupPageSize}
			}
			list, resp, err := f.r.client.ListAgentGroups(gctx, sub, opts)
			f.progress.scopeDone()
			if err != nil {
				if cerr := cancelErr(gctx, err); cerr != nil {
					return cerr
				}
				// A group missing from the listing leaves its agents unknown: the agents
				// scope fails with the groups scope.
				if cfg.selected(EntityAgents) {
					f.scopeFail(EntityAgents, sub, err)
				}
				if !itemsOnly(err) {
					f.scopeFail(EntityAgentGroups, sub, err)
					return nil
				}
			}
			rows := make([]db.AgentGroupRow, 0, len(list))
			for _, ag := range list {
				rows = append(rows, agentGroupRow(sub, ag))
			}
			source := resp.Endpoint()
			if err := f.send(gctx, len(rows), func(ctx context.Context) error {
				return f.stage.AgentGroupsAdd(ctx, source, rows)
			}); err != nil {
				return err
			}
			f.scopeDone(EntityAgentGroups, sub, err)
			mu.Lock()
			groupsOK[sub] = err == nil
			for _, ag := range list {
				groups = append(groups, groupRef{subAccountID: sub, groupID: ag.AgentGroupID})
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if !cfg.selected(EntityAgents) {
		return nil
	}

	// Phase 3: agents per agent group. A sub-account's agents scope is complete only when its
	// group listing and every one of its groups' agent listings completed.
	f.r.report(f.progress) // the finished phase's final numbers
	f.progress.setPhase("agents", len(groups))
	failed := make(map[string]error)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for _, gr := range groups {
		g.Go(func() error {
			list, resp, err := f.r.client.ListAgents(gctx, gr.subAccountID, gr.groupID)
			f.progress.scopeDone()
			if err != nil {
				if cerr := cancelErr(gctx, err); cerr != nil {
					return cerr
				}
				mu.Lock()
				if failed[gr.subAccountID] == nil {
					failed[gr.subAccountID] = err
				}
				mu.Unlock()
				if !itemsOnly(err) {
					return nil
				}
			}
			rows := make([]db.AgentRow, 0, len(list))
			for _, a := range list {
				rows = append(rows, agentRow(gr.subAccountID, gr.groupID, a))
			}
			source := resp.Endpoint()
			return f.send(gctx, len(rows), func(ctx context.Context) error {
				return f.stage.AgentsAdd(ctx, source, rows)
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, sub := range subIDs {
		if !groupsOK[sub] {
			continue // already marked failed in phase 2
		}
		if err := failed[sub]; err != nil {
			f.scopeFail(EntityAgents, sub, err)
			continue
		}
		f.stage.ScopeComplete(EntityAgents, sub)
	}
	return nil
}

// subAccountScopes returns the sub-accounts whose agent groups (and agents) this run lists.
// When the accounts listing failed and no sub-accounts were named, the sub-accounts cannot be
// found: the scopes of those stored are recorded failed with the listing's error (nothing of
// them is deleted); with none stored, the run records the error itself.
func (f *fetcher) subAccountScopes(ctx context.Context, accounts []*engageclient.Account, accountsErr error) ([]string, error) {
	cfg := &f.r.cfg
	listed := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if !slices.Contains(listed, a.AccountID) {
			listed = append(listed, a.AccountID)
		}
	}
	if len(cfg.SubAccounts) == 0 {
		if accountsErr != nil && !itemsOnly(accountsErr) {
			stored, err := f.r.store.SubAccountIDsWithLiveRows(ctx)
			if err != nil {
				return nil, err
			}
			if len(stored) == 0 {
				// No scope to record it on: the run records it.
				f.runProblem(fmt.Errorf("agent groups: sub-accounts unknown: %w", accountsErr))
			}
			for _, id := range stored {
				f.scopeFail(EntityAgentGroups, id, accountsErr)
				if cfg.selected(EntityAgents) {
					f.scopeFail(EntityAgents, id, accountsErr)
				}
			}
		}
		return listed, nil
	}
	var out []string
	for _, id := range cfg.SubAccounts {
		if accounts != nil && accountsErr == nil && !slices.Contains(listed, id) {
			err := fmt.Errorf("sub-account %s is not in the accounts listing", id)
			f.scopeFail(EntityAgentGroups, id, err)
			if cfg.selected(EntityAgents) {
				f.scopeFail(EntityAgents, id, err)
			}
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// vanishedSubAccounts publishes the agent-group and agent scopes of sub-accounts that still
// have live rows stored but are gone from a complete, unfiltered accounts listing, as complete
// and empty: their rows are soft-deleted like any other vanished rows (under the mass-delete
// breaker) instead of staying live under a deleted sub-account.
func (f *fetcher) vanishedSubAccounts(ctx context.Context, listed []string, accountsErr error) error {
	cfg := &f.r.cfg
	if accountsErr != nil || len(cfg.SubAccounts) > 0 {
		return nil
	}
	stored, err := f.r.store.SubAccountIDsWithLiveRows(ctx)
	if err != nil {
		return err
	}
	for _, id := range stored {
		if slices.Contains(listed, id) {
			continue
		}
		f.logger.Info("sub-account gone from the accounts listing; its agent groups and agents go too", "sub_account_id", id)
		f.stage.ScopeComplete(EntityAgentGroups, id)
		if cfg.selected(EntityAgents) {
			f.stage.ScopeComplete(EntityAgents, id)
		}
	}
	return nil
}

// stageAccounts stages the main accounts and sub-accounts of the accounts listing (the
// caller marks their scopes).
func (f *fetcher) stageAccounts(ctx context.Context, source string, accounts []*engageclient.Account, login *engageclient.AccessTokenUserDetails) error {
	cfg := &f.r.cfg
	if cfg.selected(EntityAccounts) {
		rows, fallback := mainAccountRows(accounts, login)
		if err := f.send(ctx, len(rows)+len(fallback), func(ctx context.Context) error {
			if err := f.stage.AccountsAdd(ctx, source, rows); err != nil {
				return err
			}
			return f.stage.AccountsAddFallback(ctx, "the login response", fallback)
		}); err != nil {
			return err
		}
	}
	if cfg.selected(EntitySubAccounts) {
		rows := make([]db.SubAccountRow, 0, len(accounts))
		for _, a := range accounts {
			rows = append(rows, subAccountRow(a))
		}
		if err := f.send(ctx, len(rows), func(ctx context.Context) error {
			return f.stage.SubAccountsAdd(ctx, source, rows)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fetcher) stageUsers(ctx context.Context, source string, users []*engageclient.User) error {
	rows := userRows(users)
	return f.send(ctx, len(rows), func(ctx context.Context) error {
		return f.stage.UsersAdd(ctx, source, rows)
	})
}

// scopeDone marks a scope complete when its listing ended without error, else failed with it.
func (f *fetcher) scopeDone(entity, scope string, err error) {
	if err != nil {
		f.scopeFail(entity, scope, err)
		return
	}
	f.stage.ScopeComplete(entity, scope)
}

func (f *fetcher) scopeFail(entity, scope string, err error) {
	f.logger.Warn("scope failed", "entity", entity, "scope", scope, "err", err)
	f.stage.ScopeFail(entity, scope, err)
}

// itemsOnly reports whether a listing error is only about items that could not be decoded:
// the listing's other items came back and are staged, and its scope fails.
func itemsOnly(err error) bool {
	var ie *engageclient.ItemsError
	return errors.As(err, &ie)
}

// cancelErr returns the run's cancellation cause when err comes from the run being canceled,
// and nil when err is a scope's own failure.
func cancelErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Progress is a snapshot of a run in flight.
type Progress struct {
	RunID       int64 // 0 for a dry run
	Phase       string
	ScopesDone  int64
	ScopesTotal int64
	Rows        int64
	Requests    int64
	Retries     int64
	RateLimited int64
	Refreshes   int64
	Elapsed     time.Duration
	// ETA is the time the current phase still needs at the client's pacing rate (0 = unknown).
	ETA  time.Duration
	Done bool
}

type progress struct {
	reportMu    gosync.Mutex // serializes ProgressFunc calls
	runID       int64
	start       time.Time
	mu          gosync.Mutex
	phase       string
	done, total atomic.Int64
	rows        atomic.Int64
	finished    atomic.Bool
}

func newProgress() *progress { return &progress{start: time.Now()} }

func (p *progress) setPhase(name string, total int) {
	p.mu.Lock()
	p.phase = name
	p.mu.Unlock()
	p.done.Store(0)
	p.total.Store(int64(total))
}

func (p *progress) scopeDone() { p.done.Add(1) }

func (p *progress) finish() { p.finished.Store(true) }

func (p *progress) snapshot(api engageclient.Stats, perMinute int) Progress {
	p.mu.Lock()
	phase := p.phase
	p.mu.Unlock()
	var eta time.Duration
	if left := p.total.Load() - p.done.Load(); left > 0 && perMinute > 0 {
		eta = time.Duration(left) * time.Minute / time.Duration(perMinute)
	}
	return Progress{RunID: p.runID, ETA: eta,
		Phase: phase, ScopesDone: p.done.Load(), ScopesTotal: p.total.Load(), Rows: p.rows.Load(),
		Requests: api.Requests, Retries: api.Retries, RateLimited: api.RateLimited, Refreshes: api.Refreshes,
		Elapsed: time.Since(p.start), Done: p.finished.Load(),
	}
}
