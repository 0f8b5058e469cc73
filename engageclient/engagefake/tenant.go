package engagefake

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Tenant is the fake's upstream data. Only the skeleton (ids and links) is stored; every other
// field is generated on demand from the seed and the entity's id, then the entity's Set
// overrides are applied. Read and change it only inside Server.Mutate.
type Tenant struct {
	Seed         int64
	MainAccounts []*MainAccount
	SubAccounts  []*SubAccount // the rows of GET /voice/api/v1/admin/accounts, in this order
	Users        []*User       // admin users; order = flattened listing order

	nextMain, nextSub, nextGroup, nextAgent, nextUser int
	configIndex

	subByID   map[string]*SubAccount
	groupByID map[int]*AgentGroup
	agentByID map[int]*Agent
	userByID  map[int]*User
	mainByID  map[string]*MainAccount
}

// MainAccount is a main (top-level) account. It appears in the API only through its
// sub-accounts (mainAccountId, mainAccountName and the nested "mainAccount" object).
type MainAccount struct {
	ID  string         // mainAccountId, a numeric-looking string such as "10001"
	Set map[string]any // overrides for the nested "mainAccount" object's fields
}

// SubAccount is one row of GET /voice/api/v1/admin/accounts (an Engage "account").
type SubAccount struct {
	ID            string         // accountId, numeric-looking string such as "20001"
	MainAccountID string         // parent main account
	Groups        []*AgentGroup  // agent groups, in listing order
	QueueGroups   []*QueueGroup  // queue (gate) groups, in listing order
	DialGroups    []*DialGroup   // dial groups, in listing order
	Set           map[string]any // field overrides of the Account JSON object (Omit removes a field)
}

// AgentGroup is one agent group of a sub-account.
type AgentGroup struct {
	ID        int            // agentGroupId, unique in the tenant
	AccountID string         // owning sub-account
	Agents    []*Agent       // agents, in listing order
	Set       map[string]any // field overrides of the AgentGroup JSON object

	isDefault bool // the first group generated or added to its sub-account
}

// Agent is one agent; every agent belongs to exactly one agent group.
type Agent struct {
	ID        int            // agentId, unique in the tenant
	GroupID   int            // agentGroupId
	AccountID string         // sub-account id
	Set       map[string]any // field overrides of the Agent JSON object
}

// User is one admin-portal user. ParentID 0 means a root user.
type User struct {
	ID       int            // userId
	ParentID int            // parent userId, 0 for a root user
	Set      map[string]any // field overrides of the User JSON object
}

// ErrNotFound is returned by the mutation helpers for an unknown id.
var ErrNotFound = errors.New("engagefake: no such entity")

// ID bases of the generated tenant.
const (
	mainIDBase  = 10001
	subIDBase   = 20001
	groupIDBase = 30001
	agentIDBase = 100001
	userIDBase  = 1000
)

// newTenant generates the skeleton of a tenant.
func newTenant(seed int64, spec TenantSpec) *Tenant {
	t := &Tenant{Seed: seed, nextMain: mainIDBase, nextSub: subIDBase, nextGroup: groupIDBase, nextAgent: agentIDBase, nextUser: userIDBase}
	t.startIDs()
	t.reindex()
	for range spec.MainAccounts {
		m := t.AddMainAccount()
		for range spec.SubAccountsPerMain {
			sa, _ := t.AddSubAccount(m.ID)
			for range spec.AgentGroupsPerSubAccount {
				g, _ := t.AddAgentGroup(sa.ID)
				g.Agents = slices.Grow(g.Agents, spec.AgentsPerGroup)
				for range spec.AgentsPerGroup {
					_, _ = t.AddAgent(g.ID)
				}
			}
			t.generateConfig(sa, spec)
		}
	}
	// The user hierarchy: the first user and about one in eight others are roots; every other
	// user's parent is an earlier user, preferring recent ones so that paths get deep.
	r := entityRand(seed, kindUserTree, 0)
	for i := range spec.Users {
		parent := 0
		if i > 0 && r.IntN(8) != 0 {
			lo := max(0, i-6)
			parent = t.Users[lo+r.IntN(i-lo)].ID
		}
		_, _ = t.AddUser(parent)
	}
	return t
}

// reindex rebuilds the lookup maps from the slices (after arbitrary edits inside Mutate).
func (t *Tenant) reindex() {
	t.mainByID = make(map[string]*MainAccount, len(t.MainAccounts))
	t.subByID = make(map[string]*SubAccount, len(t.SubAccounts))
	t.groupByID = make(map[int]*AgentGroup)
	t.agentByID = make(map[int]*Agent)
	t.userByID = make(map[int]*User, len(t.Users))
	for _, m := range t.MainAccounts {
		t.mainByID[m.ID] = m
	}
	for _, sa := range t.SubAccounts {
		t.subByID[sa.ID] = sa
		for _, g := range sa.Groups {
			g.AccountID = sa.ID
			t.groupByID[g.ID] = g
			for _, a := range g.Agents {
				a.GroupID, a.AccountID = g.ID, sa.ID
				t.agentByID[a.ID] = a
			}
		}
	}
	for _, u := range t.Users {
		t.userByID[u.ID] = u
	}
	t.reindexConfig()
}

// MainAccount returns the main account with id, or nil.
func (t *Tenant) MainAccount(id string) *MainAccount { return t.mainByID[id] }

// SubAccount returns the sub-account with id, or nil.
func (t *Tenant) SubAccount(id string) *SubAccount { return t.subByID[id] }

// AgentGroup returns the agent group with id, or nil.
func (t *Tenant) AgentGroup(id int) *AgentGroup { return t.groupByID[id] }

// Agent returns the agent with id, or nil.
func (t *Tenant) Agent(id int) *Agent { return t.agentByID[id] }

// User returns the user with id, or nil.
func (t *Tenant) User(id int) *User { return t.userByID[id] }

// Agents yields every agent, sub-account by sub-account and group by group, in listing order.
func (t *Tenant) Agents() iter.Seq[*Agent] {
	return func(yield func(*Agent) bool) {
		for _, sa := range t.SubAccounts {
			for _, g := range sa.Groups {
				for _, a := range g.Agents {
					if !yield(a) {
						return
					}
				}
			}
		}
	}
}

// AddMainAccount adds a main account with the next free id. It is not visible in the API until
// it has a sub-account.
func (t *Tenant) AddMainAccount() *MainAccount {
	m := &MainAccount{ID: strconv.Itoa(t.nextMain)}
	t.nextMain++
	t.MainAccounts = append(t.MainAccounts, m)
	t.mainByID[m.ID] = m
	return m
}

// AddSubAccount adds an empty sub-account (no agent groups) under an existing main account.
func (t *Tenant) AddSubAccount(mainAccountID string) (*SubAccount, error) {
	if t.mainByID[mainAccountID] == nil {
		return nil, fmt.Errorf("adding sub-account to main account %s: %w", mainAccountID, ErrNotFound)
	}
	sa := &SubAccount{ID: strconv.Itoa(t.nextSub), MainAccountID: mainAccountID}
	t.nextSub++
	t.SubAccounts = append(t.SubAccounts, sa)
	t.subByID[sa.ID] = sa
	return sa, nil
}

// AddAgentGroup adds an empty agent group to a sub-account; the first group added to a
// sub-account without groups is its default group.
func (t *Tenant) AddAgentGroup(accountID string) (*AgentGroup, error) {
	sa := t.subByID[accountID]
	if sa == nil {
		return nil, fmt.Errorf("adding agent group to account %s: %w", accountID, ErrNotFound)
	}
	g := &AgentGroup{ID: t.nextGroup, AccountID: accountID, isDefault: len(sa.Groups) == 0}
	t.nextGroup++
	sa.Groups = append(sa.Groups, g)
	t.groupByID[g.ID] = g
	return g, nil
}

// AddAgent adds a generated agent to an agent group.
func (t *Tenant) AddAgent(groupID int) (*Agent, error) {
	g := t.groupByID[groupID]
	if g == nil {
		return nil, fmt.Errorf("adding agent to agent group %d: %w", groupID, ErrNotFound)
	}
	a := &Agent{ID: t.nextAgent, GroupID: g.ID, AccountID: g.AccountID}
	t.nextAgent++
	g.Agents = append(g.Agents, a)
	t.agentByID[a.ID] = a
	return a, nil
}

// AddUser adds a generated admin user under parentID (0 = a new root user).
func (t *Tenant) AddUser(parentID int) (*User, error) {
	if parentID != 0 && t.userByID[parentID] == nil {
		return nil, fmt.Errorf("adding user under user %d: %w", parentID, ErrNotFound)
	}
	u := &User{ID: t.nextUser, ParentID: parentID}
	t.nextUser++
	t.Users = append(t.Users, u)
	t.userByID[u.ID] = u
	return u, nil
}

// RemoveSubAccount removes a sub-account with its agent groups and agents and its
// configuration.
func (t *Tenant) RemoveSubAccount(id string) error {
	i := slices.IndexFunc(t.SubAccounts, func(sa *SubAccount) bool { return sa.ID == id })
	if i < 0 {
		return fmt.Errorf("removing sub-account %s: %w", id, ErrNotFound)
	}
	sa := t.SubAccounts[i]
	for _, g := range slices.Clone(sa.QueueGroups) {
		_ = t.RemoveQueueGroup(g.ID)
	}
	for _, d := range slices.Clone(sa.DialGroups) {
		_ = t.RemoveDialGroup(d.ID)
	}
	t.SubAccounts = slices.Delete(t.SubAccounts, i, i+1)
	delete(t.subByID, id)
	for _, g := range sa.Groups {
		t.dropGroupIndex(g)
	}
	return nil
}

// dropGroupIndex removes g and its agents from the lookup maps and their assignments.
func (t *Tenant) dropGroupIndex(g *AgentGroup) {
	delete(t.groupByID, g.ID)
	for _, a := range g.Agents {
		delete(t.agentByID, a.ID)
		t.unassignEverywhere(a.ID)
	}
}

// RemoveAgentGroup removes an agent group with its agents.
func (t *Tenant) RemoveAgentGroup(id int) error {
	g := t.groupByID[id]
	if g == nil {
		return fmt.Errorf("removing agent group %d: %w", id, ErrNotFound)
	}
	sa := t.subByID[g.AccountID]
	sa.Groups = slices.DeleteFunc(sa.Groups, func(x *AgentGroup) bool { return x == g })
	t.dropGroupIndex(g)
	return nil
}

// RemoveAgent removes an agent with its queue and dial group assignments.
func (t *Tenant) RemoveAgent(id int) error {
	a := t.agentByID[id]
	if a == nil {
		return fmt.Errorf("removing agent %d: %w", id, ErrNotFound)
	}
	g := t.groupByID[a.GroupID]
	g.Agents = slices.DeleteFunc(g.Agents, func(x *Agent) bool { return x == a })
	delete(t.agentByID, id)
	t.unassignEverywhere(id)
	return nil
}

// MoveAgent moves an agent to another agent group (possibly of another sub-account).
func (t *Tenant) MoveAgent(id, toGroupID int) error {
	a, to := t.agentByID[id], t.groupByID[toGroupID]
	if a == nil || to == nil {
		return fmt.Errorf("moving agent %d to agent group %d: %w", id, toGroupID, ErrNotFound)
	}
	from := t.groupByID[a.GroupID]
	from.Agents = slices.DeleteFunc(from.Agents, func(x *Agent) bool { return x == a })
	to.Agents = append(to.Agents, a)
	if to.AccountID != a.AccountID {
		t.unassignEverywhere(id) // assignments stay within a sub-account
	}
	a.GroupID, a.AccountID = to.ID, to.AccountID
	return nil
}

// RemoveUser removes an admin user; its children move up to its parent (or become roots).
func (t *Tenant) RemoveUser(id int) error {
	u := t.userByID[id]
	if u == nil {
		return fmt.Errorf("removing user %d: %w", id, ErrNotFound)
	}
	for _, c := range t.Users {
		if c.ParentID == id {
			c.ParentID = u.ParentID
		}
	}
	t.Users = slices.DeleteFunc(t.Users, func(x *User) bool { return x == u })
	delete(t.userByID, id)
	return nil
}

// setField records one field override.
func setField(m *map[string]any, field string, value any) {
	if *m == nil {
		*m = make(map[string]any)
	}
	(*m)[field] = value
}

// UpdateSubAccount overrides one JSON field of a sub-account (Omit removes it, nil sends null).
func (t *Tenant) UpdateSubAccount(id, field string, value any) error {
	sa := t.subByID[id]
	if sa == nil {
		return fmt.Errorf("updating sub-account %s: %w", id, ErrNotFound)
	}
	setField(&sa.Set, field, value)
	return nil
}

// UpdateMainAccount overrides one field of a main account's nested "mainAccount" object;
// "mainAccountName" also changes the top-level mainAccountName of its sub-accounts.
func (t *Tenant) UpdateMainAccount(id, field string, value any) error {
	m := t.mainByID[id]
	if m == nil {
		return fmt.Errorf("updating main account %s: %w", id, ErrNotFound)
	}
	setField(&m.Set, field, value)
	return nil
}

// UpdateAgentGroup overrides one JSON field of an agent group.
func (t *Tenant) UpdateAgentGroup(id int, field string, value any) error {
	g := t.groupByID[id]
	if g == nil {
		return fmt.Errorf("updating agent group %d: %w", id, ErrNotFound)
	}
	setField(&g.Set, field, value)
	return nil
}

// UpdateAgent overrides one JSON field of an agent.
func (t *Tenant) UpdateAgent(id int, field string, value any) error {
	a := t.agentByID[id]
	if a == nil {
		return fmt.Errorf("updating agent %d: %w", id, ErrNotFound)
	}
	setField(&a.Set, field, value)
	return nil
}

// UpdateUser overrides one JSON field of a user.
func (t *Tenant) UpdateUser(id int, field string, value any) error {
	u := t.userByID[id]
	if u == nil {
		return fmt.Errorf("updating user %d: %w", id, ErrNotFound)
	}
	setField(&u.Set, field, value)
	return nil
}

// Counts are the numbers of live upstream rows.
type Counts struct {
	MainAccounts int // distinct main accounts having at least one sub-account
	SubAccounts  int
	Users        int
	AgentGroups  int
	Agents       int
	// The configuration.
	QueueGroups, Queues, Skills, DialGroups, Campaigns int
	QueueAssignments, DialGroupAssignments             int // agents assigned to queues, to dial groups
}

// Counts returns the live row counts of t.
func (t *Tenant) Counts() Counts {
	c := Counts{SubAccounts: len(t.SubAccounts), Users: len(t.Users)}
	mains := make(map[string]bool)
	for _, sa := range t.SubAccounts {
		mains[sa.MainAccountID] = true
		c.AgentGroups += len(sa.Groups)
		for _, g := range sa.Groups {
			c.Agents += len(g.Agents)
		}
	}
	c.MainAccounts = len(mains)
	t.configCounts(&c)
	return c
}

// entity kinds, mixed into the per-entity random streams.
const (
	kindMain uint64 = iota + 1
	kindSub
	kindGroup
	kindAgent
	kindUser
	kindUserTree
	kindQueueGroup
	kindQueue
	kindSkill
	kindDialGroup
	kindCampaign
	kindQueueAssign
	kindDialAssign
)

// entityRand returns the deterministic random stream of one entity.
func entityRand(seed int64, kind uint64, id int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), kind<<40|uint64(id)))
}
