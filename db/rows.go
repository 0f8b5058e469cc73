package db

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// AccountRow is one main account. Raw is the API object JSON; Stage scrubs its secret-bearing
// keys and computes the row hash itself.
type AccountRow struct {
	MainAccountID string
	Name          *string
	RCAccountID   *string
	Raw           []byte
}

// SubAccountRow is one sub-account (an Engage "account").
type SubAccountRow struct {
	SubAccountID  string
	MainAccountID string
	Name          *string
	Archived      *bool
	StartDate     *time.Time
	EndDate       *time.Time
	Raw           []byte
}

// UserRow is one admin user.
type UserRow struct {
	UserID       int64
	ParentUserID *int64
	UserName     *string
	FirstName    *string
	LastName     *string
	FullName     *string
	Enabled      *bool
	RootUser     *bool
	RCUserID     *int64
	RCAccountID  *string
	Roles        []string
	CreatedAt    *time.Time
	Raw          []byte
}

// AgentGroupRow is one agent group of a sub-account.
type AgentGroupRow struct {
	SubAccountID string
	AgentGroupID int64
	Name         *string
	IsDefault    *bool
	Raw          []byte
}

// AgentRow is one agent of a sub-account.
type AgentRow struct {
	SubAccountID string
	AgentID      int64
	AgentGroupID int64
	Username     *string
	FirstName    *string
	LastName     *string
	Email        *string
	AgentType    *string
	IsActive     *bool
	RCUserID     *int64
	CreatedAt    *time.Time
	LastLoginAt  *time.Time
	Raw          []byte
	// Rank decides which copy is kept of an agent added twice in one run (listed in two
	// groups): the lower rank, of equal ranks the first added (Stage.SetDuplicateFunc).
	Rank int64
}

// entityDef describes one entity table.
type entityDef struct {
	name    Entity
	idx     int
	keyCols []string // 1 or 2 key columns; key (s, n): text key s and/or bigint key n
	keyS    string   // column of the text key part, "" when none
	keyN    string   // column of the bigint key part, "" when none
	cols    []string // typed non-key columns
	scoped  bool     // scope = the text key part (sub_account_id); else "all"
}

var entityDefs = []*entityDef{
	{name: EntityAccounts, keyCols: []string{"main_account_id"}, keyS: "main_account_id",
		cols: []string{"name", "rc_account_id"}},
	{name: EntitySubAccounts, keyCols: []string{"sub_account_id"}, keyS: "sub_account_id",
		cols: []string{"main_account_id", "name", "archived", "start_date", "end_date"}},
	{name: EntityUsers, keyCols: []string{"user_id"}, keyN: "user_id",
		cols: []string{"parent_user_id", "user_name", "first_name", "last_name", "full_name", "enabled", "root_user", "rc_user_id", "rc_account_id", "roles", "created_at"}},
	{name: EntityAgentGroups, keyCols: []string{"sub_account_id", "agent_group_id"}, keyS: "sub_account_id", keyN: "agent_group_id", scoped: true,
		cols: []string{"name", "is_default"}},
	{name: EntityAgents, keyCols: []string{"sub_account_id", "agent_id"}, keyS: "sub_account_id", keyN: "agent_id", scoped: true,
		cols: []string{"agent_group_id", "username", "first_name", "last_name", "email", "agent_type", "is_active", "rc_user_id", "created_at", "last_login_at"}},
}

func init() {
	for i, d := range entityDefs {
		d.idx = i
	}
}

func entityByName(name Entity) *entityDef {
	for _, d := range entityDefs {
		if d.name == name {
			return d
		}
	}
	return nil
}

// rowKey is an entity key: the text part s and/or the bigint part n.
type rowKey struct {
	s string
	n int64
}

// scope returns the scope a key belongs to.
func (d *entityDef) scope(k rowKey) string {
	if d.scoped {
		return k.s
	}
	return ScopeAll
}

// rowHasher hashes the typed values and scrubbed raw of a row into a canonical encoding.
type rowHasher struct {
	h   hash.Hash
	buf []byte
}

func newRowHasher() *rowHasher { return &rowHasher{h: sha256.New(), buf: make([]byte, 0, 64)} }

// sum hashes vals (typed column values in table order) and raw.
func (rh *rowHasher) sum(vals []any, raw []byte) [32]byte {
	rh.h.Reset()
	b := rh.buf[:0]
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 0)
		case string:
			b = append(b, 1)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
			b = append(b, x...)
		case bool:
			if x {
				b = append(b, 3, 1)
			} else {
				b = append(b, 3, 0)
			}
		case time.Time:
			b = append(b, 4)
			b = binary.LittleEndian.AppendUint64(b, uint64(x.UnixMicro()))
		case int64:
			b = append(b, 2)
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		case []string: // never nil: pa returns nil for a nil slice
			b = append(b, 5)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
			for _, s := range x {
				b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
				b = append(b, s...)
			}
		default:
			panic("db: unhashable value type")
		}
		if len(b) > 4096 {
			rh.h.Write(b)
			b = b[:0]
		}
	}
	b = append(b, 6)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(raw)))
	rh.h.Write(b)
	rh.h.Write(raw)
	rh.buf = b[:0]
	var out [32]byte
	rh.h.Sum(out[:0])
	return out
}
