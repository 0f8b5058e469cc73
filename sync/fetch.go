package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
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
	// accounts is what the accounts listing returned, when it was made and completed (a
	// stream run after this one reads it instead of listing again: Result.Accounts).
	accounts []*engageclient.Account
}

// runProblem records a failure that belongs to no scope: the run is partial, or failed when no
// scope succeeded. It is called between phases, by the goroutine that runs them. An API error
// in err comes explained already (listingErr).
func (f *fetcher) runProblem(err error) {
	f.logger.Warn("run problem", "err", err)
	f.problems = append(f.problems, err.Error())
}

// stageWrite is one page of rows on its way to staging.
type stageWrite struct {
	write func(ctx context.Context) error
}

func newFetcher(r *Runner, stage *db.Stage, logger *slog.Logger, p *progress) *fetcher {
	stage.SetDuplicateFunc(func(d db.Duplicate) {
		logger.Warn("listed twice in one run; one copy kept", "entity", d.Entity, "key", d.Key,
			"kept", d.Kept, "dropped", d.Dropped)
	})
	return &fetcher{
		r:        r,
		stage:    stage,
		logger:   logger,
		progress: p,
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
	return every(ctx, f.r.cfg.ProgressInterval, func() { f.r.report(f.progress) })
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

// phases runs the fetch phases in order; each returns what the next one needs. It returns an
// error only for what makes the whole run fail.
func (f *fetcher) phases(ctx context.Context, login *engageclient.AccessTokenUserDetails) error {
	acc, err := f.fetchAccountsAndUsers(ctx, login)
	if err == nil && acc.err == nil {
		f.accounts = acc.accounts
	}
	if err != nil || !f.r.selectsScoped() {
		return err
	}
	subIDs, err := f.subAccountScopes(ctx, acc)
	if err != nil {
		return err
	}
	if err := f.vanishedSubAccounts(ctx, subIDs, acc.err); err != nil {
		return err
	}
	return f.fetchSubAccounts(ctx, subIDs)
}

// accountsResult is what the accounts listing returned: nothing when no entity needed it.
type accountsResult struct {
	accounts []*engageclient.Account
	err      error // the listing's error; an *engageclient.ItemsError still has accounts
}

// fetchAccountsAndUsers is phase 1: the accounts listing and the users listing, side by side.
// It marks the accounts, sub_accounts and users scopes.
func (f *fetcher) fetchAccountsAndUsers(ctx context.Context, login *engageclient.AccessTokenUserDetails) (accountsResult, error) {
	r := f.r
	needAccounts := r.selects(entity.Accounts) || r.selects(entity.SubAccounts) ||
		(r.selectsScoped() && len(r.cfg.SubAccounts) == 0)
	f.progress.setPhase("accounts+users", btoi(needAccounts)+btoi(r.selects(entity.Users)))
	f.progress.plan.settle(entity.ListAccounts, btoi(needAccounts))
	f.progress.plan.settle(entity.ListUsers, btoi(r.selects(entity.Users)))
	if n := len(r.cfg.SubAccounts); n > 0 {
		f.progress.plan.settleBelow(entity.ListAccounts, n) // known now: the ETA is too
	}
	var acc accountsResult
	g, gctx := errgroup.WithContext(ctx)
	if needAccounts {
		g.Go(func() (err error) {
			acc, err = f.listAccounts(gctx, login)
			return err
		})
	}
	if r.selects(entity.Users) {
		g.Go(func() error { return f.listUsers(gctx) })
	}
	if err := g.Wait(); err != nil {
		return acc, err
	}
	for _, e := range []entity.Name{entity.Accounts, entity.SubAccounts} {
		if needAccounts && r.selects(e) {
			f.scopeDone(e, entity.ScopeAll, acc.err)
		}
	}
	return acc, nil
}

// listAccounts lists and stages the accounts (the caller marks their scopes).
func (f *fetcher) listAccounts(ctx context.Context, login *engageclient.AccessTokenUserDetails) (accountsResult, error) {
	start := time.Now()
	accounts, resp, err := f.r.client.ListAccounts(ctx)
	f.progress.made(ctx, entity.ListAccounts, nil, start)
	f.progress.scopeDone()
	acc := accountsResult{accounts: accounts, err: err}
	if err != nil {
		if stop := runStopped(ctx); stop != nil {
			return acc, stop
		}
		acc.err = f.listingErr(err)
		if !itemsOnly(err) {
			return acc, nil
		}
	}
	return acc, f.stageAccounts(ctx, resp.Endpoint(), accounts, login)
}

// listUsers lists and stages the users, and marks their scope.
func (f *fetcher) listUsers(ctx context.Context) error {
	start := time.Now()
	users, resp, err := f.r.client.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
	f.progress.made(ctx, entity.ListUsers, nil, start)
	f.progress.scopeDone()
	if err != nil {
		if stop := runStopped(ctx); stop != nil {
			return stop
		}
		err = f.listingErr(err)
		if !itemsOnly(err) {
			f.scopeFail(entity.Users, entity.ScopeAll, err)
			return nil
		}
	}
	if err := f.stageRows(ctx, entity.Users, resp.Endpoint(), userRows(users)); err != nil {
		return err
	}
	f.scopeDone(entity.Users, entity.ScopeAll, err)
	return nil
}

// subAccountScopes returns the sub-accounts whose scoped entities (agent groups, agents, queues,
// ...) this run lists.
// When the accounts listing failed and no sub-accounts were named, the sub-accounts cannot be
// found: the scopes of those stored are recorded failed with the listing's error (nothing of
// them is deleted); with none stored, the run records the error itself.
func (f *fetcher) subAccountScopes(ctx context.Context, acc accountsResult) ([]string, error) {
	cfg := &f.r.cfg
	accounts, accountsErr := acc.accounts, acc.err
	listed := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if !slices.Contains(listed, a.AccountID) {
			listed = append(listed, a.AccountID)
		}
	}
	if len(cfg.SubAccounts) == 0 {
		if accountsErr != nil && !itemsOnly(accountsErr) {
			stored, err := f.stage.SubAccountIDsWithLiveRows(ctx)
			if err != nil {
				return nil, err
			}
			if len(stored) == 0 {
				// No scope to record it on: the run records it.
				f.runProblem(fmt.Errorf("agent groups: sub-accounts unknown: %w", accountsErr))
			}
			for _, id := range stored {
				f.subAccountFail(id, accountsErr)
			}
		}
		return listed, nil
	}
	var out []string
	for _, id := range cfg.SubAccounts {
		if accounts != nil && accountsErr == nil && !slices.Contains(listed, id) {
			f.subAccountFail(id, fmt.Errorf("sub-account %s is not in the accounts listing", id))
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// vanishedSubAccounts publishes the selected scopes of sub-accounts that still have live rows
// stored but are gone from a complete, unfiltered accounts listing, as complete and empty:
// their rows are soft-deleted like any other vanished rows (under the mass-delete breaker)
// instead of staying live under a deleted sub-account.
func (f *fetcher) vanishedSubAccounts(ctx context.Context, listed []string, accountsErr error) error {
	cfg := &f.r.cfg
	if accountsErr != nil || len(cfg.SubAccounts) > 0 {
		return nil
	}
	stored, err := f.stage.SubAccountIDsWithLiveRows(ctx)
	if err != nil {
		return err
	}
	for _, id := range stored {
		if slices.Contains(listed, id) {
			continue
		}
		f.logger.Info("sub-account gone from the accounts listing; its rows go too", "sub_account_id", id)
		for _, e := range f.r.scoped {
			f.stage.ScopeComplete(e.Name, id)
		}
	}
	return nil
}

// stageAccounts stages the main accounts and sub-accounts of the accounts listing (the
// caller marks their scopes).
func (f *fetcher) stageAccounts(ctx context.Context, source string, accounts []*engageclient.Account, login *engageclient.AccessTokenUserDetails) error {
	if f.r.selects(entity.Accounts) {
		rows, fallback := mainAccountRows(accounts, login)
		if err := f.send(ctx, len(rows)+len(fallback), func(ctx context.Context) error {
			if err := f.stage.Add(ctx, entity.Accounts, source, rows); err != nil {
				return err
			}
			return f.stage.AddFallback(ctx, entity.Accounts, "the login response", fallback)
		}); err != nil {
			return err
		}
	}
	rows := make([]db.Row, 0, len(accounts))
	for _, a := range accounts {
		rows = append(rows, subAccountRow(a))
	}
	return f.stageRows(ctx, entity.SubAccounts, source, rows)
}

// scopeDone marks a scope complete when its listing ended without error, else failed with it.
func (f *fetcher) scopeDone(name entity.Name, scope string, err error) {
	if err != nil {
		f.scopeFail(name, scope, err)
		return
	}
	f.stage.ScopeComplete(name, scope)
}

// scopeFail marks a scope failed with err. An API error in err comes explained already
// (listingErr): a listing's error fails the scopes of every entity it yields, or of every
// entity of a sub-account, and each says the hint once.
func (f *fetcher) scopeFail(name entity.Name, scope string, err error) {
	f.logger.Warn("scope failed", "entity", name, "scope", scope, "err", err)
	f.stage.ScopeFail(name, scope, err)
}

// listingErr is the error of a listing as the scopes it fails, and the run when none can, record
// it: with what Config.ExplainFunc says to check. Each listing's error is explained once, where
// it is first classified, not again for each scope or problem it ends up in.
func (f *fetcher) listingErr(err error) error { return f.r.cfg.explain(err) }

// subAccountFail fails every selected scope of one sub-account with err.
func (f *fetcher) subAccountFail(sub string, err error) {
	for _, e := range f.r.scoped {
		f.scopeFail(e.Name, sub, err)
	}
}

// itemsOnly reports whether a listing error is only about items that could not be decoded:
// the listing's other items came back and are staged, and its scope fails.
func itemsOnly(err error) bool {
	var ie *engageclient.ItemsError
	return errors.As(err, &ie)
}

// runStopped returns the run's cancellation cause once the run is stopping (its context is
// done): a listing error then comes from the stop, not from the scope. Otherwise nil.
func runStopped(ctx context.Context) error {
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
