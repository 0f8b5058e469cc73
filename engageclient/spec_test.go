package engageclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/apispec"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
)

// specEnv is a fake and the real client on it, every exchange between them held to the
// official documents (with evsync's overrides: internal/testing/apispec) by a validating transport.
type specEnv struct {
	fake *engagefake.Server
	tr   *apispec.Transport
	c    *engageclient.Client
}

func newSpecEnv(t *testing.T, opts engagefake.Options) *specEnv {
	t.Helper()
	fake := fixture.Fake(t, opts)
	doc, err := apispec.Load(t.Context(), fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := apispec.NewTransport(doc, http.DefaultTransport.(*http.Transport).Clone())
	if err != nil {
		t.Fatal(err)
	}
	c := engagetest.Client(t, fake, func(c *engageclient.Config) {
		c.Concurrency, c.MaxAttempts = 4, 4
		c.MaxRetryDuration, c.RequestTimeout = 10*time.Second, 10*time.Second
		c.HTTPClient = &http.Client{Transport: tr}
	})
	return &specEnv{fake: fake, tr: tr, c: c}
}

// violations fails t with every violation the transport recorded.
func (e *specEnv) violations(t *testing.T) {
	t.Helper()
	for _, v := range e.tr.Violations() {
		t.Errorf("off the spec: %s", v)
	}
}

// TestClientAndFakeHoldToTheSpec runs every client method that calls a documented endpoint,
// and the error paths the fake serves for them, against a fake with a tenant of several
// sub-accounts, groups, agents and users; every request and every response must match the
// official documents (overrides: internal/testing/apispec/overrides.go).
func TestClientAndFakeHoldToTheSpec(t *testing.T) {
	t.Parallel()
	spec := engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 5, AgentsPerGroup: 8, Users: 40}
	e := newSpecEnv(t, engagefake.Options{Seed: 8, Tenant: spec})
	ctx := t.Context()
	c, fake := e.c, e.fake

	step := func(name string, f func(context.Context) error) {
		t.Helper()
		if err := f(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Login: JWT grant (platform, not validated) + exchange.
	step("login", func(ctx context.Context) error { _, err := c.Login(ctx); return err })

	var accounts []*engageclient.Account
	step("accounts", func(ctx context.Context) (err error) { accounts, _, err = c.ListAccounts(ctx); return err })
	if len(accounts) != 6 {
		t.Fatalf("%d accounts, want 6", len(accounts))
	}
	step("users flattened", func(ctx context.Context) error {
		users, _, err := c.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
		if err == nil && len(users) != spec.Users {
			err = fmt.Errorf("%d users, want %d", len(users), spec.Users)
		}
		return err
	})
	step("users nested", func(ctx context.Context) error {
		users, _, err := c.ListUsers(ctx, &engageclient.UserListOptions{})
		if err == nil && len(engageclient.FlattenUsers(users)) != spec.Users {
			err = fmt.Errorf("%d users in the hierarchy, want %d", len(engageclient.FlattenUsers(users)), spec.Users)
		}
		return err
	})
	step("users nested, active only", func(ctx context.Context) error {
		_, _, err := c.ListUsers(ctx, &engageclient.UserListOptions{ActiveOnly: true})
		return err
	})
	agents := 0
	for _, a := range accounts {
		var groups []*engageclient.AgentGroup
		step("agent groups of "+a.AccountID, func(ctx context.Context) (err error) {
			groups, _, err = c.ListAgentGroups(ctx, a.AccountID, nil)
			return err
		})
		step("agent groups of "+a.AccountID+", paged", func(ctx context.Context) error {
			paged, resp, err := c.ListAgentGroups(ctx, a.AccountID, &engageclient.ListOptions{MaxRows: 2})
			if err == nil && (len(paged) != len(groups) || resp.Pages != 3) {
				err = fmt.Errorf("%d groups in %d pages, want %d in 3", len(paged), resp.Pages, len(groups))
			}
			return err
		})
		for _, g := range groups {
			step(fmt.Sprintf("agents of %s/%d", a.AccountID, g.AgentGroupID), func(ctx context.Context) error {
				list, _, err := c.ListAgents(ctx, a.AccountID, g.AgentGroupID)
				agents += len(list)
				return err
			})
		}
	}
	if agents != 240 {
		t.Errorf("%d agents, want 240", agents)
	}
	configListings(t, c, step, accounts, fake.Counts())

	// 401 "Jwt is expired" (text/plain) → refresh → replay.
	fake.ExpireTokens()
	step("accounts after ExpireTokens", func(ctx context.Context) error { _, _, err := c.ListAccounts(ctx); return err })
	// 401 without a body (the spec's own form) → renewal → replay.
	fake.SetFault(engagefake.EndpointUsers, engagefake.Fault{Status: http.StatusUnauthorized, NoBody: true, Times: 1})
	step("users after a bodiless 401", func(ctx context.Context) error {
		_, _, err := c.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
		return err
	})
	// 429 → retry; 500 → retry.
	acc := accounts[0].AccountID
	fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Status: http.StatusTooManyRequests, Times: 1})
	step("agent groups after a 429", func(ctx context.Context) error { _, _, err := c.ListAgentGroups(ctx, acc, nil); return err })
	gid := int64(fake.AgentGroupIDs(acc)[0])
	fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: http.StatusInternalServerError, Times: 2})
	step("agents after two 500s", func(ctx context.Context) error { _, _, err := c.ListAgents(ctx, acc, gid); return err })
	// 404 for an unknown account and an unknown group (JSON Errors bodies).
	for name, call := range map[string]func(context.Context) error{
		"agent groups of an unknown account": func(ctx context.Context) error { _, _, err := c.ListAgentGroups(ctx, "99999", nil); return err },
		"agents of an unknown group":         func(ctx context.Context) error { _, _, err := c.ListAgents(ctx, acc, 1); return err },
	} {
		var ae *engageclient.APIError
		if err := call(ctx); !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %v, want a 404 APIError", name, err)
		}
	}
	// Close: logout (200 text/plain) + revoke (platform).
	step("close", c.Close)

	e.violations(t)

	// Every documented operation was called and answered; the error paths were served.
	st := e.tr.Statuses()
	for _, o := range apispec.Operations() {
		if ok := slices.ContainsFunc(keys(st[o.String()]), func(s int) bool { return s >= 200 && s < 300 }); !ok {
			t.Errorf("%s: no successful answer (statuses %v)", o, st[o.String()])
		}
	}
	ops := apispec.Operations()
	for _, want := range []struct {
		op     apispec.Operation
		status int
	}{
		{ops[0], 401}, {ops[1], 401}, {ops[2], 429}, {ops[2], 404}, {ops[3], 500}, {ops[3], 404},
	} {
		if st[want.op.String()][want.status] == 0 {
			t.Errorf("%s: no %d answer (statuses %v)", want.op, want.status, st[want.op.String()])
		}
	}
	for _, p := range []string{"platform POST /restapi/oauth/token", "platform POST /restapi/oauth/revoke"} {
		if st[p][http.StatusOK] == 0 {
			t.Errorf("%s: not called (statuses %v)", p, st[p])
		}
	}
	if fs := fake.Stats(); fs.Refreshes == 0 || fs.Exchanges == 0 {
		t.Errorf("fake stats %+v: want a refresh and an exchange", fs)
	}
}

// TestSpecCatchesOffSpecValues shows both sides of the line: the client tolerates values the
// spec does not allow (ids as numeric strings, which GROKIFY's types suggest: docs/api.md, Dates
// and types; a date in RFC 3339; an unknown enum value), and the validation reports each of
// them at its JSON path. The fake never generates them; this test sets them.
func TestSpecCatchesOffSpecValues(t *testing.T) {
	t.Parallel()
	e := newSpecEnv(t, engagefake.Options{Seed: 3, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 3, Users: 3}})
	ctx := t.Context()
	fake := e.fake
	acc := fake.SubAccountIDs()[0]
	gid := fake.AgentGroupIDs(acc)[0]
	aids := fake.AgentIDs(gid)
	uids := fake.UserIDs()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[1], "rcUserId", "62000000777") }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[2], "groupId", fmt.Sprint(gid)) }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[2], "agentGroupId", engagefake.Omit) }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(uids[1], "rcUserId", "63000000777") }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "agentType", "ROBOT") }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "createdOn", "2020-05-18T19:22:12Z") }))
	must(fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateUser(uids[2], "roles", []map[string]any{{"roleType": "USER"}, {"roleType": "ADMIN"}})
	}))

	agents, _, err := e.c.ListAgents(ctx, acc, int64(gid))
	must(err)
	if len(agents) != 3 || agents[1].RCUserID == nil || *agents[1].RCUserID != 62000000777 ||
		agents[2].AgentGroupID == nil || *agents[2].AgentGroupID != int64(gid) {
		t.Errorf("the client did not decode the string ids: %+v %+v", agents[1], agents[2])
	}
	users, _, err := e.c.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
	must(err)
	if i := slices.IndexFunc(users, func(u *engageclient.User) bool { return u.UserID == int64(uids[1]) }); i < 0 ||
		users[i].RCUserID == nil || *users[i].RCUserID != 63000000777 {
		t.Errorf("the client did not decode user %d's string rcUserId", uids[1])
	}
	must(e.c.Close(ctx))

	var got []string
	for _, v := range e.tr.Violations() {
		got = append(got, v.Operation+" "+v.Where+" "+v.Pointer)
	}
	agentsOp := "GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents (getAgentList) response 200 "
	usersOp := "GET /voice/api/v1/admin/users (listAllUsers) response 200 "
	want := []string{
		agentsOp + "/0/agentType",
		agentsOp + "/0/createdOn",
		agentsOp + "/1/rcUserId",
		agentsOp + "/2/groupId",
		usersOp + "/1/rcUserId",
		usersOp + "/2/roles/1/roleType",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n  %s\nwant:\n  %s\nall: %v", strings.Join(got, "\n  "), strings.Join(want, "\n  "), e.tr.Violations())
	}
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// configListings lists the configuration of every sub-account with the client (queue groups
// with their queues, skills, queues' assigned agents in full and paged, dial groups with their
// campaigns, dial groups' assigned agents) and checks the totals against the fake's counts.
func configListings(t *testing.T, c *engageclient.Client, step func(string, func(context.Context) error), accounts []*engageclient.Account, want engagefake.Counts) {
	t.Helper()
	var got engagefake.Counts
	for _, a := range accounts {
		var groups []*engageclient.GateGroup
		var dialGroups []*engageclient.DialGroup
		step("queue groups of "+a.AccountID, func(ctx context.Context) (err error) {
			groups, _, err = c.ListGateGroupsWithChildren(ctx, a.AccountID)
			return err
		})
		step("dial groups of "+a.AccountID, func(ctx context.Context) (err error) {
			dialGroups, _, err = c.ListDialGroupsWithChildren(ctx, a.AccountID)
			return err
		})
		got.QueueGroups += len(groups)
		got.DialGroups += len(dialGroups)
		for _, g := range groups {
			got.Queues += len(g.Gates)
			step(fmt.Sprintf("skills of %s/%d", a.AccountID, g.GateGroupID), func(ctx context.Context) error {
				list, _, err := c.ListGateGroupSkills(ctx, a.AccountID, g.GateGroupID)
				got.Skills += len(list)
				return err
			})
			for _, q := range g.Gates {
				step(fmt.Sprintf("agents of queue %s/%d", a.AccountID, q.GateID), func(ctx context.Context) error {
					full, _, err := c.ListGateAssignedAgents(ctx, a.AccountID, g.GateGroupID, q.GateID, nil)
					if err != nil {
						return err
					}
					paged, _, err := c.ListGateAssignedAgents(ctx, a.AccountID, g.GateGroupID, q.GateID, &engageclient.ListOptions{MaxRows: 2})
					if err == nil && len(paged) != len(full) {
						err = fmt.Errorf("paged: %d agents, full list %d", len(paged), len(full))
					}
					got.QueueAssignments += len(full)
					return err
				})
			}
		}
		for _, d := range dialGroups {
			got.Campaigns += len(d.Campaigns)
			step(fmt.Sprintf("agents of dial group %s/%d", a.AccountID, d.DialGroupID), func(ctx context.Context) error {
				list, _, err := c.ListDialGroupAssignedAgents(ctx, a.AccountID, d.DialGroupID, &engageclient.ListOptions{MaxRows: 2})
				got.DialGroupAssignments += len(list)
				return err
			})
		}
	}
	want.MainAccounts, want.SubAccounts, want.Users, want.AgentGroups, want.Agents = 0, 0, 0, 0, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configuration listed (-want +got):\n%s", diff)
	}
}
