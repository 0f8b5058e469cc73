package db

import (
	"context"
	"time"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
)

// SetStageHook installs fn to run at the named steps of st's Publish ("plan",
// "<entity>:analyze", "<entity>:update", "<entity>:insert", "<entity>:delete",
// "<entity>:done", "ledger", "commit", "committed"); an error aborts the publish.
func SetStageHook(st *Stage, fn func(ctx context.Context, step string) error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.hook = fn
}

// SetFieldTracking turns the recording of API paths (schema drift) on or off for st, before
// its first Add: the benchmark measures the sink both ways.
func SetFieldTracking(st *Stage, on bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.track = on
}

// IsSecretKey exposes the secret-key rule to the db tests.
func IsSecretKey(k string) bool { return secretjson.IsSecretKey(k) }

// The typed rows of the first five entities, for the db tests: each converts to the Row that
// Stage.Add takes, with the values in the description's column order.

type AccountRow struct {
	MainAccountID string
	Name          *string
	RCAccountID   *string
	Raw           []byte
}

type SubAccountRow struct {
	SubAccountID  string
	MainAccountID string
	Name          *string
	Archived      *bool
	StartDate     *time.Time
	EndDate       *time.Time
	Raw           []byte
}

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

type AgentGroupRow struct {
	SubAccountID string
	AgentGroupID int64
	Name         *string
	IsDefault    *bool
	Raw          []byte
}

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
	Object       []byte
	Rank         Rank
}

func convert[T any](rows []T, f func(r *T) Row) []Row {
	out := make([]Row, len(rows))
	for i := range rows {
		out[i] = f(&rows[i])
	}
	return out
}

func accountRows(rows []AccountRow) []Row {
	return convert(rows, func(r *AccountRow) Row {
		return Row{S: r.MainAccountID, Vals: []any{r.Name, r.RCAccountID}, Raw: r.Raw}
	})
}

func (st *Stage) AccountsAdd(ctx context.Context, source string, rows []AccountRow) error {
	return st.Add(ctx, entity.Accounts, source, accountRows(rows))
}

func (st *Stage) AccountsAddFallback(ctx context.Context, source string, rows []AccountRow) error {
	return st.AddFallback(ctx, entity.Accounts, source, accountRows(rows))
}

func (st *Stage) SubAccountsAdd(ctx context.Context, source string, rows []SubAccountRow) error {
	return st.Add(ctx, entity.SubAccounts, source, convert(rows, func(r *SubAccountRow) Row {
		return Row{S: r.SubAccountID, Vals: []any{r.MainAccountID, r.Name, r.Archived, r.StartDate, r.EndDate}, Raw: r.Raw}
	}))
}

func (st *Stage) UsersAdd(ctx context.Context, source string, rows []UserRow) error {
	return st.Add(ctx, entity.Users, source, convert(rows, func(r *UserRow) Row {
		return Row{N: [2]int64{r.UserID}, Vals: []any{r.ParentUserID, r.UserName, r.FirstName, r.LastName, r.FullName,
			r.Enabled, r.RootUser, r.RCUserID, r.RCAccountID, r.Roles, r.CreatedAt}, Raw: r.Raw}
	}))
}

func (st *Stage) AgentGroupsAdd(ctx context.Context, source string, rows []AgentGroupRow) error {
	return st.Add(ctx, entity.AgentGroups, source, convert(rows, func(r *AgentGroupRow) Row {
		return Row{S: r.SubAccountID, N: [2]int64{r.AgentGroupID}, Vals: []any{r.Name, r.IsDefault}, Raw: r.Raw}
	}))
}

func (st *Stage) AgentsAdd(ctx context.Context, source string, rows []AgentRow) error {
	return st.Add(ctx, entity.Agents, source, convert(rows, func(r *AgentRow) Row {
		return Row{S: r.SubAccountID, N: [2]int64{r.AgentID}, Rank: r.Rank, Raw: r.Raw, Object: r.Object,
			Vals: []any{r.AgentGroupID, r.Username, r.FirstName, r.LastName, r.Email, r.AgentType, r.IsActive,
				r.RCUserID, r.CreatedAt, r.LastLoginAt}}
	}))
}

// FreezeLock stops l's heartbeat, as a frozen process would: the lock's session goes silent
// and l never learns of it. The lock is left as it is: Release still releases it.
func FreezeLock(l *Lock) { l.stopHeartbeat() }

// PretendServerRestarted makes l take the server's start time for later than when it took
// the lock, as after a restart: a failed heartbeat then takes the lock again.
func PretendServerRestarted(l *Lock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = time.Time{}
}

// LockPID is the backend that holds l now.
func LockPID(l *Lock) uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sess.pid
}

// StreamLockPID is the backend of l's session.
func StreamLockPID(l *StreamLock) uint32 { return l.pid() }

// FreezeStreamLock stops l's heartbeat: l never learns that its session ended.
func FreezeStreamLock(l *StreamLock) { l.stopHeartbeat() }

// StreamsKey is the advisory lock key of s's schema's streams (held shared by stream runs).
func StreamsKey(s *Store) int64 { return s.streamsKey() }

// StreamRunKey is the two-key advisory lock of stream run runID of s's schema.
func StreamRunKey(s *Store, runID int64) (class, obj int32) {
	return s.streamRunClass(), int32(uint32(runID)) //nolint:gosec // the low 32 bits, as streamRunObjSQL
}
