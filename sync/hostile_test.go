package sync_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	syncrun "github.com/evsync/evsync/sync"
)

// hostile is one bad input, set up on a fake that a first run has synced.
type hostile struct {
	failed    []string // the scopes that fail, "entity/scope"
	errs      []string // what the run's error names
	warns     []string // what the run's warnings name
	published bool     // a healthy change elsewhere publishes
	check     func(t *testing.T, e *env)
}

// hostileSetup mutates the fake; sub is the sub-account the bad input is put in (the first),
// healthy the one it must not touch (the last).
type hostileSetup func(t *testing.T, e *env, sub string) hostile

// TestRunHostileUpstream feeds each bad input of issue 9 through the fake and checks its
// containment: which scopes fail, what the error names, that a healthy change elsewhere
// still publishes, and that nothing else changed (no row deleted, every count as before).
func TestRunHostileUpstream(t *testing.T) {
	t.Parallel()
	agentsOf := func(e *env, sub string) string {
		return fmt.Sprintf("GET /voice/api/v1/admin/accounts/%s/agentGroups/%d/agents", sub, e.fake.AgentGroupIDs(sub)[0])
	}
	tests := []struct {
		name       string
		wantStatus db.RunStatus
		setup      hostileSetup
	}{
		{"invalid UTF-8 is repaired", db.RunSucceeded, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[0]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(a, "firstName", json.RawMessage("\"Jo\xffe\""))
			}))
			return hostile{published: true, check: func(t *testing.T, e *env) {
				if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND first_name = 'Jo'||U&'\FFFD'||'e'
					AND raw->>'firstName' = first_name`, a); n != 1 {
					t.Errorf("agent %d: first_name and raw not repaired to U+FFFD", a)
				}
			}}
		}},
		{"lone surrogate is repaired", db.RunSucceeded, func(t *testing.T, e *env, _ string) hostile {
			u := e.fake.UserIDs()[1]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(u, "firstName", json.RawMessage(`"a\ud800b"`)) }))
			return hostile{published: true, check: func(t *testing.T, e *env) {
				if n := e.count(`SELECT count(*) FROM engage.users WHERE user_id = $1 AND first_name = 'a'||U&'\FFFD'||'b'
					AND raw->>'firstName' = first_name`, u); n != 1 {
					t.Errorf("user %d: first_name and raw not repaired to U+FFFD", u)
				}
			}}
		}},
		{"NUL is repaired", db.RunSucceeded, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[0]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(a, "lastName", "x\x00y") }))
			return hostile{published: true, check: func(t *testing.T, e *env) {
				if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND last_name = 'x'||U&'\FFFD'||'y'`, a); n != 1 {
					t.Errorf("agent %d: last_name not repaired", a)
				}
			}}
		}},
		{"nesting 250 deep is stored", db.RunSucceeded, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[0]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(a, "custom", json.RawMessage(strings.Repeat("[", 250)+strings.Repeat("]", 250)))
			}))
			return hostile{published: true, check: func(t *testing.T, e *env) {
				if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND raw ? 'custom'`, a); n != 1 {
					t.Errorf("agent %d: the nested value was not stored", a)
				}
			}}
		}},
		{"nesting deeper than the database takes fails its scope", db.RunPartial, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[1]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(a, "custom", json.RawMessage(strings.Repeat("[", 1500)+strings.Repeat("]", 1500)))
			}))
			return hostile{failed: []string{"agents/" + sub}, published: true,
				errs: []string{agentsOf(e, sub) + " response: item 1: custom: nested deeper than 1000 levels"}}
		}},
		{"agent id out of range fails its scope", db.RunPartial, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[2]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(a, "agentId", json.RawMessage(`9223372036854775808`))
			}))
			return hostile{failed: []string{"agents/" + sub}, published: true,
				errs: []string{agentsOf(e, sub) + ` response: item 2: agentId: parsing integer "9223372036854775808": out of range`},
				check: func(t *testing.T, e *env) {
					if n := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id < 0`); n != 0 {
						t.Errorf("%d agents stored with a wrapped-around id", n)
					}
				}}
		}},
		{"sub-account without a main account fails the accounts scopes", db.RunPartial, func(t *testing.T, e *env, sub string) hostile {
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(sub, "mainAccountId", engagefake.Omit) }))
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(sub, "mainAccount", engagefake.Omit) }))
			want := "listing accounts: decoding GET /voice/api/v1/admin/accounts response: item 0: mainAccountId is missing"
			return hostile{failed: []string{"accounts/all", "sub_accounts/all"}, published: true, errs: []string{want}}
		}},
		{"error object for one group's agents fails its scope", db.RunPartial, func(_ *testing.T, e *env, sub string) hostile {
			g := e.fake.AgentGroupIDs(sub)[0]
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{PathContains: fmt.Sprintf("/agentGroups/%d/", g),
				Body: []byte(`{"generalMessage":"Agent group is being updated","validationErrors":[]}`)})
			return hostile{failed: []string{"agents/" + sub}, published: true,
				errs: []string{agentsOf(e, sub) + ` response: expected a JSON array, got an error object: "Agent group is being updated"`}}
		}},
		{"HTML page for users fails its scope", db.RunPartial, func(_ *testing.T, e *env, _ string) hostile {
			e.fake.SetFault(engagefake.EndpointUsers, engagefake.Fault{Body: []byte(`<html><body>Maintenance</body></html>`)})
			return hostile{failed: []string{"users/all"}, published: true,
				errs: []string{"decoding GET /voice/api/v1/admin/users response: expected a JSON array, got markup"}}
		}},
		{"empty accounts listing keeps the main account", db.RunPartial, func(_ *testing.T, e *env, _ string) hostile {
			before := e.count(`SELECT count(*) FROM engage.accounts WHERE name IS NOT NULL AND rc_account_id IS NOT NULL`)
			e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Body: []byte(`[]`)})
			return hostile{errs: []string{"sub_accounts/all deletes withheld"}, check: func(t *testing.T, e *env) {
				if n := e.count(`SELECT count(*) FROM engage.accounts WHERE name IS NOT NULL AND rc_account_id IS NOT NULL`); n != before || n == 0 {
					t.Errorf("%d main accounts keep their name and rc_account_id, want %d", n, before)
				}
				if n := e.count(`SELECT count(*) FROM engage.accounts_history WHERE change = 'update'`); n != 0 {
					t.Errorf("%d main-account updates written from the login response alone", n)
				}
			}}
		}},
		{"API error text with control characters is escaped", db.RunPartial, func(_ *testing.T, e *env, sub string) hostile {
			g := e.fake.AgentGroupIDs(sub)[0]
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 400, PathContains: fmt.Sprintf("/agentGroups/%d/", g),
				Body: []byte(`{"generalMessage":"Locked\u001b[31m\u001b]0;t\u0007\ntime=2026-01-01 level=ERROR msg=forged",` +
					`"details":"\u202ed\u009b","errorCode":"c\u001b[2J\r\nx"}`)})
			return hostile{failed: []string{"agents/" + sub}, published: true,
				errs:  []string{fmt.Sprintf("/agentGroups/%d/agents: ", g) + `400 Bad Request: Locked\x1b[31m\x1b]0;t\a time=2026-01-01 level=ERROR msg=forged (\u202ed\u009b) [c\x1b[2J x]`},
				check: noControlInLedger}
		}},
		{"JSON key with control characters in an error is escaped", db.RunPartial, func(t *testing.T, e *env, sub string) hostile {
			a := e.fake.AgentIDs(e.fake.AgentGroupIDs(sub)[0])[1]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error {
				return tn.UpdateAgent(a, "cu\x1b[31mstom\u202e\u2028\nforged", json.RawMessage(strings.Repeat("[", 1500)+strings.Repeat("]", 1500)))
			}))
			return hostile{failed: []string{"agents/" + sub}, published: true,
				errs:  []string{agentsOf(e, sub) + ` response: item 1: cu\x1b[31mstom\u202e forged: nested deeper than 1000 levels`},
				check: noControlInLedger}
		}},
		{"agent in two groups is kept in its own", db.RunSucceeded, func(t *testing.T, e *env, sub string) hostile {
			groups := e.fake.AgentGroupIDs(sub)
			own, other := groups[0], groups[1]
			a := e.fake.AgentIDs(own)[0]
			// The other group's listing also holds agent a, as the API sends it.
			body := listingWith(t, e, sub, other, a, own)
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{PathContains: fmt.Sprintf("/agentGroups/%d/", other), Body: body})
			return hostile{published: true,
				warns: []string{"listed twice in one run", fmt.Sprintf("agent_id=%d", a),
					fmt.Sprintf("/agentGroups/%d/agents", own), fmt.Sprintf("/agentGroups/%d/agents", other)},
				check: func(t *testing.T, e *env) {
					if g := e.count(`SELECT agent_group_id FROM engage.agents WHERE agent_id = $1`, a); g != int64(own) {
						t.Errorf("agent %d kept in group %d, want its own group %d", a, g, own)
					}
				}}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: int64(900 + i)})
			e.mustRun(syncrun.Config{}, db.RunSucceeded)
			subs := e.fake.SubAccountIDs()
			sub, healthy := subs[0], subs[len(subs)-1]
			counts := e.tableCounts()

			h := tt.setup(t, e, sub)
			// A healthy change elsewhere, which must publish beside the bad input.
			renamed := e.fake.AgentIDs(e.fake.AgentGroupIDs(healthy)[0])[0]
			mustDo(t, e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(renamed, "firstName", "Renamed") }))

			for run := 1; run <= 2; run++ { // the same input twice: the same outcome, no churn
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
				r, err := syncrun.NewRunner(e.client(nil), e.store, syncrun.Config{}, logger)
				if err != nil {
					t.Fatal(err)
				}
				res, err := r.Run(t.Context())
				if err != nil || res.Status != tt.wantStatus {
					t.Fatalf("run %d: status %v (error %q, %v), want %s", run, res.Status, res.Error, err, tt.wantStatus)
				}
				var failed []string
				for _, s := range res.Scopes {
					if s.Status == db.ScopeFailed {
						failed = append(failed, string(s.Entity)+"/"+s.Scope)
					}
					if s.Deleted != 0 {
						t.Errorf("run %d: %s/%s deleted %d rows", run, s.Entity, s.Scope, s.Deleted)
					}
					if run == 2 && s.Updated+s.Inserted+s.Restored != 0 {
						t.Errorf("run 2: %s/%s wrote %+v; the same input twice must change nothing", s.Entity, s.Scope, s)
					}
				}
				slices.Sort(failed)
				slices.Sort(h.failed)
				if diff := cmp.Diff(h.failed, failed); diff != "" {
					t.Errorf("run %d: failed scopes (-want +got):\n%s", run, diff)
				}
				for _, want := range h.errs {
					if !strings.Contains(res.Error, want) {
						t.Errorf("run %d: error %q does not name %q", run, res.Error, want)
					}
				}
				if strings.Contains(res.Error, "\n") {
					t.Errorf("run %d: error is not one line: %q", run, res.Error)
				}
				for _, want := range h.warns {
					if !strings.Contains(logs.String(), want) {
						t.Errorf("run %d: warnings do not name %q:\n%s", run, want, logs.String())
					}
				}
			}
			if diff := cmp.Diff(counts, e.tableCounts()); diff != "" {
				t.Errorf("row counts changed (-before +after):\n%s", diff)
			}
			published := e.count(`SELECT count(*) FROM engage.agents WHERE agent_id = $1 AND first_name = 'Renamed'`, renamed) == 1
			if published != h.published {
				t.Errorf("the healthy change published: %v, want %v", published, h.published)
			}
			if h.check != nil {
				h.check(t, e)
			}
		})
	}
}

// noControlInLedger checks that no error the ledger stores holds a control character (C0, DEL,
// C1), a bidi control or a line or paragraph separator: they are stored escaped.
func noControlInLedger(t *testing.T, e *env) {
	t.Helper()
	const control = `[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]`
	for _, tbl := range []string{"sync_runs", "sync_run_scopes"} {
		if n := e.count(`SELECT count(*) FROM engage.` + tbl + ` WHERE error ~ '` + control + `'`); n != 0 {
			t.Errorf("%d %s errors hold a control character", n, tbl)
		}
		if n := e.count(`SELECT count(*) FROM engage.` + tbl + ` WHERE error LIKE '%\\x1b[31m%'`); n == 0 {
			t.Errorf("no %s error stores the escaped text", tbl)
		}
	}
}

// tableCounts is the live and deleted rows of every entity table.
func (e *env) tableCounts() map[string]int64 {
	out := map[string]int64{}
	for _, tbl := range []string{"accounts", "sub_accounts", "users", "agent_groups", "agents"} {
		out[tbl+" live"] = e.live(tbl)
		out[tbl+" deleted"] = e.count("SELECT count(*) FROM engage." + tbl + " WHERE deleted_at IS NOT NULL")
	}
	return out
}

// listingWith returns the agents listing of group, with agent a of group from added, as the
// fake serves them.
func listingWith(t *testing.T, e *env, sub string, group, a, from int) []byte {
	t.Helper()
	c := e.client(nil)
	if _, err := c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer c.Close(t.Context())
	list, _, err := c.ListAgents(t.Context(), sub, int64(group))
	if err != nil {
		t.Fatal(err)
	}
	others, _, err := c.ListAgents(t.Context(), sub, int64(from))
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	for _, x := range list {
		raws = append(raws, x.Raw)
	}
	for _, x := range others {
		if x.AgentID == int64(a) {
			raws = append(raws, x.Raw)
		}
	}
	if len(raws) != len(list)+1 {
		t.Fatalf("agent %d not in group %d", a, from)
	}
	b, err := json.Marshal(raws)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunAgentOwnInTwoGroupsKeepsLowestGroup lists an agent in two groups of its sub-account,
// each copy naming the group that lists it as its own (agentGroupId), so the "own group" rule
// ties: the copy of the lowest group id is kept, whichever listing answers first. Two runs
// with the copies arriving in opposite orders (one listing delayed) keep the same group, the
// second writes nothing, and each run warns about the duplicate.
func TestRunAgentOwnInTwoGroupsKeepsLowestGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 931})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	sub := e.fake.SubAccountIDs()[0]
	groups := e.fake.AgentGroupIDs(sub)
	lo, hi := min(groups[0], groups[1]), max(groups[0], groups[1])
	a := e.fake.AgentIDs(hi)[0] // stored in hi; the lower group's copy must win
	// Group lo's listing also holds agent a, naming lo as its group.
	body := withAgentGroup(t, listingWith(t, e, sub, lo, a, hi), a, lo)
	loPath, hiPath := fmt.Sprintf("/agentGroups/%d/", lo), fmt.Sprintf("/agentGroups/%d/", hi)
	const delay = 500 * time.Millisecond

	var historyAfter1 int64
	for run, late := range []string{loPath, hiPath} { // run 1: hi's copy first; run 2: lo's first
		e.fake.ClearFaults()
		if late == loPath {
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{PathContains: loPath, Body: body, Latency: delay})
		} else {
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{PathContains: loPath, Body: body})
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{PathContains: hiPath, Latency: delay})
		}
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		r, err := syncrun.NewRunner(e.client(nil), e.store, syncrun.Config{}, logger)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(t.Context())
		if err != nil || res.Status != db.RunSucceeded {
			t.Fatalf("run %d: status %v (error %q, %v), want succeeded", run+1, res.Status, res.Error, err)
		}
		if g := e.count(`SELECT agent_group_id FROM engage.agents WHERE agent_id = $1`, a); g != int64(lo) {
			t.Errorf("run %d: agent %d kept in group %d, want the lowest group %d", run+1, a, g, lo)
		}
		for _, want := range []string{"listed twice in one run", fmt.Sprintf("agent_id=%d", a), loPath, hiPath} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("run %d: warnings do not name %q:\n%s", run+1, want, logs.String())
			}
		}
		history := e.count(`SELECT count(*) FROM engage.agents_history WHERE agent_id = $1`, a)
		if run == 0 {
			historyAfter1 = history
			continue
		}
		if history != historyAfter1 {
			t.Errorf("run 2 wrote %d history rows for agent %d; the same copies in another order must change nothing",
				history-historyAfter1, a)
		}
		for _, s := range res.Scopes {
			if s.Updated+s.Inserted+s.Restored+s.Deleted != 0 {
				t.Errorf("run 2: %s/%s wrote %+v", s.Entity, s.Scope, s)
			}
		}
	}
}

// withAgentGroup returns listing with agent a's agentGroupId set to group.
func withAgentGroup(t *testing.T, listing []byte, a, group int) []byte {
	t.Helper()
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(listing, &objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if string(o["agentId"]) == fmt.Sprint(a) {
			o["agentGroupId"] = json.RawMessage(fmt.Sprint(group))
		}
	}
	b, err := json.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
