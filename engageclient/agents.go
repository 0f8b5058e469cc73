package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ListOptions pages a listing that supports it. With MaxRows > 0 the call requests page Page,
// Page+1, … with maxRows=MaxRows until a page comes back shorter than MaxRows, and returns all
// items. page is taken as 0-based: a page that repeats an item of an earlier page (a server
// that ignores page, counts it from 1, repeats a page or changes its order) fails the listing
// with ErrPagingNotAsAssumed and no items. With MaxRows == 0 one request without paging
// returns the full list. Either way a listing of more than Config.MaxListingRows items fails
// with ErrListingTooLong.
type ListOptions struct {
	Page    int
	MaxRows int
}

// ListAgentGroups lists the agent groups of one sub-account:
// GET /voice/api/v1/admin/accounts/{accountId}/agentGroups, paged when opts.MaxRows > 0. When
// some items cannot be decoded, the others are returned with an error matching *ItemsError.
func (c *Client) ListAgentGroups(ctx context.Context, accountID string, opts *ListOptions) ([]*AgentGroup, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing agent groups: %w", err)
	}
	l := listing{
		what: "listing agent groups of sub-account " + accountID,
		path: "voice/api/v1/admin/accounts/{}/agentGroups",
		ids:  []string{accountID},
	}
	return listPaged(ctx, c, l, opts, func(g *AgentGroup) int64 { return g.AgentGroupID })
}

// ListAgents lists the agents of one agent group:
// GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents. When some
// items cannot be decoded, the others are returned with an error matching *ItemsError.
func (c *Client) ListAgents(ctx context.Context, accountID string, agentGroupID int64) ([]*Agent, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing agents: %w", err)
	}
	items, resp, err := list[Agent](ctx, c, "voice/api/v1/admin/accounts/{}/agentGroups/{}/agents", nil,
		accountID, strconv.FormatInt(agentGroupID, 10))
	if err != nil {
		return items, resp, fmt.Errorf("listing agents of agent group %d in sub-account %s: %w", agentGroupID, accountID, err)
	}
	return items, resp, nil
}

// AgentGroup is one item of GET …/accounts/{accountId}/agentGroups.
type AgentGroup struct {
	AgentGroupID int64   // agentGroupId
	GroupName    *string // groupName
	IsDefault    *bool   // isDefault
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (g *AgentGroup) UnmarshalJSON(b []byte) error {
	var w struct {
		AgentGroupID nullInt64 `json:"agentGroupId"`
		GroupName    nullStr   `json:"groupName"`
		IsDefault    nullBool  `json:"isDefault"`
	}
	if err := unmarshalObject(b, &w, "agent group"); err != nil {
		return err
	}
	if !w.AgentGroupID.Valid {
		return errors.New("agentGroupId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*g = AgentGroup{
		AgentGroupID: w.AgentGroupID.Int64,
		GroupName:    w.GroupName.Ptr(),
		IsDefault:    w.IsDefault.Ptr(),
		Raw:          raw,
	}
	return nil
}

// Agent is one item of GET …/agentGroups/{agentGroupId}/agents.
type Agent struct {
	AgentID       int64   // agentId
	AgentGroupID  *int64  // agentGroupId, else groupId, else agentGroup.agentGroupId
	Username      *string // username
	FirstName     *string // firstName
	LastName      *string // lastName
	Email         *string // email
	AgentType     *string // agentType
	IsActive      *bool   // isActive (boolean or 0/1), else active
	RCUserID      *int64  // rcUserId
	CreatedOn     Time    // createdOn
	LastLoginDate Time    // lastLoginDate
	Raw           json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Agent) UnmarshalJSON(b []byte) error {
	var w struct {
		AgentID      nullInt64 `json:"agentId"`
		AgentGroupID nullInt64 `json:"agentGroupId"`
		GroupID      nullInt64 `json:"groupId"`
		AgentGroup   *struct {
			AgentGroupID nullInt64 `json:"agentGroupId"`
		} `json:"agentGroup"`
		Username      nullStr   `json:"username"`
		FirstName     nullStr   `json:"firstName"`
		LastName      nullStr   `json:"lastName"`
		Email         nullStr   `json:"email"`
		AgentType     nullStr   `json:"agentType"`
		IsActive      nullBool  `json:"isActive"`
		Active        nullBool  `json:"active"`
		RCUserID      nullInt64 `json:"rcUserId"`
		CreatedOn     Time      `json:"createdOn"`
		LastLoginDate Time      `json:"lastLoginDate"`
	}
	if err := unmarshalObject(b, &w, "agent"); err != nil {
		return err
	}
	if !w.AgentID.Valid {
		return errors.New("agentId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	groupID := w.AgentGroupID
	if !groupID.Valid {
		groupID = w.GroupID
	}
	if !groupID.Valid && w.AgentGroup != nil {
		groupID = w.AgentGroup.AgentGroupID
	}
	active := w.IsActive
	if !active.Valid {
		active = w.Active
	}
	*a = Agent{
		AgentID:       w.AgentID.Int64,
		AgentGroupID:  groupID.Ptr(),
		Username:      w.Username.Ptr(),
		FirstName:     w.FirstName.Ptr(),
		LastName:      w.LastName.Ptr(),
		Email:         w.Email.Ptr(),
		AgentType:     w.AgentType.Ptr(),
		IsActive:      active.Ptr(),
		RCUserID:      w.RCUserID.Ptr(),
		CreatedOn:     w.CreatedOn,
		LastLoginDate: w.LastLoginDate,
		Raw:           raw,
	}
	return nil
}

// unmarshalObject decodes a JSON object into w, with an error naming what when b is not an
