// Package entity describes every entity evsync syncs, once: its table, key and typed columns
// (with the API field each is read from), its scope rule, the listing it comes from and what it
// implies in `--entities`. Both sync (the fetch plan, scope completeness, the rows it builds)
// and db (staging, the publish SQL, history, the ledger's vocabulary) derive from these
// descriptions, and so do `--entities` validation, `status` and the metrics.
//
// Adding an entity is: its description here (Since: the next migration's number), the migration
// `go run ./internal/tools/genmigration <verb_noun>` writes (the SQL that lists every entity,
// rendered from these descriptions, and the new tables), its client listing, its fake
// endpoint, the row it is built into (sync/rows.go) and its tests.
package entity

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Name names one synced entity: its table, its history table (<name>_history), its name in
// `--entities` and in sync_run_scopes.entity.
type Name string

// The entities.
const (
	Accounts        Name = "accounts"
	SubAccounts     Name = "sub_accounts"
	Users           Name = "users"
	AgentGroups     Name = "agent_groups"
	Agents          Name = "agents"
	QueueGroups     Name = "queue_groups"
	Queues          Name = "queues"
	Skills          Name = "skills"
	DialGroups      Name = "dial_groups"
	Campaigns       Name = "campaigns"
	AgentQueues     Name = "agent_queues"
	AgentDialGroups Name = "agent_dial_groups"
)

// Kind is a typed column's Postgres type.
type Kind uint8

// The column kinds.
const (
	Text      Kind = iota + 1 // text
	Int                       // bigint
	Bool                      // boolean
	Time                      // timestamptz
	TextArray                 // text[]
	JSON                      // jsonb
)

// SQL returns the kind's Postgres type name.
func (k Kind) SQL() string {
	switch k {
	case Text:
		return "text"
	case Int:
		return "bigint"
	case Bool:
		return "boolean"
	case Time:
		return "timestamp with time zone"
	case TextArray:
		return "text[]"
	case JSON:
		return "jsonb"
	}
	return "unknown"
}

// Column is one typed column of an entity table.
type Column struct {
	Name string // the table column
	Kind Kind
	// From says how the value is read from the API object: its field ("gateName"), or where
	// else it comes from ("the listing's sub-account").
	From string
	// Doc is what the column holds, in a sentence for its users: the database's comment on
	// the column and `syncer tables` show it.
	Doc string
}

// ScopeRule says how an entity's rows divide into scopes (the unit that completes, fails and
// soft-deletes together, and that the mass-delete breaker counts).
type ScopeRule uint8

// The scope rules.
const (
	// OneScope: one scope, "all", per run.
	OneScope ScopeRule = iota + 1
	// PerSubAccount: one scope per sub-account, named by its id, the key's text part.
	PerSubAccount
)

// ScopeAll is the scope of the entities that have a single one (OneScope).
const ScopeAll = "all"

// Desc describes one entity.
type Desc struct {
	Name Name
	// Doc is what the entity's table holds, in a sentence for its users: the database's
	// comment on the table and `syncer tables` show it.
	Doc string
	// Key is the primary key: a text part first when there is one (the sub-account id of a
	// PerSubAccount entity), then up to two bigint parts.
	Key     []Column
	Columns []Column // the typed non-key columns, in table order
	Scope   ScopeRule
	// Listing is the listing the entity's rows come from; its scope is complete when every
	// request of that listing and of the listings above it completed for the scope.
	Listing *Listing
	// Implies are the entities a run of this one also lists and publishes.
	Implies []Name
	// Fields maps a column to the paths of the entity's API object its value is read from,
	// where From is not simply that path (Column.Paths).
	Fields map[string][]string
	// Since is the version of the migration that created the entity's tables: the SQL that
	// lists every entity is rendered, as of any migration, from the entities it knew (AsOf).
	Since int64
}

// pathRE matches a From that is a path of the API object: "gateName", "roles[].roleType".
var pathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[\]|\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// Paths returns the paths of the entity's API object (the one whose fields api_fields
// records) that column c's value is read from: Fields' entry, else From when it is a path,
// else none (the value comes from the listing, not the object).
func (d *Desc) Paths(c Column) []string {
	if p, ok := d.Fields[c.Name]; ok {
		return p
	}
	if pathRE.MatchString(c.From) {
		return []string{c.From}
	}
	return nil
}

// ColumnsFed returns the columns, key columns included, whose values are read from path of
// the entity's API object, as table.column ("agents.is_active"): what a removed path or a
// changed type affects.
func (d *Desc) ColumnsFed(path string) []string {
	var out []string
	for _, c := range slices.Concat(d.Key, d.Columns) {
		if slices.Contains(d.Paths(c), path) {
			out = append(out, string(d.Name)+"."+c.Name)
		}
	}
	return out
}

// Listing is one kind of request a run makes: an endpoint, made once per item of its Parent
// listing (once per run when Parent is nil).
type Listing struct {
	Name   string // short name: "gateGroups/withChildren"
	Path   string // the request: "GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/withChildren"
	Per    string // what one request is made for: "run", "sub-account", "queue", ...
	Parent *Listing
}

// The listings, parents before children.
var (
	ListAccounts = &Listing{Name: "accounts", Path: "GET /voice/api/v1/admin/accounts", Per: "run"}
	ListUsers    = &Listing{Name: "users", Path: "GET /voice/api/v1/admin/users?flatten=true", Per: "run"}
	// The per-sub-account listings run for each sub-account the accounts listing found.
	ListAgentGroups = &Listing{Name: "agentGroups", Path: "GET /voice/api/v1/admin/accounts/{accountId}/agentGroups",
		Per: "sub-account", Parent: ListAccounts}
	ListAgents = &Listing{Name: "agents", Path: "GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents",
		Per: "agent group", Parent: ListAgentGroups}
	ListGateGroups = &Listing{Name: "gateGroups/withChildren", Path: "GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/withChildren",
		Per: "sub-account", Parent: ListAccounts}
	ListGateGroupSkills = &Listing{Name: "gateGroups/skills", Path: "GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills",
		Per: "queue group", Parent: ListGateGroups}
	ListGateAgents = &Listing{Name: "gates/assignedAgents", Path: "GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/gates/{gateId}/assignedAgents",
		Per: "queue", Parent: ListGateGroups}
	ListDialGroups = &Listing{Name: "dialGroups/withChildren", Path: "GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/withChildren",
		Per: "sub-account", Parent: ListAccounts}
	ListDialGroupAgents = &Listing{Name: "dialGroups/assignedAgents", Path: "GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/{dialGroupId}/assignedAgents",
		Per: "dial group", Parent: ListDialGroups}
)

// Listings returns every listing, parents before children.
func Listings() []*Listing {
	return []*Listing{ListAccounts, ListUsers, ListAgentGroups, ListAgents, ListGateGroups, ListGateGroupSkills,
		ListGateAgents, ListDialGroups, ListDialGroupAgents}
}

// Depth is the number of listings above l.
func (l *Listing) Depth() int {
	n := 0
	for p := l.Parent; p != nil; p = p.Parent {
		n++
	}
	return n
}

// Under reports whether l is a or a listing below it.
func (l *Listing) Under(a *Listing) bool {
	for p := l; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

func subAccountKey() Column {
	return Column{Name: "sub_account_id", Kind: Text, From: "the listing's sub-account (accountId)",
		Doc: "The sub-account the row belongs to (sub_accounts.sub_account_id)."}
}

// descs is every entity in fetch and publish order (parents before children).
var descs = []*Desc{
	{Name: Accounts, Since: 1, Scope: OneScope, Listing: ListAccounts,
		Doc: "Main accounts: one row per main account that the accounts listing's sub-accounts belong to.",
		Key: []Column{{"main_account_id", Text, "mainAccountId", "The main account's id."}},
		Columns: []Column{
			{"name", Text, "mainAccountName, else mainAccount.mainAccountName", "The main account's name."},
			{"rc_account_id", Text, "mainAccount.rcAccountId", "The RingCentral account the main account belongs to."},
		},
		// The row's API object is the sub-account's nested mainAccount.
		Fields: map[string][]string{"name": {"mainAccountName"}, "rc_account_id": {"rcAccountId"}}},
	{Name: SubAccounts, Since: 1, Scope: OneScope, Listing: ListAccounts, Implies: []Name{Accounts},
		Doc: "Sub-accounts: one row per account the accounts listing returns.",
		Key: []Column{{"sub_account_id", Text, "accountId", "The sub-account's id (the API's accountId)."}},
		Columns: []Column{
			{"main_account_id", Text, "mainAccountId", "The main account it belongs to (accounts.main_account_id)."},
			{"name", Text, "accountName", "The sub-account's name."},
			{"archived", Bool, "archivedAccount", "Whether the sub-account is archived."},
			{"start_date", Time, "startDate", "When the sub-account starts."},
			{"end_date", Time, "endDate", "When the sub-account ends."},
		}},
	{Name: Users, Since: 1, Scope: OneScope, Listing: ListUsers,
		Doc: "Admin users: one row per user of the user hierarchy, flattened.",
		Key: []Column{{"user_id", Int, "userId", "The user's id."}},
		Columns: []Column{
			{"parent_user_id", Int, "the hierarchy: the last id of parentPath, or the user whose children hold it",
				"The user above this one in the hierarchy (users.user_id); NULL for a root user."},
			{"user_name", Text, "userName", "The user's login name."},
			{"first_name", Text, "firstName", "The user's first name."},
			{"last_name", Text, "lastName", "The user's last name."},
			{"full_name", Text, "fullName", "The user's full name."},
			{"enabled", Bool, "enabled", "Whether the user is enabled."},
			{"root_user", Bool, "rootUser", "Whether the user is a root user of the hierarchy."},
			{"rc_user_id", Int, "rcUserId", "The RingCentral user the user is linked to."},
			{"rc_account_id", Text, "rcAccountId", "The RingCentral account of the user."},
			{"roles", TextArray, "roles[].roleType", "The user's roles: the roleType of each."},
			{"created_at", Time, "creationDate", "When the user was created."},
		},
		Fields: map[string][]string{"parent_user_id": {"parentPath"}}},
	{Name: AgentGroups, Since: 1, Scope: PerSubAccount, Listing: ListAgentGroups,
		Doc: "Agent groups: one row per agent group of each sub-account.",
		Key: []Column{subAccountKey(), {"agent_group_id", Int, "agentGroupId", "The agent group's id."}},
		Columns: []Column{
			{"name", Text, "groupName", "The agent group's name."},
			{"is_default", Bool, "isDefault", "Whether it is the sub-account's default agent group."},
		}},
	{Name: Agents, Since: 1, Scope: PerSubAccount, Listing: ListAgents, Implies: []Name{AgentGroups},
		Doc: "Agents: one row per agent of each sub-account, listed per agent group.",
		Key: []Column{subAccountKey(), {"agent_id", Int, "agentId", "The agent's id."}},
		Columns: []Column{
			{"agent_group_id", Int, "the group the agent is listed under", "The agent group the agent is in (agent_groups.agent_group_id)."},
			{"username", Text, "username", "The agent's login name."},
			{"first_name", Text, "firstName", "The agent's first name."},
			{"last_name", Text, "lastName", "The agent's last name."},
			{"email", Text, "email", "The agent's email address."},
			{"agent_type", Text, "agentType", "The agent's type as the API names it (AGENT, SUPERVISOR, ...)."},
			{"is_active", Bool, "isActive (boolean or 0/1), else active", "Whether the agent is active."},
			{"rc_user_id", Int, "rcUserId", "The RingCentral user the agent is linked to."},
			{"created_at", Time, "createdOn", "When the agent was created."},
			{"last_login_at", Time, "lastLoginDate", "When the agent last logged in; NULL when never."},
		},
		Fields: map[string][]string{"is_active": {"isActive", "active"}}},
	{Name: QueueGroups, Since: 4, Scope: PerSubAccount, Listing: ListGateGroups,
		Doc: "Queue groups (the API's gate groups): one row per queue group of each sub-account.",
		Key: []Column{subAccountKey(), {"queue_group_id", Int, "gateGroupId", "The queue group's id (the API's gateGroupId)."}},
		Columns: []Column{
			{"name", Text, "groupName", "The queue group's name."},
			{"created_at", Time, "createdOn", "When the queue group was created."},
		}},
	{Name: Queues, Since: 4, Scope: PerSubAccount, Listing: ListGateGroups, Implies: []Name{QueueGroups},
		Doc: "Queues (the API's gates): one row per queue of each queue group.",
		Key: []Column{subAccountKey(), {"queue_id", Int, "gates[].gateId", "The queue's id (the API's gateId)."}},
		Columns: []Column{
			{"queue_group_id", Int, "the queue group whose gates hold it (gateGroupId)", "The queue group the queue is in (queue_groups.queue_group_id)."},
			{"name", Text, "gateName", "The queue's name."},
			{"description", Text, "gateDesc", "The queue's description."},
			{"is_active", Bool, "isActive", "Whether the queue is active."},
			{"priority", Int, "gatePriority", "The queue's priority."},
			{"created_at", Time, "createdOn", "When the queue was created."},
		},
		// The row's API object is the gate itself.
		Fields: map[string][]string{"queue_id": {"gateId"}}},
	{Name: Skills, Since: 4, Scope: PerSubAccount, Listing: ListGateGroupSkills, Implies: []Name{QueueGroups},
		Doc: "Skills: one row per skill of each queue group.",
		Key: []Column{subAccountKey(),
			{"queue_group_id", Int, "the queue group listed (gateGroupId)", "The queue group the skill belongs to (queue_groups.queue_group_id)."},
			{"skill_id", Int, "skillId", "The skill's id."}},
		Columns: []Column{
			{"name", Text, "skillName", "The skill's name."},
			{"description", Text, "skillDesc", "The skill's description."},
			{"is_active", Bool, "active", "Whether the skill is active."},
			{"created_at", Time, "createdOn", "When the skill was created."},
		}},
	{Name: DialGroups, Since: 4, Scope: PerSubAccount, Listing: ListDialGroups,
		Doc: "Dial groups: one row per dial group of each sub-account.",
		Key: []Column{subAccountKey(), {"dial_group_id", Int, "dialGroupId", "The dial group's id."}},
		Columns: []Column{
			{"name", Text, "dialGroupName", "The dial group's name."},
			{"description", Text, "dialGroupDesc", "The dial group's description."},
			{"dial_mode", Text, "dialMode", "How the dial group dials, as the API names it (PREVIEW, PREDICTIVE, ...)."},
			{"is_active", Bool, "isActive", "Whether the dial group is active."},
		}},
	{Name: Campaigns, Since: 4, Scope: PerSubAccount, Listing: ListDialGroups, Implies: []Name{DialGroups},
		Doc: "Campaigns: one row per campaign of each dial group.",
		Key: []Column{subAccountKey(), {"campaign_id", Int, "campaigns[].campaignId", "The campaign's id."}},
		Columns: []Column{
			{"dial_group_id", Int, "the dial group whose campaigns hold it (dialGroupId)", "The dial group the campaign is in (dial_groups.dial_group_id)."},
			{"name", Text, "campaignName", "The campaign's name."},
			{"description", Text, "campaignDesc", "The campaign's description."},
			{"is_active", Bool, "isActive (the API sends 0/1 here)", "Whether the campaign is active."},
			{"start_date", Time, "startDate", "When the campaign starts."},
			{"end_date", Time, "endDate", "When the campaign ends."},
		},
		// The row's API object is the campaign itself.
		Fields: map[string][]string{"campaign_id": {"campaignId"}, "is_active": {"isActive"}}},
	{Name: AgentQueues, Since: 4, Scope: PerSubAccount, Listing: ListGateAgents, Implies: []Name{Queues},
		Doc: "Who is assigned to which queue: one row per agent assigned to a queue.",
		Key: []Column{subAccountKey(),
			{"queue_id", Int, "the queue listed (gateId)", "The queue (queues.queue_id)."},
			{"agent_id", Int, "agentId", "The agent assigned to it (agents.agent_id)."}}},
	{Name: AgentDialGroups, Since: 4, Scope: PerSubAccount, Listing: ListDialGroupAgents, Implies: []Name{DialGroups},
		Doc: "Who is assigned to which dial group: one row per agent assigned to a dial group.",
		Key: []Column{subAccountKey(),
			{"dial_group_id", Int, "the dial group listed (dialGroupId)", "The dial group (dial_groups.dial_group_id)."},
			{"agent_id", Int, "agentId", "The agent assigned to it (agents.agent_id)."}}},
}

// All returns every entity's description in fetch and publish order (parents before children).
// The descriptions are shared: do not change them.
func All() []*Desc { return slices.Clone(descs) }

// AsOf returns the description of every entity whose tables migration version created or
// found (Since <= version), in All's order: the registry as that migration knew it.
func AsOf(version int64) []*Desc {
	var out []*Desc
	for _, d := range descs {
		if d.Since <= version {
			out = append(out, d)
		}
	}
	return out
}

// Names returns every entity in fetch and publish order.
func Names() []Name {
	out := make([]Name, len(descs))
	for i, d := range descs {
		out[i] = d.Name
	}
	return out
}

// Of returns the description of n, nil for an unknown name.
func Of(n Name) *Desc {
	for _, d := range descs {
		if d.Name == n {
			return d
		}
	}
	return nil
}

// Parse returns the entity named s, or an error naming the entities there are.
func Parse(s string) (Name, error) {
	if d := Of(Name(s)); d != nil {
		return d.Name, nil
	}
	names := make([]string, len(descs))
	for i, d := range descs {
		names[i] = string(d.Name)
	}
	return "", fmt.Errorf("unknown entity %q (expected one of %s)", s, strings.Join(names, ", "))
}

// Order is n's position in Names (len(Names()) for an unknown name): for sorting.
func (n Name) Order() int {
	for i, d := range descs {
		if d.Name == n {
			return i
		}
	}
	return len(descs)
}

// Expand returns the entities a selection takes part in, in Names' order: the selected ones
// and every one they imply, transitively. An empty selection means every entity.
func Expand(selected []Name) []Name {
	if len(selected) == 0 {
		return Names()
	}
	in := map[Name]bool{}
	var add func(n Name)
	add = func(n Name) {
		if in[n] {
			return
		}
		in[n] = true
		if d := Of(n); d != nil {
			for _, i := range d.Implies {
				add(i)
			}
		}
	}
	for _, n := range selected {
		add(n)
	}
	var out []Name
	for _, d := range descs {
		if in[d.Name] {
			out = append(out, d.Name)
		}
	}
	return out
}

// Scoped reports whether the entity has one scope per sub-account.
func (d *Desc) Scoped() bool { return d.Scope == PerSubAccount }

// ScopeOf names the scope of a row whose key has text part s.
func (d *Desc) ScopeOf(s string) string {
	if d.Scoped() {
		return s
	}
	return ScopeAll
}
