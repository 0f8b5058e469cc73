package sync_test

import (
	"errors"
	"slices"
	"strings"
	gosync "sync"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// hint is what forbidden says to check for a 403.
const hint = "check the permissions"

// forbidden is an ExplainFunc that explains a 403, counting the 403s it was asked about.
type forbidden struct {
	mu    gosync.Mutex
	calls int
}

func (x *forbidden) explain(err error) string {
	var ae *engageclient.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 {
		return ""
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls++
	return hint
}

// A listing's error is explained once, where it is first classified: the run's problem when
// the accounts listing fails with no sub-account stored says what to check too, and a listing
// error that fails many scopes (the accounts listing those of every stored sub-account, a
// sub-account's agent groups listing its agents too) is explained once, each scope saying the
// hint once.
func TestRunExplainsAListingErrorOnce(t *testing.T) {
	t.Parallel()
	t.Run("sub-accounts unknown", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, engagefake.Options{Seed: 71})
		e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 403})
		x := &forbidden{}
		res, err := e.run(t.Context(), syncrun.Config{Entities: []entity.Name{entity.AgentGroups}, ExplainFunc: x.explain})
		if err == nil || res == nil || res.Status != db.RunFailed {
			t.Fatalf("Run = %+v, %v; want failed", res, err)
		}
		if !strings.Contains(res.Error, "agent groups: sub-accounts unknown: listing accounts") ||
			!strings.HasSuffix(res.Error, "; "+hint) || strings.Count(res.Error, hint) != 1 || x.calls != 1 {
			t.Errorf("error %q (%d calls to explain); want the problem, with what to check once", res.Error, x.calls)
		}
	})
	t.Run("every stored sub-account", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, engagefake.Options{Seed: 73})
		e.mustRun(syncrun.Config{}, db.RunSucceeded)
		e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 403})
		x := &forbidden{}
		res := e.mustRun(syncrun.Config{ExplainFunc: x.explain}, db.RunPartial)
		failed := wantFailedOnce(t, res)
		want := []string{"accounts/all", "sub_accounts/all"}
		for _, sub := range e.fake.SubAccountIDs() {
			want = append(want, "agent_groups/"+sub, "agents/"+sub)
		}
		for _, w := range want {
			if !slices.Contains(failed, w) {
				t.Errorf("failed scopes %v, want %s among them", failed, w)
			}
		}
		if x.calls != 1 {
			t.Errorf("%d calls to explain, want 1: one listing failed", x.calls)
		}
	})
	t.Run("one sub-account's agent groups", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, engagefake.Options{Seed: 79})
		sub := e.fake.SubAccountIDs()[1]
		e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Status: 403, PathContains: "/accounts/" + sub + "/"})
		x := &forbidden{}
		res := e.mustRun(syncrun.Config{Entities: []entity.Name{entity.AgentGroups, entity.Agents}, ExplainFunc: x.explain}, db.RunPartial)
		failed := wantFailedOnce(t, res)
		if len(failed) != 2 || failed[0] != "agent_groups/"+sub || failed[1] != "agents/"+sub {
			t.Errorf("failed scopes %v, want agent_groups/%s and agents/%s", failed, sub, sub)
		}
		if x.calls != 1 {
			t.Errorf("%d calls to explain, want 1: one listing failed", x.calls)
		}
	})
}

// wantFailedOnce returns res's failed scopes (entity/scope), failing the test unless each
// error says the hint once, at its end.
func wantFailedOnce(t *testing.T, res *syncrun.Result) []string {
	t.Helper()
	var failed []string
	for _, s := range res.Scopes {
		if s.Status != db.ScopeFailed {
			continue
		}
		failed = append(failed, string(s.Entity)+"/"+s.Scope)
		if !strings.HasSuffix(s.Error, "; "+hint) || strings.Count(s.Error, hint) != 1 {
			t.Errorf("%s/%s: error %q, want the hint once, at its end", s.Entity, s.Scope, s.Error)
		}
	}
	return failed
}
