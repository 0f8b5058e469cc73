package engageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// UserListOptions selects the form of the users listing.
type UserListOptions struct {
	Flatten    bool // flatten=true: every user at top level with parentPath; false: nested children
	ActiveOnly bool // activeOnly=true
}

// ListUsers lists the admin users: GET /voice/api/v1/admin/users?flatten=… (nil opts: the
// nested form). Use FlattenUsers on the nested form to walk every user. When some items cannot
// be decoded, the others are returned with an error matching *ItemsError.
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
		return items, resp, fmt.Errorf("listing users: %w", err)
	}
	return items, resp, nil
}

// User is an admin-portal user from GET /voice/api/v1/admin/users.
type User struct {
	UserID       int64   // userId
	UserName     *string // userName
	FirstName    *string // firstName
	LastName     *string // lastName
	FullName     *string // fullName
	Enabled      *bool   // enabled
	RootUser     *bool   // rootUser
	RCUserID     *int64  // rcUserId
	RCAccountID  *string // rcAccountId
	Roles        []Role  // roles (objects, or bare strings as in some doc samples)
	CreationDate Time    // creationDate
	ParentPath   *string // parentPath: the ancestors' userIds, root first, joined with "." ("2181.2979.2983.3064"); null, absent or "" for a root user
	Children     []*User // children, in the unflattened listing
	Raw          json.RawMessage

	parentID *int64 // set from the enclosing object when decoded from a children array
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *User) UnmarshalJSON(b []byte) error {
	var w struct {
		UserID       nullInt64 `json:"userId"`
		UserName     nullStr   `json:"userName"`
		FirstName    nullStr   `json:"firstName"`
		LastName     nullStr   `json:"lastName"`
		FullName     nullStr   `json:"fullName"`
		Enabled      nullBool  `json:"enabled"`
		RootUser     nullBool  `json:"rootUser"`
		RCUserID     nullInt64 `json:"rcUserId"`
		RCAccountID  nullID    `json:"rcAccountId"`
		Roles        []Role    `json:"roles"`
		CreationDate Time      `json:"creationDate"`
		ParentPath   nullStr   `json:"parentPath"`
		Children     span      `json:"children"`
	}
	if err := unmarshalObject(b, &w, "user"); err != nil {
		return err
	}
	if !w.UserID.Valid {
		return errors.New("userId is missing")
	}
	// A user's Raw leaves out its children: they are users of their own (with their own Raw),
	// and their parent_user_id keeps the hierarchy. Cloning each user's subtree would make
	// memory quadratic in the depth of the tree.
	raw, err := rawOf(withoutMember(b, w.Children))
	if err != nil {
		return err
	}
	children, err := childSpans(w.Children)
	if err != nil {
		return err
	}
	*u = User{
		UserID:       w.UserID.Int64,
		UserName:     w.UserName.Ptr(),
		FirstName:    w.FirstName.Ptr(),
		LastName:     w.LastName.Ptr(),
		FullName:     w.FullName.Ptr(),
		Enabled:      w.Enabled.Ptr(),
		RootUser:     w.RootUser.Ptr(),
		RCUserID:     w.RCUserID.Ptr(),
		RCAccountID:  w.RCAccountID.Ptr(),
		Roles:        w.Roles,
		CreationDate: w.CreationDate,
		ParentPath:   w.ParentPath.Ptr(),
		Raw:          raw,
	}
	return u.decodeChildren(children)
}

// childSpans splits a user's children member (absent, null or an array) into its elements.
func childSpans(children span) ([]span, error) {
	var out []span
	if len(children) > 0 && children[0] == '[' {
		if err := json.Unmarshal(children, &out); err != nil {
			return nil, fmt.Errorf("children: %w", err)
		}
	}
	return out, nil
}

// decodeChildren decodes u's children (null elements skipped), each knowing u as its parent.
func (u *User) decodeChildren(children []span) error {
	for i, raw := range children {
		if string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		c := new(User)
		if err := json.Unmarshal(raw, c); err != nil {
			return fmt.Errorf("children[%d]: %w", i, err)
		}
		id := u.UserID
		c.parentID = &id
		u.Children = append(u.Children, c)
	}
	return nil
}

// ParentUserID returns the id of the user's parent: the last id of ParentPath (the spec's
// example "2181.2979.2983.3064" gives 3064; a "/"-separated path is read the same way, though
// no source shows one), or, when ParentPath is absent or holds no id, the user whose children
// array held this one. It returns nil for a root user.
func (u *User) ParentUserID() *int64 {
	if u.ParentPath != nil {
		parts := strings.FieldsFunc(*u.ParentPath, func(r rune) bool { return r == '.' || r == '/' })
		for i := len(parts) - 1; i >= 0; i-- {
			id, err := strconv.ParseInt(strings.TrimSpace(parts[i]), 10, 64)
			if err != nil {
				continue
			}
			if id == u.UserID { // a path that includes the user itself
				continue
			}
			return &id
		}
		if u.parentID == nil {
			return nil
		}
	}
	if u.parentID != nil {
		id := *u.parentID
		return &id
	}
	return nil
}

// FlattenUsers returns users and all their descendants (Children, recursively) in depth-first
// order, parents before children. Use it on the unflattened listing; ParentUserID keeps
// working on the returned users.
func FlattenUsers(users []*User) []*User {
	var out []*User
	var walk func([]*User)
	walk = func(us []*User) {
		for _, u := range us {
			if u == nil {
				continue
			}
			out = append(out, u)
			walk(u.Children)
		}
	}
	walk(users)
	return out
}

// Role is one entry of User.Roles.
type Role struct {
	RoleType    string  // roleType, e.g. "SUPER_USER"
	Description *string // description
}

// UnmarshalJSON implements json.Unmarshaler; it accepts {"roleType":…} and a bare "ROLE".
func (r *Role) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = Role{RoleType: s}
		return nil
	}
	var w struct {
		RoleType    nullStr `json:"roleType"`
		Description nullStr `json:"description"`
	}
	if err := unmarshalObject(b, &w, "role"); err != nil {
		return err
	}
	*r = Role{RoleType: w.RoleType.String, Description: w.Description.Ptr()}
	return nil
}
