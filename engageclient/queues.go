package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The queue listings. The API calls a queue group a gate group and a queue a gate; the types
// keep the API's words, the errors use evsync's.

// ListGateGroupsWithChildren lists the queue groups of one sub-account with their queues:
// GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/withChildren, one request without
// paging (the full list). A queue group that cannot be decoded is left out; a queue that
// cannot be is left out of its group, which is still returned. Either way the call returns
// the others with an error matching *ItemsError (ItemError.Child names a queue left out).
func (c *Client) ListGateGroupsWithChildren(ctx context.Context, accountID string) ([]*GateGroup, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing queue groups: %w", err)
	}
	items, resp, err := list[GateGroup](ctx, c, "voice/api/v1/admin/accounts/{}/gateGroups/withChildren", nil, accountID)
	if err != nil {
		return items, resp, fmt.Errorf("listing queue groups of sub-account %s: %w", accountID, err)
	}
	return items, resp, nil
}

// ListGateGroupSkills lists the skills of one queue group:
// GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills (the spec has no
// paging for it). When some items cannot be decoded, the others are returned with an error
// matching *ItemsError.
func (c *Client) ListGateGroupSkills(ctx context.Context, accountID string, gateGroupID int64) ([]*GateGroupSkill, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing skills: %w", err)
	}
	items, resp, err := list[GateGroupSkill](ctx, c, "voice/api/v1/admin/accounts/{}/gateGroups/{}/skills", nil,
		accountID, strconv.FormatInt(gateGroupID, 10))
	if err != nil {
		return items, resp, fmt.Errorf("listing skills of queue group %d in sub-account %s: %w", gateGroupID, accountID, err)
	}
	return items, resp, nil
}

// ListGateAssignedAgents lists the agents assigned to one queue:
// GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/gates/{gateId}/assignedAgents,
// paged when opts.MaxRows > 0 (ListOptions). When some items cannot be decoded, the others are
// returned with an error matching *ItemsError.
func (c *Client) ListGateAssignedAgents(ctx context.Context, accountID string, gateGroupID, gateID int64, opts *ListOptions) ([]*Agent, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing agents assigned to a queue: %w", err)
	}
	l := listing{
		what: fmt.Sprintf("listing agents assigned to queue %d of queue group %d in sub-account %s", gateID, gateGroupID, accountID),
		path: "voice/api/v1/admin/accounts/{}/gateGroups/{}/gates/{}/assignedAgents",
		ids:  []string{accountID, strconv.FormatInt(gateGroupID, 10), strconv.FormatInt(gateID, 10)},
	}
	return listPaged(ctx, c, l, opts, agentKey)
}

// agentKey keys an agent for paging.
func agentKey(a *Agent) int64 { return a.AgentID }

// GateGroup is a queue group, one item of GET …/accounts/{accountId}/gateGroups/withChildren.
type GateGroup struct {
	GateGroupID int64   // gateGroupId
	GroupName   *string // groupName
	CreatedOn   Time    // createdOn
	Gates       []*Gate // gates (null or absent: none), without those that could not be decoded
	Raw         json.RawMessage

	childErrs []childError // the gates left out, until decodeList takes them
}

// UnmarshalJSON implements json.Unmarshaler. A gate that cannot be decoded does not fail the
// group: it is left out of Gates, and a listing reports it (ItemError.Child "gates[i]").
func (g *GateGroup) UnmarshalJSON(b []byte) error {
	var w struct {
		GateGroupID nullInt64 `json:"gateGroupId"`
		GroupName   nullStr   `json:"groupName"`
		CreatedOn   Time      `json:"createdOn"`
		Gates       span      `json:"gates"`
	}
	if err := unmarshalObject(b, &w, "gate group"); err != nil {
		return err
	}
	if !w.GateGroupID.Valid {
		return errors.New("gateGroupId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	gates, bad := decodeChildren[Gate](w.Gates, "gates")
	*g = GateGroup{
		GateGroupID: w.GateGroupID.Int64,
		GroupName:   w.GroupName.Ptr(),
		CreatedOn:   w.CreatedOn,
		Gates:       gates,
		Raw:         raw,
		childErrs:   bad,
	}
	return nil
}

func (g *GateGroup) takeChildErrors() []childError {
	bad := g.childErrs
	g.childErrs = nil
	return bad
}

// Gate is a queue, one element of a GateGroup's gates.
type Gate struct {
	GateID       int64   // gateId
	GateName     *string // gateName
	GateDesc     *string // gateDesc
	IsActive     *bool   // isActive (boolean or 0/1)
	GatePriority *int64  // gatePriority
	CreatedOn    Time    // createdOn
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (q *Gate) UnmarshalJSON(b []byte) error {
	var w struct {
		GateID       nullInt64 `json:"gateId"`
		GateName     nullStr   `json:"gateName"`
		GateDesc     nullStr   `json:"gateDesc"`
		IsActive     nullBool  `json:"isActive"`
		GatePriority nullInt64 `json:"gatePriority"`
		CreatedOn    Time      `json:"createdOn"`
	}
	if err := unmarshalObject(b, &w, "gate"); err != nil {
		return err
	}
	if !w.GateID.Valid {
		return errors.New("gateId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*q = Gate{
		GateID:       w.GateID.Int64,
		GateName:     w.GateName.Ptr(),
		GateDesc:     w.GateDesc.Ptr(),
		IsActive:     w.IsActive.Ptr(),
		GatePriority: w.GatePriority.Ptr(),
		CreatedOn:    w.CreatedOn,
		Raw:          raw,
	}
	return nil
}

// GateGroupSkill is a skill of a queue group, one item of
// GET …/gateGroups/{gateGroupId}/skills.
type GateGroupSkill struct {
	SkillID   int64   // skillId
	SkillName *string // skillName
	SkillDesc *string // skillDesc
	Active    *bool   // active (the spec's name here), else isActive; boolean or 0/1
	CreatedOn Time    // createdOn
	Raw       json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *GateGroupSkill) UnmarshalJSON(b []byte) error {
	var w struct {
		SkillID   nullInt64 `json:"skillId"`
		SkillName nullStr   `json:"skillName"`
		SkillDesc nullStr   `json:"skillDesc"`
		Active    nullBool  `json:"active"`
		IsActive  nullBool  `json:"isActive"`
		CreatedOn Time      `json:"createdOn"`
	}
	if err := unmarshalObject(b, &w, "gate group skill"); err != nil {
		return err
	}
	if !w.SkillID.Valid {
		return errors.New("skillId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	active := w.Active
	if !active.Valid {
		active = w.IsActive
	}
	*s = GateGroupSkill{
		SkillID:   w.SkillID.Int64,
		SkillName: w.SkillName.Ptr(),
		SkillDesc: w.SkillDesc.Ptr(),
		Active:    active.Ptr(),
		CreatedOn: w.CreatedOn,
		Raw:       raw,
	}
	return nil
}
