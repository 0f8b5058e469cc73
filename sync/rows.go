package sync

import (
	"encoding/json"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
)

// mainAccountRows returns the main accounts of the accounts listing, one row per main account
// in the order first seen, and, in fallback, the main account the login response names when
// the listing has none of it: the login names only its id, so that row must not overwrite what
// a listing stored (Stage.AddFallback).
func mainAccountRows(accounts []*engageclient.Account, login *engageclient.AccessTokenUserDetails) (rows, fallback []db.Row) {
	index := make(map[string]int)
	for _, a := range accounts {
		if a.MainAccountID == "" {
			continue
		}
		name, rcAccountID, raw := a.MainAccountName, (*string)(nil), []byte(nil)
		if m := a.MainAccount; m != nil {
			if name == nil {
				name = m.MainAccountName
			}
			rcAccountID, raw = m.RCAccountID, m.Raw
		}
		if len(raw) == 0 {
			raw = mustJSON(map[string]any{"mainAccountId": a.MainAccountID, "mainAccountName": name})
		}
		row := db.Row{S: a.MainAccountID, Vals: []any{name, rcAccountID}, Raw: raw}
		i, seen := index[a.MainAccountID]
		if !seen {
			index[a.MainAccountID] = len(rows)
			rows = append(rows, row)
			continue
		}
		// A later sub-account may carry the nested main account where an earlier one did not.
		if rows[i].Vals[1] == (*string)(nil) && rcAccountID != nil {
			rows[i] = row
		}
	}
	if login != nil && login.MainAccountID != "" {
		if _, seen := index[login.MainAccountID]; !seen {
			fallback = append(fallback, db.Row{
				S:    login.MainAccountID,
				Vals: []any{nil, nil},
				Raw:  mustJSON(map[string]any{"mainAccountId": login.MainAccountID}),
			})
		}
	}
	return rows, fallback
}

// The rows below hold their values in the order of their entity's Columns (internal/entity).

func subAccountRow(a *engageclient.Account) db.Row {
	return db.Row{S: a.AccountID, Raw: a.Raw,
		Vals: []any{a.MainAccountID, a.AccountName, a.ArchivedAccount, a.StartDate.Ptr(), a.EndDate.Ptr()}}
}

// userRows maps users, flattened: a flattened listing carries the hierarchy in parentPath, a
// nested one in children (ParentUserID reads either). Each user appears once.
func userRows(users []*engageclient.User) []db.Row {
	all := engageclient.FlattenUsers(users)
	rows := make([]db.Row, 0, len(all))
	seen := make(map[int64]bool, len(all))
	for _, u := range all {
		if seen[u.UserID] {
			continue
		}
		seen[u.UserID] = true
		var roles []string
		if len(u.Roles) > 0 {
			roles = make([]string, 0, len(u.Roles))
			for _, r := range u.Roles {
				roles = append(roles, r.RoleType)
			}
		}
		rows = append(rows, db.Row{N: [2]int64{u.UserID}, Raw: u.Raw,
			Vals: []any{u.ParentUserID(), u.UserName, u.FirstName, u.LastName, u.FullName, u.Enabled, u.RootUser,
				u.RCUserID, u.RCAccountID, roles, u.CreationDate.Ptr()}})
	}
	return rows
}

func agentGroupRow(subAccountID string, g *engageclient.AgentGroup) db.Row {
	return db.Row{S: subAccountID, N: [2]int64{g.AgentGroupID}, Raw: g.Raw, Vals: []any{g.GroupName, g.IsDefault}}
}

// agentRow is agent a as listed in group groupID, which is its group. An agent listed in two
// groups of its sub-account is kept once, by a rule that gives the same answer on every run,
// whatever order the listings answer in (Rank): a copy from a group its own agentGroupId
// names before the others, and of those (each copy may name the group that lists it) the one
// from the lowest group id.
func agentRow(subAccountID string, groupID int64, a *engageclient.Agent) db.Row {
	rank := db.Rank{Tier: 1, N: groupID}
	if a.AgentGroupID != nil && *a.AgentGroupID == groupID {
		rank.Tier = 0
	}
	return db.Row{S: subAccountID, N: [2]int64{a.AgentID}, Rank: rank, Raw: a.Raw,
		Vals: []any{groupID, a.Username, a.FirstName, a.LastName, a.Email, a.AgentType, a.IsActive, a.RCUserID,
			a.CreatedOn.Ptr(), a.LastLoginDate.Ptr()}}
}

// queueGroupRow is a queue group (gate group) of the queue-groups listing.
func queueGroupRow(sub string, g *engageclient.GateGroup) db.Row {
	return db.Row{S: sub, N: [2]int64{g.GateGroupID}, Raw: g.Raw, Vals: []any{g.GroupName, g.CreatedOn.Ptr()}}
}

// queueRow is a queue (gate) listed in its group's gates.
func queueRow(sub string, groupID int64, g *engageclient.Gate) db.Row {
	return db.Row{S: sub, N: [2]int64{g.GateID}, Raw: g.Raw,
		Vals: []any{groupID, g.GateName, g.GateDesc, g.IsActive, g.GatePriority, g.CreatedOn.Ptr()}}
}

// skillRow is a skill of the queue group groupID.
func skillRow(sub string, groupID int64, s *engageclient.GateGroupSkill) db.Row {
	return db.Row{S: sub, N: [2]int64{groupID, s.SkillID}, Raw: s.Raw,
		Vals: []any{s.SkillName, s.SkillDesc, s.Active, s.CreatedOn.Ptr()}}
}

func dialGroupRow(sub string, g *engageclient.DialGroup) db.Row {
	return db.Row{S: sub, N: [2]int64{g.DialGroupID}, Raw: g.Raw,
		Vals: []any{g.DialGroupName, g.DialGroupDesc, g.DialMode, g.IsActive}}
}

// campaignRow is a campaign listed in its dial group's campaigns.
func campaignRow(sub string, groupID int64, c *engageclient.Campaign) db.Row {
	return db.Row{S: sub, N: [2]int64{c.CampaignID}, Raw: c.Raw,
		Vals: []any{groupID, c.CampaignName, c.CampaignDesc, c.IsActive, c.StartDate.Ptr(), c.EndDate.Ptr()}}
}

// assignmentRow is agent a assigned to the queue or dial group id (agent_queues,
// agent_dial_groups). The key says it all; raw holds the agentId the listing sent and nothing
// more: the agent itself is an agents row, and a copy of its object in each of its assignments
// would rewrite them all (with a history version each) whenever the agent changes, as its
// lastLoginDate does daily. Its paths, for schema drift, are the agent object's as listed.
func assignmentRow(sub string, id int64, a *engageclient.Agent) db.Row {
	return db.Row{S: sub, N: [2]int64{id, a.AgentID}, Raw: mustJSON(map[string]int64{"agentId": a.AgentID}), Object: a.Raw, Vals: []any{}}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and integers reach here
	}
	return b
}
