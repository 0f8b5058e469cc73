package sync

import (
	"encoding/json"
	"math"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
)

// mainAccountRows derives the main accounts from the sub-account listing (and the login's
// mainAccountId), one row per main account, in the order first seen.
// mainAccountRows returns the main accounts of the accounts listing, and, in fallback, the
// main account the login response names when the listing has none of it: the login names only
// its id, so that row must not overwrite what a listing stored (Stage.AccountsAddFallback).
func mainAccountRows(accounts []*engageclient.Account, login *engageclient.AccessTokenUserDetails) (rows, fallback []db.AccountRow) {
	index := make(map[string]int)
	for _, a := range accounts {
		if a.MainAccountID == "" {
			continue
		}
		row := db.AccountRow{MainAccountID: a.MainAccountID, Name: a.MainAccountName}
		if m := a.MainAccount; m != nil {
			if row.Name == nil {
				row.Name = m.MainAccountName
			}
			row.RCAccountID = m.RCAccountID
			row.Raw = m.Raw
		}
		if len(row.Raw) == 0 {
			row.Raw = mustJSON(map[string]any{"mainAccountId": a.MainAccountID, "mainAccountName": row.Name})
		}
		i, seen := index[a.MainAccountID]
		if !seen {
			index[a.MainAccountID] = len(rows)
			rows = append(rows, row)
			continue
		}
		// A later sub-account may carry the nested main account where an earlier one did not.
		if rows[i].RCAccountID == nil && row.RCAccountID != nil {
			rows[i] = row
		}
	}
	if login != nil && login.MainAccountID != "" {
		if _, seen := index[login.MainAccountID]; !seen {
			fallback = append(fallback, db.AccountRow{
				MainAccountID: login.MainAccountID,
				Raw:           mustJSON(map[string]any{"mainAccountId": login.MainAccountID}),
			})
		}
	}
	return rows, fallback
}

func subAccountRow(a *engageclient.Account) db.SubAccountRow {
	return db.SubAccountRow{
		SubAccountID:  a.AccountID,
		MainAccountID: a.MainAccountID,
		Name:          a.AccountName,
		Archived:      a.ArchivedAccount,
		StartDate:     a.StartDate.Ptr(),
		EndDate:       a.EndDate.Ptr(),
		Raw:           a.Raw,
	}
}

// userRows maps users, flattened: a flattened listing carries the hierarchy in parentPath, a
// nested one in children (ParentUserID reads either). Each user appears once.
func userRows(users []*engageclient.User) []db.UserRow {
	all := engageclient.FlattenUsers(users)
	rows := make([]db.UserRow, 0, len(all))
	seen := make(map[int64]bool, len(all))
	for _, u := range all {
		if seen[u.UserID] {
			continue
		}
		seen[u.UserID] = true
		row := db.UserRow{
			UserID: u.UserID, ParentUserID: u.ParentUserID(), UserName: u.UserName, FirstName: u.FirstName,
			LastName: u.LastName, FullName: u.FullName, Enabled: u.Enabled, RootUser: u.RootUser,
			RCUserID: u.RCUserID, RCAccountID: u.RCAccountID, CreatedAt: u.CreationDate.Ptr(),
			Raw: u.Raw,
		}
		if len(u.Roles) > 0 {
			row.Roles = make([]string, 0, len(u.Roles))
			for _, r := range u.Roles {
				row.Roles = append(row.Roles, r.RoleType)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func agentGroupRow(subAccountID string, g *engageclient.AgentGroup) db.AgentGroupRow {
	return db.AgentGroupRow{
		SubAccountID: subAccountID, AgentGroupID: g.AgentGroupID, Name: g.GroupName,
		IsDefault: g.IsDefault, Raw: g.Raw,
	}
}

// agentRow maps an agent listed under a group; the group it was listed under is its group.
// agentRow is agent a as listed in group groupID. An agent listed in two groups of its
// sub-account is kept once, by a rule that gives the same answer on every run: the copy from
// the group its own agentGroupId names, else the one from the lowest group id (Rank).
func agentRow(subAccountID string, groupID int64, a *engageclient.Agent) db.AgentRow {
	rank := groupID
	if a.AgentGroupID != nil && *a.AgentGroupID == groupID {
		rank = math.MinInt64
	}
	return db.AgentRow{
		SubAccountID: subAccountID, AgentID: a.AgentID, AgentGroupID: groupID, Rank: rank,
		Username: a.Username, FirstName: a.FirstName, LastName: a.LastName, Email: a.Email,
		AgentType: a.AgentType, IsActive: a.IsActive, RCUserID: a.RCUserID,
		CreatedAt: a.CreatedOn.Ptr(), LastLoginAt: a.LastLoginDate.Ptr(), Raw: a.Raw,
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings reach here
	}
	return b
}
