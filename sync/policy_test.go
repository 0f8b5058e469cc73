package sync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// Policy.Decide: a failed scope is failed and makes the run partial; a complete scope deletes
// its missing rows unless they are more than the breaker's fraction of its live rows (exactly
// the fraction still deletes), when it is withheld unless mass deletes are allowed; a run whose
// every scope failed is failed; problems outside any scope make it partial; a run restricted
// to some sub-accounts judges no entity scoped per sub-account whole.
func TestPolicyDecide(t *testing.T) {
	t.Parallel()
	complete := func(e entity.Name, scope string, live, missing int64) db.ScopePlan {
		return db.ScopePlan{Entity: e, Scope: scope, Complete: true, Live: live, Missing: missing}
	}
	failed := func(e entity.Name, scope string) db.ScopePlan {
		return db.ScopePlan{Entity: e, Scope: scope, Error: "listing " + string(e) + ": HTTP 500"}
	}
	withheld := func(missing, live int64, frac float64) string {
		return fmt.Sprintf("deletes withheld: %d of %d live rows missing upstream (more than %g); rerun with --allow-mass-delete to apply them", missing, live, frac)
	}
	tests := []struct {
		name     string
		pol      syncrun.Policy
		plan     []db.ScopePlan
		problems []string
		want     syncrun.Decision
	}{
		{name: "all complete", plan: []db.ScopePlan{complete(entity.Users, entity.ScopeAll, 3, 0), complete(entity.Agents, "1001", 6, 1)},
			want: syncrun.Decision{Status: db.RunSucceeded, WholeEntities: []entity.Name{entity.Users, entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeSucceeded}, {Status: db.ScopeSucceeded, Delete: true}}}},
		{name: "a failed scope", plan: []db.ScopePlan{failed(entity.Agents, "1001"), complete(entity.Agents, "1002", 6, 0)},
			want: syncrun.Decision{Status: db.RunPartial, Error: "agents/1001 failed: listing agents: HTTP 500", WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeFailed, Error: "listing agents: HTTP 500"}, {Status: db.ScopeSucceeded}}}},
		{name: "every scope failed", plan: []db.ScopePlan{failed(entity.Agents, "1002")},
			want: syncrun.Decision{Status: db.RunFailed, Error: "agents/1002 failed: listing agents: HTTP 500", WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeFailed, Error: "listing agents: HTTP 500"}}}},
		{name: "more than half missing", plan: []db.ScopePlan{complete(entity.Agents, "1002", 6, 4)},
			want: syncrun.Decision{Status: db.RunPartial, Error: "agents/1002 " + withheld(4, 6, 0.5), WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeWithheld, Error: withheld(4, 6, 0.5)}}}},
		{name: "exactly half missing", plan: []db.ScopePlan{complete(entity.Agents, "1001", 6, 3)},
			want: syncrun.Decision{Status: db.RunSucceeded, WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeSucceeded, Delete: true}}}},
		{name: "mass delete allowed", pol: syncrun.Policy{AllowMassDelete: true}, plan: []db.ScopePlan{complete(entity.Agents, "1002", 6, 6)},
			want: syncrun.Decision{Status: db.RunSucceeded, WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeSucceeded, Delete: true}}}},
		{name: "a fraction of its own", pol: syncrun.Policy{MaxDeleteFraction: 0.2}, plan: []db.ScopePlan{complete(entity.Agents, "1002", 10, 3)},
			want: syncrun.Decision{Status: db.RunPartial, Error: "agents/1002 " + withheld(3, 10, 0.2), WholeEntities: []entity.Name{entity.Agents},
				Scopes: []db.ScopeDecision{{Status: db.ScopeWithheld, Error: withheld(3, 10, 0.2)}}}},
		{name: "a problem outside the scopes", plan: []db.ScopePlan{complete(entity.Users, entity.ScopeAll, 3, 0)}, problems: []string{"logging out: HTTP 503"},
			want: syncrun.Decision{Status: db.RunPartial, Error: "logging out: HTTP 503", WholeEntities: []entity.Name{entity.Users},
				Scopes: []db.ScopeDecision{{Status: db.ScopeSucceeded}}}},
		{name: "some sub-accounts", pol: syncrun.Policy{SomeSubAccounts: true},
			plan: []db.ScopePlan{complete(entity.Users, entity.ScopeAll, 3, 0), complete(entity.Agents, "1001", 6, 0)},
			want: syncrun.Decision{Status: db.RunSucceeded, WholeEntities: []entity.Name{entity.Users},
				Scopes: []db.ScopeDecision{{Status: db.ScopeSucceeded}, {Status: db.ScopeSucceeded}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.pol.Decide(&db.Plan{Scopes: tt.plan}, tt.problems)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// StatusOf: a stop request (the context canceled, or a cancellation that reached the error
// first) is canceled; a deadline, a lost lock or the run's own error is failed.
func TestStatusOf(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithTimeout(context.Background(), -time.Second)
	defer cancelExpired()
	lockLost, cancelLost := context.WithCancelCause(context.Background())
	cancelLost(fmt.Errorf("holding the lock: %w", db.ErrLockLost))
	errRun := errors.New("listing accounts: HTTP 500")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want db.RunStatus
	}{
		{"the run's own error", context.Background(), errRun, db.RunFailed},
		{"a stop request", canceled, fmt.Errorf("fetching: %w", context.Canceled), db.RunCanceled},
		{"a cancellation before the context", context.Background(), fmt.Errorf("fetching: %w", context.Canceled), db.RunCanceled},
		{"the run's timeout", expired, fmt.Errorf("fetching: %w", context.DeadlineExceeded), db.RunFailed},
		{"a lost lock", lockLost, fmt.Errorf("fetching: %w", context.Canceled), db.RunFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := syncrun.StatusOf(tt.ctx, tt.err); got != tt.want {
				t.Errorf("StatusOf = %s, want %s", got, tt.want)
			}
		})
	}
}
