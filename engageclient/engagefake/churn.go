package engagefake

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// ChurnField is the field that churn adds to the first sub-account and whose JSON type it
// then flips each round (a string in odd rounds, a number in even ones): a change of the API's
// shape as a new API version brings one (an unknown key, which clients must tolerate).
const ChurnField = "fakeChurnRound"

// ChurnReport is what one round of Tenant.Churn changed, by id (none when the tenant had no
// such object).
type ChurnReport struct {
	Round         int
	RenamedAgents []int  // a new lastName
	AddedAgents   []int  // new agents in existing groups
	MovedAgents   []int  // to another agent group of their sub-account (or another, when it has one)
	RemovedAgents []int  // gone from their group and every assignment
	RenamedGroups []int  // agent groups with a new groupName
	RenamedQueues []int  // queues (gates) with a new gateName
	RenamedUsers  []int  // admin users with a new lastName
	RemovedUsers  []int  // admin users gone (their children move up)
	Field         string // the sub-account whose ChurnField changed ("" without sub-accounts)
	FieldValue    any    // its new value
}

// String describes the report in one line.
func (r ChurnReport) String() string {
	return fmt.Sprintf("churn round %d: %d agents renamed, %d added, %d moved, %d removed; %d agent groups and %d queues renamed; %d users renamed, %d removed; field %s of sub-account %s set to %v",
		r.Round, len(r.RenamedAgents), len(r.AddedAgents), len(r.MovedAgents), len(r.RemovedAgents),
		len(r.RenamedGroups), len(r.RenamedQueues), len(r.RenamedUsers), len(r.RemovedUsers), ChurnField, r.Field, r.FieldValue)
}

// Churn changes the tenant as a day of an admin's work would, with n (at least 1) changes of
// each kind: it renames n agents, adds n, moves n to another agent group, removes about a
// third as many (at least one, never a group's last agent), renames one agent group, one queue
// and one admin user, removes one admin user (never the last), and sets ChurnField on the
// first sub-account. The same seed, round and n change the same objects the same way; call it
// inside Server.Mutate (or use Server.Churn).
func (t *Tenant) Churn(round, n int) ChurnReport {
	n = max(n, 1)
	r := rand.New(rand.NewPCG(uint64(t.Seed), 0xc4c4<<32|uint64(round))) //nolint:gosec // deterministic test data
	rep := ChurnReport{Round: round}
	agents := slices.Collect(t.Agents())
	order := r.Perm(len(agents))
	next := func() *Agent {
		if len(order) == 0 {
			return nil
		}
		a := agents[order[0]]
		order = order[1:]
		return a
	}
	for range n {
		if a := next(); a != nil {
			_ = t.UpdateAgent(a.ID, "lastName", fmt.Sprintf("%s-%s", pick(r, lastNames), pick(r, lastNames)))
			rep.RenamedAgents = append(rep.RenamedAgents, a.ID)
		}
	}
	for range n {
		if a := next(); a != nil {
			if to := t.otherGroup(r, a); to != nil {
				_ = t.MoveAgent(a.ID, to.ID)
				rep.MovedAgents = append(rep.MovedAgents, a.ID)
			}
		}
	}
	for range max(n/3, 1) {
		if a := next(); a != nil && len(t.groupByID[a.GroupID].Agents) > 1 {
			_ = t.RemoveAgent(a.ID)
			rep.RemovedAgents = append(rep.RemovedAgents, a.ID)
		}
	}
	var groups []*AgentGroup
	for _, sa := range t.SubAccounts {
		groups = append(groups, sa.Groups...)
	}
	if len(groups) > 0 {
		for range n {
			a, _ := t.AddAgent(pick(r, groups).ID)
			rep.AddedAgents = append(rep.AddedAgents, a.ID)
		}
		g := pick(r, groups)
		_ = t.UpdateAgentGroup(g.ID, "groupName", fmt.Sprintf("%s %s", pick(r, cityNames), pick(r, teamNames)))
		rep.RenamedGroups = append(rep.RenamedGroups, g.ID)
	}
	var queues []*Queue
	for _, sa := range t.SubAccounts {
		for _, g := range sa.QueueGroups {
			queues = append(queues, g.Queues...)
		}
	}
	if len(queues) > 0 {
		q := pick(r, queues)
		_ = t.UpdateQueue(q.ID, "gateName", fmt.Sprintf("%s %d", pick(r, queueTopics), round))
		rep.RenamedQueues = append(rep.RenamedQueues, q.ID)
	}
	if users := r.Perm(len(t.Users)); len(users) > 0 {
		renamed := t.Users[users[0]]
		_ = t.UpdateUser(renamed.ID, "lastName", fmt.Sprintf("%s-%s", pick(r, lastNames), pick(r, lastNames)))
		rep.RenamedUsers = append(rep.RenamedUsers, renamed.ID)
		if len(users) > 1 {
			removed := t.Users[users[1]]
			_ = t.RemoveUser(removed.ID)
			rep.RemovedUsers = append(rep.RemovedUsers, removed.ID)
		}
	}
	if len(t.SubAccounts) > 0 {
		rep.Field, rep.FieldValue = t.SubAccounts[0].ID, churnValue(round)
		_ = t.UpdateSubAccount(rep.Field, ChurnField, rep.FieldValue)
	}
	return rep
}

// churnValue is ChurnField's value in round: a string in odd rounds, a number in even ones.
func churnValue(round int) any {
	if round%2 == 1 {
		return fmt.Sprintf("round %d", round)
	}
	return round
}

// otherGroup picks an agent group for a to move to: another of its sub-account's, or of
// another sub-account when its own has one only; nil when the tenant has no other.
func (t *Tenant) otherGroup(r *rand.Rand, a *Agent) *AgentGroup {
	var own, others []*AgentGroup
	for _, sa := range t.SubAccounts {
		for _, g := range sa.Groups {
			switch {
			case g.ID == a.GroupID:
			case g.AccountID == a.AccountID:
				own = append(own, g)
			default:
				others = append(others, g)
			}
		}
	}
	if len(own) > 0 {
		return pick(r, own)
	}
	if len(others) > 0 {
		return pick(r, others)
	}
	return nil
}

// Churn runs one round of Tenant.Churn, with the server's Options.Churn changes of each kind
// (at least 1), and returns what it changed.
func (s *Server) Churn(round int) ChurnReport {
	var rep ChurnReport
	_ = s.Mutate(func(t *Tenant) error {
		rep = t.Churn(round, s.opts.Churn)
		return nil
	})
	return rep
}

// churnOnLogin counts a JWT grant (a run's login) and, when Options.Churn is set, churns the
// tenant on every one after the first, so that each run after the first sees changes.
func (s *Server) churnOnLogin() {
	s.mu.Lock()
	s.logins++
	round := s.logins - 1
	s.mu.Unlock()
	if s.opts.Churn > 0 && round > 0 {
		rep := s.Churn(round)
		s.mu.Lock()
		s.churns = append(s.churns, rep)
		s.mu.Unlock()
	}
}

// Churns returns the reports of the rounds of churn that logins set off, oldest first.
func (s *Server) Churns() []ChurnReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.churns)
}
