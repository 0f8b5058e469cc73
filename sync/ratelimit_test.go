package sync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// A 429 asking for an hour (Retry-After: 3600, beyond engage.max_retry_wait) on one agent
// group's listing fails only its sub-account's agents scope: the request that got it and the
// listings queued behind its pause (the same sub-account's other groups, fetched one at a time
// here, after the other sub-accounts) fail with the rate-limit error instead of sleeping the
// hour; the run ends, partial. The deadline only bounds a hang.
func TestRunRetryAfterBeyondMaxRetryWaitFailsOnlyItsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 23})
	subs := e.fake.SubAccountIDs()
	last := subs[len(subs)-1]
	gid := e.fake.AgentGroupIDs(last)[0]
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 429, RetryAfter: "3600",
		PathContains: fmt.Sprintf("/accounts/%s/agentGroups/%d/agents", last, gid)})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := e.client(func(c *engageclient.Config) { c.MaxRetryDuration = 2 * time.Hour })
	r, err := syncrun.NewRunner(client, e.store, syncrun.Config{Concurrency: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run outlived its deadline (status %q, error %q)", res.Status, res.Error)
	}
	if res.Status != db.RunPartial {
		t.Fatalf("status %q (error %q), want partial", res.Status, res.Error)
	}

	want := map[string]string{"accounts/all": "succeeded", "sub_accounts/all": "succeeded", "users/all": "succeeded"}
	for _, sub := range subs {
		for _, d := range entity.All() {
			if d.Scoped() {
				want[string(d.Name)+"/"+sub] = "succeeded" // the configuration's listings answer empty
			}
		}
	}
	want["agents/"+last] = "failed"
	got := map[string]string{}
	rows, err := e.pool.Query(t.Context(), "SELECT entity, scope, status, error FROM engage.sync_run_scopes WHERE run_id = $1", res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var scopeErr string
	for rows.Next() {
		var entity, scope, status string
		var msg *string
		if err := rows.Scan(&entity, &scope, &status, &msg); err != nil {
			t.Fatal(err)
		}
		got[entity+"/"+scope] = status
		if entity == "agents" && scope == last && msg != nil {
			scopeErr = *msg
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scope statuses (-want +got):\n%s", diff)
	}
	if !strings.Contains(scopeErr, "exceeds engage.max_retry_wait 2m0s") {
		t.Errorf("failed scope's error = %q, want it to name the wait", scopeErr)
	}
	if n := e.fake.Stats().Requests[engagefake.EndpointAgents]; n != int64(e.fake.Counts().AgentGroups-len(e.fake.AgentGroupIDs(last))+1) {
		t.Errorf("agent listings sent = %d, want every group's but the ones behind the pause", n)
	}
}
