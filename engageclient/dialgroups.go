package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ListDialGroupsWithChildren lists the dial groups of one sub-account with their campaigns:
// GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/withChildren, one request without
// paging (the full list). A dial group that cannot be decoded is left out; a campaign that
// cannot be is left out of its group, which is still returned. Either way the call returns
// the others with an error matching *ItemsError (ItemError.Child names a campaign left out).
func (c *Client) ListDialGroupsWithChildren(ctx context.Context, accountID string) ([]*DialGroup, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing dial groups: %w", err)
	}
	items, resp, err := list[DialGroup](ctx, c, "voice/api/v1/admin/accounts/{}/dialGroups/withChildren", nil, accountID)
	if err != nil {
		return items, resp, fmt.Errorf("listing dial groups of sub-account %s: %w", accountID, err)
	}
	return items, resp, nil
}

// ListDialGroupAssignedAgents lists the agents assigned to one dial group:
// GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/{dialGroupId}/assignedAgents, paged
// when opts.MaxRows > 0 (ListOptions). When some items cannot be decoded, the others are
// returned with an error matching *ItemsError.
func (c *Client) ListDialGroupAssignedAgents(ctx context.Context, accountID string, dialGroupID int64, opts *ListOptions) ([]*Agent, *Response, error) {
	if err := checkSubAccountID(accountID); err != nil {
		return nil, nil, fmt.Errorf("listing agents assigned to a dial group: %w", err)
	}
	l := listing{
		what: fmt.Sprintf("listing agents assigned to dial group %d in sub-account %s", dialGroupID, accountID),
		path: "voice/api/v1/admin/accounts/{}/dialGroups/{}/assignedAgents",
		ids:  []string{accountID, strconv.FormatInt(dialGroupID, 10)},
	}
	return listPaged(ctx, c, l, opts, agentKey)
}

// DialGroup is one item of GET …/accounts/{accountId}/dialGroups/withChildren.
type DialGroup struct {
	DialGroupID   int64       // dialGroupId
	DialGroupName *string     // dialGroupName
	DialGroupDesc *string     // dialGroupDesc
	DialMode      *string     // dialMode
	IsActive      *bool       // isActive (boolean or 0/1)
	Campaigns     []*Campaign // campaigns (null or absent: none), without those that could not be decoded
	Raw           json.RawMessage

	childErrs []childError // the campaigns left out, until decodeList takes them
}

// UnmarshalJSON implements json.Unmarshaler. The spec types campaigns as CollectionCampaign, an
// object schema without properties (a Java collection); it is read as the JSON array such a
// collection is sent as. A campaign that cannot be decoded does not fail the group: it is left
// out of Campaigns, and a listing reports it (ItemError.Child "campaigns[i]").
func (g *DialGroup) UnmarshalJSON(b []byte) error {
	var w struct {
		DialGroupID   nullInt64 `json:"dialGroupId"`
		DialGroupName nullStr   `json:"dialGroupName"`
		DialGroupDesc nullStr   `json:"dialGroupDesc"`
		DialMode      nullStr   `json:"dialMode"`
		IsActive      nullBool  `json:"isActive"`
		Campaigns     span      `json:"campaigns"`
	}
	if err := unmarshalObject(b, &w, "dial group"); err != nil {
		return err
	}
	if !w.DialGroupID.Valid {
		return errors.New("dialGroupId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	campaigns, bad := decodeChildren[Campaign](w.Campaigns, "campaigns")
	*g = DialGroup{
		DialGroupID:   w.DialGroupID.Int64,
		DialGroupName: w.DialGroupName.Ptr(),
		DialGroupDesc: w.DialGroupDesc.Ptr(),
		DialMode:      w.DialMode.Ptr(),
		IsActive:      w.IsActive.Ptr(),
		Campaigns:     campaigns,
		Raw:           raw,
		childErrs:     bad,
	}
	return nil
}

func (g *DialGroup) takeChildErrors() []childError {
	bad := g.childErrs
	g.childErrs = nil
	return bad
}

// Campaign is one element of a DialGroup's campaigns.
type Campaign struct {
	CampaignID   int64   // campaignId
	CampaignName *string // campaignName
	CampaignDesc *string // campaignDesc
	IsActive     *bool   // isActive: an integer 0/1 in the spec; 0/1, "0"/"1" and booleans read, anything else nil
	StartDate    Time    // startDate
	EndDate      Time    // endDate
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (cp *Campaign) UnmarshalJSON(b []byte) error {
	var w struct {
		CampaignID   nullInt64 `json:"campaignId"`
		CampaignName nullStr   `json:"campaignName"`
		CampaignDesc nullStr   `json:"campaignDesc"`
		IsActive     looseBool `json:"isActive"`
		StartDate    Time      `json:"startDate"`
		EndDate      Time      `json:"endDate"`
	}
	if err := unmarshalObject(b, &w, "campaign"); err != nil {
		return err
	}
	if !w.CampaignID.Valid {
		return errors.New("campaignId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*cp = Campaign{
		CampaignID:   w.CampaignID.Int64,
		CampaignName: w.CampaignName.Ptr(),
		CampaignDesc: w.CampaignDesc.Ptr(),
		IsActive:     w.IsActive.Ptr(),
		StartDate:    w.StartDate,
		EndDate:      w.EndDate,
		Raw:          raw,
	}
	return nil
}
