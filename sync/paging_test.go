package sync_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// A server that does not page the assigned agents as assumed (page 0-based, maxRows a page)
// fails those listings' scopes: nothing of them is deleted, the run ends partial, and the
// scope's error names the endpoint and the page. Before, such a run succeeded and
// soft-deleted every assignment past the first page.
func TestPagingNotAsAssumedDeletesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page func(int) int // the page the server answers when asked for one
	}{
		{"ignores page", func(int) int { return 0 }},
		{"counts from 1", func(p int) int { return max(p-1, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 15, Tenant: configTenant()})
			const pageSize = 2 // 3 agents per queue and dial group: two pages each
			e.mustRun(syncrun.Config{AssignedAgentsPageSize: pageSize}, db.RunSucceeded)
			liveQ, liveD := e.live("agent_queues"), e.live("agent_dial_groups")

			hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/assignedAgents") {
					q := r.URL.Query()
					p, _ := strconv.Atoi(q.Get("page"))
					q.Set("page", strconv.Itoa(tt.page(p)))
					r.URL.RawQuery = q.Encode()
				}
				e.fake.ServeHTTP(w, r)
			}))
			t.Cleanup(hostile.Close)
			c := e.client(func(c *engageclient.Config) { c.RCServerURL, c.EngageServerURL = hostile.URL, hostile.URL })
			r, err := syncrun.NewRunner(c, e.store, syncrun.Config{AssignedAgentsPageSize: pageSize}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(t.Context())
			if err != nil || res.Status != db.RunPartial {
				t.Fatalf("status %v (error %q, %v), want partial", res.Status, res.Error, err)
			}
			for _, s := range res.Scopes {
				assigned := s.Entity == entity.AgentQueues || s.Entity == entity.AgentDialGroups
				if assigned != (s.Status == db.ScopeFailed) || s.Deleted != 0 {
					t.Errorf("scope %s/%s: %s, %d deleted (%s)", s.Entity, s.Scope, s.Status, s.Deleted, s.Error)
				}
				if assigned && (!strings.Contains(s.Error, "/assignedAgents") || !strings.Contains(s.Error, "(page 1)") ||
					!strings.Contains(s.Error, "0-based")) {
					t.Errorf("scope %s/%s: error %q does not name the endpoint, the page and the assumption", s.Entity, s.Scope, s.Error)
				}
			}
			if q, d := e.live("agent_queues"), e.live("agent_dial_groups"); q != liveQ || d != liveD {
				t.Errorf("live assignments %d and %d, want %d and %d (nothing deleted)", q, d, liveQ, liveD)
			}
		})
	}
}
