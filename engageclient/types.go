package engageclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Account is one row of GET /voice/api/v1/admin/accounts: a (sub-)account with its main
// account. Unknown fields are kept in Raw.
type Account struct {
	AccountID       string       // sub-account id (number or string in JSON)
	AccountName     *string      // accountName
	MainAccountID   string       // mainAccountId, or mainAccount.mainAccountId when only nested
	MainAccountName *string      // mainAccountName, or mainAccount.mainAccountName
	ArchivedAccount *bool        // archivedAccount
	StartDate       Time         // startDate
	EndDate         Time         // endDate
	MainAccount     *MainAccount // nested mainAccount object when present
	Raw             json.RawMessage
}

type accountWire struct {
	AccountID       ID           `json:"accountId"`
	AccountName     Str          `json:"accountName"`
	MainAccountID   ID           `json:"mainAccountId"`
	MainAccountName Str          `json:"mainAccountName"`
	ArchivedAccount Bool         `json:"archivedAccount"`
	StartDate       Time         `json:"startDate"`
	EndDate         Time         `json:"endDate"`
	MainAccount     *MainAccount `json:"mainAccount"`
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (a *Account) UnmarshalJSON(b []byte) error {
	var w accountWire
	if err := unmarshalObject(b, &w, "account"); err != nil {
		return err
	}
	if !w.AccountID.Valid {
		return fmt.Errorf("decoding account: accountId is missing")
	}
	*a = Account{
		AccountID:       w.AccountID.String,
		AccountName:     w.AccountName.Ptr(),
		MainAccountID:   w.MainAccountID.String,
		MainAccountName: w.MainAccountName.Ptr(),
		ArchivedAccount: w.ArchivedAccount.Ptr(),
		StartDate:       w.StartDate,
		EndDate:         w.EndDate,
		MainAccount:     w.MainAccount,
		Raw:             cloneRaw(b),
	}
	if m := a.MainAccount; m != nil {
		if a.MainAccountID == "" {
			a.MainAccountID = m.MainAccountID
		}
		if a.MainAccountName == nil {
			a.MainAccountName = m.MainAccountName
		}
	}
	return nil
}

// MainAccount is the nested mainAccount object of an Account.
type MainAccount struct {
	MainAccountID   string  // mainAccountId
	MainAccountName *string // mainAccountName
	RCAccountID     *string // rcAccountId (the RingCentral account id)
	Raw             json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *MainAccount) UnmarshalJSON(b []byte) error {
	var w struct {
		MainAccountID   ID  `json:"mainAccountId"`
		MainAccountName Str `json:"mainAccountName"`
		RCAccountID     ID  `json:"rcAccountId"`
	}
	if err := unmarshalObject(b, &w, "main account"); err != nil {
		return err
	}
	*m = MainAccount{
		MainAccountID:   w.MainAccountID.String,
		MainAccountName: w.MainAccountName.Ptr(),
		RCAccountID:     w.RCAccountID.Ptr(),
		Raw:             cloneRaw(b),
	}
	return nil
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
	ParentPath   *string // parentPath, ancestor ids root-first: "/1000/1003/"; "/" for a root user
	Children     []*User // children, in the unflattened listing
	Raw          json.RawMessage

	parentID *int64 // set from the enclosing object when decoded from a children array
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *User) UnmarshalJSON(b []byte) error {
	var w struct {
		UserID       Int64   `json:"userId"`
		UserName     Str     `json:"userName"`
		FirstName    Str     `json:"firstName"`
		LastName     Str     `json:"lastName"`
		FullName     Str     `json:"fullName"`
		Enabled      Bool    `json:"enabled"`
		RootUser     Bool    `json:"rootUser"`
		RCUserID     Int64   `json:"rcUserId"`
		RCAccountID  ID      `json:"rcAccountId"`
		Roles        []Role  `json:"roles"`
		CreationDate Time    `json:"creationDate"`
		ParentPath   Str     `json:"parentPath"`
		Children     []*User `json:"children"`
	}
	if err := unmarshalObject(b, &w, "user"); err != nil {
		return err
	}
	if !w.UserID.Valid {
		return fmt.Errorf("decoding user: userId is missing")
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
		Raw:          cloneRaw(b),
	}
	for _, c := range w.Children {
		if c == nil {
			continue
		}
		id := u.UserID
		c.parentID = &id
		u.Children = append(u.Children, c)
	}
	return nil
}

// ParentUserID returns the id of the user's parent: the last id of ParentPath ("/1000/1003/"
// gives 1003), or, when ParentPath is absent, the user whose children array held this one.
// It returns nil for a root user.
func (u *User) ParentUserID() *int64 {
	if u.ParentPath != nil {
		parts := strings.FieldsFunc(*u.ParentPath, func(r rune) bool { return r == '/' })
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
		RoleType    Str `json:"roleType"`
		Description Str `json:"description"`
	}
	if err := unmarshalObject(b, &w, "role"); err != nil {
		return err
	}
	*r = Role{RoleType: w.RoleType.String, Description: w.Description.Ptr()}
	return nil
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
		AgentGroupID Int64 `json:"agentGroupId"`
		GroupName    Str   `json:"groupName"`
		IsDefault    Bool  `json:"isDefault"`
	}
	if err := unmarshalObject(b, &w, "agent group"); err != nil {
		return err
	}
	if !w.AgentGroupID.Valid {
		return fmt.Errorf("decoding agent group: agentGroupId is missing")
	}
	*g = AgentGroup{
		AgentGroupID: w.AgentGroupID.Int64,
		GroupName:    w.GroupName.Ptr(),
		IsDefault:    w.IsDefault.Ptr(),
		Raw:          cloneRaw(b),
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
		AgentID      Int64 `json:"agentId"`
		AgentGroupID Int64 `json:"agentGroupId"`
		GroupID      Int64 `json:"groupId"`
		AgentGroup   *struct {
			AgentGroupID Int64 `json:"agentGroupId"`
		} `json:"agentGroup"`
		Username      Str   `json:"username"`
		FirstName     Str   `json:"firstName"`
		LastName      Str   `json:"lastName"`
		Email         Str   `json:"email"`
		AgentType     Str   `json:"agentType"`
		IsActive      Bool  `json:"isActive"`
		Active        Bool  `json:"active"`
		RCUserID      Int64 `json:"rcUserId"`
		CreatedOn     Time  `json:"createdOn"`
		LastLoginDate Time  `json:"lastLoginDate"`
	}
	if err := unmarshalObject(b, &w, "agent"); err != nil {
		return err
	}
	if !w.AgentID.Valid {
		return fmt.Errorf("decoding agent: agentId is missing")
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
		Raw:           cloneRaw(b),
	}
	return nil
}

// unmarshalObject decodes a JSON object into w, with an error naming what when b is not an
// object.
func unmarshalObject(b []byte, w any, what string) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("decoding %s: expected a JSON object, got %s", what, jsonKind(b))
	}
	if err := json.Unmarshal(b, w); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func cloneRaw(b []byte) json.RawMessage {
	return json.RawMessage(bytes.Clone(bytes.TrimSpace(b)))
}

// decodeList decodes a bare JSON array of T (null gives an empty list). A JSON object body is
// accepted when it wraps exactly one array field (a defensive fallback for envelopes).
func decodeList[T any](body []byte) ([]*T, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	switch body[0] {
	case 'n':
		if string(body) == "null" {
			return []*T{}, nil
		}
	case '{':
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, err
		}
		var arr json.RawMessage
		n := 0
		for _, v := range env {
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '[' {
				arr, n = v, n+1
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("expected a JSON array, got an object")
		}
		body = arr
	}
	if body[0] != '[' {
		return nil, fmt.Errorf("expected a JSON array, got %s", jsonKind(body))
	}
	var out []*T
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	// drop null elements
	kept := out[:0]
	for _, v := range out {
		if v != nil {
			kept = append(kept, v)
		}
	}
	if kept == nil {
		kept = []*T{}
	}
	return kept, nil
}
