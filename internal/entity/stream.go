package entity

import (
	"fmt"
	"slices"
	"strings"
)

// A stream is what happened, read through time windows (docs/streams.md): the API offers
// it only as windows of one sub-account, with no paging and no "changed since". A stream's
// name is its table's name, like an entity's, and its name in `--streams`, in
// stream_windows.stream and in sync_run_scopes.entity.
//
// Adding a stream is: its description here (Since: the next migration's number), its table in
// that migration (genmigration renders the SQL that lists every stream), its client call, its
// fake endpoint and the fetch that maps its items into rows (sync/streams*.go). The ledger,
// the scheduling, the locks and the CLI read these descriptions and need no change.

// The streams.
const (
	AuditLog Name = "audit_log"
)

// Bucket is the request budget a stream's requests are paced by.
type Bucket string

// The buckets.
const (
	// BucketAdmin is the admin API's limiter (engage.requests_per_minute), shared with the
	// entities' listings.
	BucketAdmin Bucket = "admin"
	// BucketReporting is the integration reporting API's budget, per sub-account
	// (streams.reporting_limits).
	BucketReporting Bucket = "reporting"
)

// WindowSetting names the configuration key that sizes a stream's windows.
type WindowSetting uint8

// The window settings.
const (
	AuditWindow     WindowSetting = iota + 1 // streams.audit_window (default 1h)
	ReportingWindow                          // streams.window (default and maximum 3h)
)

// PublishRule is how a window's rows are written (docs/streams.md, "Publish").
type PublishRule uint8

// The publish rules.
const (
	// PublishAppend: rows never change once written; a read only adds the keys not stored
	// yet (audit_log).
	PublishAppend PublishRule = iota + 1
	// PublishUpsert: rows are upserted by key, comparing row_hash first; a row of the window
	// that a settle read no longer returns gets missing_since (interaction_segments).
	PublishUpsert
	// PublishReplace: the window's rows are replaced by what the read returned (the interval
	// statistics).
	PublishReplace
)

// Stream describes one stream.
type Stream struct {
	Name Name
	// Doc is what the stream's table holds, in a sentence for its users: the database's
	// comment on the table and `syncer tables` show it.
	Doc string
	// Endpoint is the request a window is read with, for the documentation:
	// "PUT /voice/api/v1/admin/auditLogs/search".
	Endpoint string
	// Key is the primary key: sub_account_id first, then the item's own key columns.
	Key []Column
	// Columns are the typed non-key columns, in table order.
	Columns []Column
	Bucket  Bucket
	Window  WindowSetting
	Publish PublishRule
	// NotEntitled is what a 403 from the stream's endpoint means is missing, for the message
	// that says what to ask for: `the user lacks "Audit log access"`.
	NotEntitled string
	// Since is the version of the migration that created the stream's table.
	Since int64
}

// streams is every stream, in the order runs read them.
var streams = []*Stream{
	{Name: AuditLog, Since: 7, Bucket: BucketAdmin, Window: AuditWindow, Publish: PublishAppend,
		Endpoint:    "PUT /voice/api/v1/admin/auditLogs/search",
		NotEntitled: `the RingCX user lacks the "Audit log access" permission (Users > Administrators)`,
		Doc: "The admin audit log: one row per change an admin made to a sub-account's configuration " +
			"(who, when, what, and each attribute's old and new value).",
		Key: []Column{
			{"sub_account_id", Text, "the window's sub-account (accountId)", "The sub-account the change was made in (sub_accounts.sub_account_id)."},
			{"audit_id", Text, "id", "The audit log entry's id (a UUID)."},
		},
		Columns: []Column{
			{"action_type", Text, "actionType", "What was done: CREATE, UPDATE or DELETE."},
			{"audited_class", Text, "auditedClass", "The kind of object changed: the last segment of the API's Java class name (Gate is a queue, Agent, AgentGroup, Campaign, DialGroup, User, ...)."},
			{"audited_entity_id", Text, "auditedEntityId", "The id of the object changed (a queue's gate_id, an agent's agent_id, ...)."},
			{"audited_entity_description", Text, "auditedEntityDescription", "The object's description as the audit log gives it (often its name)."},
			{"created_at", Time, "createTime", "When the change was made (createTime, epoch milliseconds)."},
			{"user_id", Text, "authUser.userId", "The id of the admin user who made the change (users.user_id)."},
			{"user_name", Text, "authUser.userName", "The login name of the admin user who made the change."},
			{"source_ip", Text, "authUser.sourceId", "The IP address the change came from; NULL when streams.redact lists source_ip."},
			{"changes", JSON, "auditLogResultList", "The attributes an UPDATE changed: an array of {attribute, original_value, new_value, class_type}; a secret-bearing attribute keeps its name and loses both values."},
		}},
}

// Streams returns every stream's description, in the order runs read them. The descriptions
// are shared: do not change them.
func Streams() []*Stream { return slices.Clone(streams) }

// StreamsAsOf returns the description of every stream whose table migration version created
// or an earlier one created.
func StreamsAsOf(version int64) []*Stream {
	var out []*Stream
	for _, s := range streams {
		if s.Since <= version {
			out = append(out, s)
		}
	}
	return out
}

// StreamNames returns every stream's name, in Streams' order.
func StreamNames() []Name {
	out := make([]Name, len(streams))
	for i, s := range streams {
		out[i] = s.Name
	}
	return out
}

// StreamOf returns the description of stream n, nil for an unknown name.
func StreamOf(n Name) *Stream {
	for _, s := range streams {
		if s.Name == n {
			return s
		}
	}
	return nil
}

// ParseStream returns the stream named s, or an error naming the streams there are.
func ParseStream(s string) (Name, error) {
	n := Name(strings.TrimSpace(s))
	if StreamOf(n) != nil {
		return n, nil
	}
	names := make([]string, len(streams))
	for i, st := range streams {
		names[i] = string(st.Name)
	}
	return "", fmt.Errorf("unknown stream %q (expected one of %s)", s, strings.Join(names, ", "))
}

// StreamOrder is n's position in StreamNames (len(StreamNames()) for an unknown name).
func StreamOrder(n Name) int {
	if i := slices.IndexFunc(streams, func(s *Stream) bool { return s.Name == n }); i >= 0 {
		return i
	}
	return len(streams)
}

// Ledgered returns every name that sync_run_scopes.entity may hold as of migration version:
// the entities, then the streams.
func Ledgered(version int64) []Name {
	var out []Name
	for _, d := range AsOf(version) {
		out = append(out, d.Name)
	}
	for _, s := range StreamsAsOf(version) {
		out = append(out, s.Name)
	}
	return out
}
