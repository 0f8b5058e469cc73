package db

import (
	"fmt"
	"slices"
	"strings"
)

// The ledger's vocabulary. Each type below holds exactly the values that the CHECK constraints
// of migrations/00001_create_tables.sql allow in the column named in its comment, and nothing
// else restates them (TestVocabularyMatchesCheckConstraints compares the two).

// Entity names one synced entity: its table, its history table (<entity>_history), its name in
// `--entities` and in sync_run_scopes.entity.
type Entity string

// The entities.
const (
	EntityAccounts    Entity = "accounts"
	EntitySubAccounts Entity = "sub_accounts"
	EntityUsers       Entity = "users"
	EntityAgentGroups Entity = "agent_groups"
	EntityAgents      Entity = "agents"
)

// entities is every entity in fetch and publish order (parents before children).
var entities = []Entity{EntityAccounts, EntitySubAccounts, EntityUsers, EntityAgentGroups, EntityAgents}

// implied maps an entity to the entities a run of it also lists and publishes: agents are
// found through their groups, and sub-accounts reference their main accounts (which come from
// the same listing, at no extra request).
var implied = map[Entity][]Entity{
	EntityAgents:      {EntityAgentGroups},
	EntitySubAccounts: {EntityAccounts},
}

// Entities returns every entity in fetch and publish order (parents before children).
func Entities() []Entity { return slices.Clone(entities) }

// ParseEntity returns the entity named s, or an error naming the entities there are.
func ParseEntity(s string) (Entity, error) {
	if e := Entity(s); slices.Contains(entities, e) {
		return e, nil
	}
	names := make([]string, len(entities))
	for i, e := range entities {
		names[i] = string(e)
	}
	return "", fmt.Errorf("unknown entity %q (expected one of %s)", s, strings.Join(names, ", "))
}

// Order is e's position in Entities (len(Entities()) for an unknown name): for sorting.
func (e Entity) Order() int {
	if i := slices.Index(entities, e); i >= 0 {
		return i
	}
	return len(entities)
}

// Expand returns the entities a selection takes part in, in Entities' order: the selected ones
// and every one they imply, transitively. An empty selection means every entity.
func Expand(selected []Entity) []Entity {
	if len(selected) == 0 {
		return Entities()
	}
	in := map[Entity]bool{}
	var add func(e Entity)
	add = func(e Entity) {
		if in[e] {
			return
		}
		in[e] = true
		for _, i := range implied[e] {
			add(i)
		}
	}
	for _, e := range selected {
		add(e)
	}
	var out []Entity
	for _, e := range entities {
		if in[e] {
			out = append(out, e)
		}
	}
	return out
}

// ScopeAll is the scope of the entities that have a single one (accounts, sub_accounts, users).
const ScopeAll = "all"

// RunStatus is a run's status, sync_runs.status.
type RunStatus string

// The run statuses.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
	RunCanceled  RunStatus = "canceled"
)

// RunStatuses returns every run status, running first.
func RunStatuses() []RunStatus {
	return []RunStatus{RunRunning, RunSucceeded, RunPartial, RunFailed, RunCanceled}
}

// ScopeStatus is how one scope of a run ended, sync_run_scopes.status.
type ScopeStatus string

// The scope statuses.
const (
	// ScopeSucceeded: the scope's listing completed; its rows published and its deletes applied.
	ScopeSucceeded ScopeStatus = "succeeded"
	// ScopeFailed: the scope's listing failed; the rows it did fetch published, nothing of it
	// was deleted.
	ScopeFailed ScopeStatus = "failed"
	// ScopeWithheld: the scope's listing completed, but its deletes tripped the mass-delete
	// breaker and were not applied.
	ScopeWithheld ScopeStatus = "withheld"
)

// ScopeStatuses returns every scope status.
func ScopeStatuses() []ScopeStatus { return []ScopeStatus{ScopeSucceeded, ScopeFailed, ScopeWithheld} }
