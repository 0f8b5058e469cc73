package engagefake_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/google/go-cmp/cmp"
)

// listing helpers over the HTTP API.
func accountsByID(t *testing.T, base, at string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, a := range decode[[]map[string]any](t, get(t, base+accountsPath, at)) {
		out[a["accountId"].(string)] = a
	}
	return out
}

func groupsByID(t *testing.T, base, at, acc string) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, g := range decode[[]map[string]any](t, get(t, base+groupsPath(acc), at)) {
		out[int(g["agentGroupId"].(float64))] = g
	}
	return out
}

func agentsByID(t *testing.T, base, at, acc string, gid int) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, a := range decode[[]map[string]any](t, get(t, base+agentsPath(acc, gid), at)) {
		out[int(a["agentId"].(float64))] = a
	}
	return out
}

func usersByID(t *testing.T, base, at string) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, u := range decode[[]map[string]any](t, get(t, base+usersPath+"?flatten=true", at)) {
		out[int(u["userId"].(float64))] = u
	}
	return out
}

func TestMutateSubAccounts(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	before := accountsByID(t, base, at) // also fills the cache, which mutations must drop
	ids := s.SubAccountIDs()

	var newID string
	err := s.Mutate(func(tn *engagefake.Tenant) error {
		sa, err := tn.AddSubAccount("10001")
		if err == nil {
			newID = sa.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(ids[0], "accountName", "Renamed Ünit") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount(ids[0], "crmHost", engagefake.Omit) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveSubAccount(ids[1]) }); err != nil {
		t.Fatal(err)
	}
	after := accountsByID(t, base, at)
	if _, ok := after[newID]; !ok || len(after) != len(before) {
		t.Errorf("accounts after add+remove: %v", slices.Sorted(mapsKeys(after)))
	}
	if _, ok := after[ids[1]]; ok {
		t.Error("removed sub-account still listed")
	}
	if after[ids[0]]["accountName"] != "Renamed Ünit" {
		t.Errorf("accountName = %v", after[ids[0]]["accountName"])
	}
	if _, ok := after[ids[0]]["crmHost"]; ok {
		t.Error("Omit did not remove crmHost")
	}
	if c := s.Counts(); c.SubAccounts != 2 || c.AgentGroups != 3 || c.Agents != 15 {
		t.Errorf("Counts after removing a sub-account = %+v", c)
	}
	if r := get(t, base+groupsPath(ids[1]), at); r.status != 404 {
		t.Errorf("groups of a removed sub-account: %d, want 404", r.status)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateSubAccount("nope", "accountName", "x") }); !errors.Is(err, engagefake.ErrNotFound) {
		t.Errorf("UpdateSubAccount(unknown) = %v", err)
	}
	// Main accounts: rename shows through the sub-accounts; a new main account comes with a sub-account.
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateMainAccount("10001", "mainAccountName", "Nouvelle Société")
	}); err != nil {
		t.Fatal(err)
	}
	var mainID, subID string
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		mainID = tn.AddMainAccount().ID
		sa, err := tn.AddSubAccount(mainID)
		if err == nil {
			subID = sa.ID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	after = accountsByID(t, base, at)
	if after[ids[0]]["mainAccountName"] != "Nouvelle Société" {
		t.Errorf("mainAccountName = %v", after[ids[0]]["mainAccountName"])
	}
	if after[subID]["mainAccountId"] != mainID {
		t.Errorf("new sub-account's mainAccountId = %v, want %s", after[subID]["mainAccountId"], mainID)
	}
	if got := s.Counts().MainAccounts; got != 2 {
		t.Errorf("MainAccounts = %d, want 2", got)
	}
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestMutateAgentGroups(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	gids := s.AgentGroupIDs(acc)
	_ = groupsByID(t, base, at, acc)

	var gid int
	err := s.Mutate(func(tn *engagefake.Tenant) error {
		g, err := tn.AddAgentGroup(acc)
		if err == nil {
			gid = g.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgentGroup(gids[1], "groupName", "渡辺チーム") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgentGroup(gids[2]) }); err != nil {
		t.Fatal(err)
	}
	got := groupsByID(t, base, at, acc)
	if _, ok := got[gid]; !ok {
		t.Error("added group not listed")
	}
	if _, ok := got[gids[2]]; ok {
		t.Error("removed group still listed")
	}
	if got[gids[1]]["groupName"] != "渡辺チーム" {
		t.Errorf("groupName = %v", got[gids[1]]["groupName"])
	}
	if n := len(agentsByID(t, base, at, acc, gid)); n != 0 {
		t.Errorf("new group has %d agents, want 0", n)
	}
	if r := get(t, base+agentsPath(acc, gids[2]), at); r.status != 404 {
		t.Errorf("agents of a removed group: %d, want 404", r.status)
	}
	if c := s.Counts(); c.AgentGroups != 6 || c.Agents != 25 {
		t.Errorf("Counts = %+v, want 6 groups and 25 agents", c)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgentGroup(gids[2]) }); !errors.Is(err, engagefake.ErrNotFound) {
		t.Errorf("removing twice = %v", err)
	}
	// Removing the default group changes no other group.
	before := groupsByID(t, base, at, acc)
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgentGroup(gids[0]) }); err != nil {
		t.Fatal(err)
	}
	for id, g := range groupsByID(t, base, at, acc) {
		if diff := cmp.Diff(before[id], g); diff != "" {
			t.Errorf("group %d changed when the default group was removed (-before +after):\n%s", id, diff)
		}
	}
}

func TestMutateAgents(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	gids := s.AgentGroupIDs(acc)
	aids := s.AgentIDs(gids[0])
	_ = agentsByID(t, base, at, acc, gids[0])

	var newID int
	err := s.Mutate(func(tn *engagefake.Tenant) error {
		a, err := tn.AddAgent(gids[0])
		if err == nil {
			newID = a.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "firstName", "Zoë") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "lastLoginDate", nil) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "isActive", false) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveAgent(aids[1]) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.MoveAgent(aids[2], gids[1]) }); err != nil {
		t.Fatal(err)
	}
	got := agentsByID(t, base, at, acc, gids[0])
	if _, ok := got[newID]; !ok {
		t.Error("added agent not listed")
	}
	for _, gone := range []int{aids[1], aids[2]} {
		if _, ok := got[gone]; ok {
			t.Errorf("agent %d still listed in its old group", gone)
		}
	}
	want := map[string]any{"firstName": "Zoë", "lastLoginDate": nil, "isActive": false}
	for k, v := range want {
		if got[aids[0]][k] != v {
			t.Errorf("%s = %v, want %v", k, got[aids[0]][k], v)
		}
	}
	moved := agentsByID(t, base, at, acc, gids[1])[aids[2]]
	if moved == nil {
		t.Fatal("moved agent not listed in its new group")
	}
	if gid := moved["groupId"]; gid != float64(gids[1]) {
		t.Errorf("moved agent groupId = %v, want %d", gid, gids[1])
	}
	// Unchanged agents stay byte-identical across mutations of others.
	other := s.AgentIDs(gids[2])[0]
	before := agentsByID(t, base, at, acc, gids[2])[other]
	_ = s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[0], "team", "x") })
	if diff := cmp.Diff(before, agentsByID(t, base, at, acc, gids[2])[other]); diff != "" {
		t.Errorf("unrelated agent changed (-before +after):\n%s", diff)
	}
	if c := s.Counts(); c.Agents != 30 {
		t.Errorf("Agents = %d, want 30", c.Agents)
	}
}

func TestMutateUsers(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Tenant: engagefake.TenantSpec{Users: 20}})
	at, _ := login(t, base)
	before := usersByID(t, base, at)
	ids := s.UserIDs()
	// Pick a user with children to remove.
	var victim int
	for _, id := range ids {
		for _, u := range before {
			if u["parentPath"] == childPath(before[id]["parentPath"], id) {
				victim = id
			}
		}
		if victim != 0 {
			break
		}
	}
	if victim == 0 {
		t.Fatal("no user with children")
	}
	var child, root int
	err := s.Mutate(func(tn *engagefake.Tenant) error {
		u, err := tn.AddUser(victim)
		if err == nil {
			child = u.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Mutate(func(tn *engagefake.Tenant) error {
		u, err := tn.AddUser(0)
		if err == nil {
			root = u.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(ids[0], "lastName", "Łukaszewicz") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateUser(ids[0], "roles", []map[string]string{{"roleType": "NO_ACCESS", "description": "none"}})
	}); err != nil {
		t.Fatal(err)
	}
	got := usersByID(t, base, at)
	if got[child]["parentPath"] != childPath(before[victim]["parentPath"], victim) {
		t.Errorf("new child's parentPath = %v", got[child]["parentPath"])
	}
	if pp, ok := got[root]["parentPath"]; !ok || pp != nil || got[root]["rootUser"] != true {
		t.Errorf("new root user: parentPath %#v (present %v), rootUser %v; want null, true", pp, ok, got[root]["rootUser"])
	}
	if got[ids[0]]["lastName"] != "Łukaszewicz" {
		t.Errorf("lastName = %v", got[ids[0]]["lastName"])
	}
	if roles := got[ids[0]]["roles"].([]any); len(roles) != 1 || roles[0].(map[string]any)["roleType"] != "NO_ACCESS" {
		t.Errorf("roles = %v", roles)
	}
	if err := s.Mutate(func(tn *engagefake.Tenant) error { return tn.RemoveUser(victim) }); err != nil {
		t.Fatal(err)
	}
	got = usersByID(t, base, at)
	if _, ok := got[victim]; ok {
		t.Error("removed user still listed")
	}
	if got[child]["parentPath"] != before[victim]["parentPath"] {
		t.Errorf("orphan's parentPath = %v, want its grandparent path %v", got[child]["parentPath"], before[victim]["parentPath"])
	}
	if c := s.Counts(); c.Users != 21 {
		t.Errorf("Users = %d, want 21", c.Users)
	}
}

func TestMutateDirect(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	// Edit the slices directly; indexes are rebuilt after fn.
	_ = s.Mutate(func(tn *engagefake.Tenant) error {
		sa := tn.SubAccounts[0]
		sa.Groups = sa.Groups[:1]
		sa.Set = map[string]any{"archivedAccount": true, "extraField": "new"}
		return nil
	})
	acc := s.SubAccountIDs()[0]
	if got := len(s.AgentGroupIDs(acc)); got != 1 {
		t.Fatalf("groups = %d, want 1", got)
	}
	a := accountsByID(t, base, at)[acc]
	if a["archivedAccount"] != true || a["extraField"] != "new" {
		t.Errorf("account = %v", a)
	}
	if c := s.Counts(); c.AgentGroups != 4 || c.Agents != 20 {
		t.Errorf("Counts = %+v", c)
	}
	var found bool
	gid := s.AgentGroupIDs(acc)[0]
	_ = s.Mutate(func(tn *engagefake.Tenant) error { found = tn.AgentGroup(gid) != nil; return nil })
	if !found {
		t.Error("AgentGroup lookup inside Mutate failed")
	}
}

// childPath is the parentPath of a child of the user with id and parentPath parent (a string,
// or nil for a root user): the ancestors' ids joined with ".".
func childPath(parent any, id int) string {
	if p, ok := parent.(string); ok && p != "" {
		return p + "." + strconv.Itoa(id)
	}
	return strconv.Itoa(id)
}

// Agents yields every agent once, in listing order, and stops when told.
func TestTenantAgents(t *testing.T) {
	t.Parallel()
	s := engagefake.New(engagefake.Options{Seed: 3, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2,
		AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 1, QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}})
	var ids []int
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		for a := range tn.Agents() {
			ids = append(ids, a.ID)
		}
		for range tn.Agents() {
			break
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != s.Counts().Agents || !slices.IsSorted(ids) {
		t.Errorf("Agents yielded %v for %d agents", ids, s.Counts().Agents)
	}
}
