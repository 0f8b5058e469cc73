package engageclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions pages a listing that supports it. With MaxRows > 0 the call requests page Page,
// Page+1, … (0-based) with maxRows=MaxRows until a page comes back shorter than MaxRows, and
// returns all items. With MaxRows == 0 one request without paging returns the full list.
type ListOptions struct {
	Page    int
	MaxRows int
}

// UserListOptions selects the form of the users listing.
type UserListOptions struct {
	Flatten    bool // flatten=true: every user at top level with parentPath; false: nested children
	ActiveOnly bool // activeOnly=true
}

// ListAccounts lists the (sub-)accounts visible to the caller:
// GET /voice/api/v1/admin/accounts.
func (c *Client) ListAccounts(ctx context.Context) ([]*Account, *Response, error) {
	items, resp, err := list[Account](ctx, c, "voice/api/v1/admin/accounts", nil)
	if err != nil {
		return nil, resp, fmt.Errorf("listing accounts: %w", err)
	}
	return items, resp, nil
}

// ListUsers lists the admin users: GET /voice/api/v1/admin/users?flatten=… (nil opts: the
// nested form). Use FlattenUsers on the nested form to walk every user.
func (c *Client) ListUsers(ctx context.Context, opts *UserListOptions) ([]*User, *Response, error) {
	if opts == nil {
		opts = &UserListOptions{}
	}
	q := url.Values{"flatten": {strconv.FormatBool(opts.Flatten)}}
	if opts.ActiveOnly {
		q.Set("activeOnly", "true")
	}
	items, resp, err := list[User](ctx, c, "voice/api/v1/admin/users", q)
	if err != nil {
		return nil, resp, fmt.Errorf("listing users: %w", err)
	}
	return items, resp, nil
}

// ListAgentGroups lists the agent groups of one sub-account:
// GET /voice/api/v1/admin/accounts/{accountId}/agentGroups, paged when opts.MaxRows > 0.
func (c *Client) ListAgentGroups(ctx context.Context, accountID string, opts *ListOptions) ([]*AgentGroup, *Response, error) {
	if accountID == "" {
		return nil, nil, errors.New("listing agent groups: account id is empty")
	}
	path := "voice/api/v1/admin/accounts/" + url.PathEscape(accountID) + "/agentGroups"
	if opts == nil || opts.MaxRows <= 0 {
		items, resp, err := list[AgentGroup](ctx, c, path, nil)
		if err != nil {
			return nil, resp, fmt.Errorf("listing agent groups of account %s: %w", accountID, err)
		}
		return items, resp, nil
	}
	var (
		all  []*AgentGroup
		seen = map[int64]bool{}
		last *Response
	)
	pages := 0
	for page := max(opts.Page, 0); ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "maxRows": {strconv.Itoa(opts.MaxRows)}}
		items, resp, err := list[AgentGroup](ctx, c, path, q)
		if resp != nil {
			last = resp
		}
		if err != nil {
			if last != nil {
				last.Pages = pages
			}
			return nil, last, fmt.Errorf("listing agent groups of account %s (page %d): %w", accountID, page, err)
		}
		pages++
		added := 0
		for _, g := range items {
			if !seen[g.AgentGroupID] {
				seen[g.AgentGroupID] = true
				all = append(all, g)
				added++
			}
		}
		// A short page ends the listing; so does a page with nothing new (a server that
		// ignores paging would otherwise repeat the same page forever).
		if len(items) < opts.MaxRows || added == 0 {
			break
		}
	}
	last.Pages = pages
	if all == nil {
		all = []*AgentGroup{}
	}
	return all, last, nil
}

// ListAgents lists the agents of one agent group:
// GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents.
func (c *Client) ListAgents(ctx context.Context, accountID string, agentGroupID int64) ([]*Agent, *Response, error) {
	if accountID == "" {
		return nil, nil, errors.New("listing agents: account id is empty")
	}
	path := "voice/api/v1/admin/accounts/" + url.PathEscape(accountID) + "/agentGroups/" +
		strconv.FormatInt(agentGroupID, 10) + "/agents"
	items, resp, err := list[Agent](ctx, c, path, nil)
	if err != nil {
		return nil, resp, fmt.Errorf("listing agents of group %d in account %s: %w", agentGroupID, accountID, err)
	}
	return items, resp, nil
}

// list GETs one admin API listing and decodes the bare array.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) ([]*T, *Response, error) {
	r := &request{method: http.MethodGet, url: newURL(c.engageBase, path, q), api: true}
	httpResp, body, err := c.do(ctx, r)
	var resp *Response
	if httpResp != nil {
		resp = &Response{Response: httpResp, Pages: 1}
	}
	if err != nil {
		return nil, resp, err
	}
	items, err := decodeList[T](body)
	if err != nil {
		return nil, resp, &DecodeError{Endpoint: c.endpoint(r), Err: c.redactErr(err)}
	}
	return items, resp, nil
}
