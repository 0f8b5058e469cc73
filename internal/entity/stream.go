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
	AuditLog            Name = "audit_log"
	InteractionSegments Name = "interaction_segments"
	QueueStats          Name = "queue_stats"
	AgentStats          Name = "agent_stats"
	AgentQueueStats     Name = "agent_queue_stats"
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
	// WindowColumn names the Time column that places an item in its window, when one does
	// (interaction_segments: segment_end_at): an item on a window's bound may come in the
	// windows on both sides of it.
	WindowColumn string
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
	{Name: InteractionSegments, Since: 8, Bucket: BucketReporting, Window: ReportingWindow, Publish: PublishUpsert, WindowColumn: "segment_end_at",
		Endpoint:    "POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/interaction-metadata",
		NotEntitled: wemAccess,
		Doc: "Every call's and digital interaction's segments: one row per agent, IVR or bot leg, read by the window " +
			"its segment ended in (interaction metadata); a row a settle read no longer returns keeps its values and gets missing_since.",
		Key: []Column{
			{"sub_account_id", Text, "the window's sub-account (subAccountId)", "The sub-account of the interaction (sub_accounts.sub_account_id)."},
			{"segment_id", Text, "segmentId", "The segment's id: a new segment begins whenever an agent or the contact joins or leaves."},
		},
		Columns: []Column{
			{"dialog_id", Text, "dialogId", "The interaction (call or chat) the segment belongs to, start to end: interactions has one row per dialog."},
			{"uii", Text, "interactionId", "The unique interaction id (UII) that links the segments of a transfer or conference; its first 14 digits are the call's start time."},
			{"channel_type", Text, "channelType", "The channel: VOICE, SMS, EMAIL, ENGAGE_MESSAGING, ..."},
			{"channel_class", Text, "channelClass", "VOICE or DIGITAL."},
			{"channel_id", Text, "channelId", "The source channel's id (for a call, the phone number reached); NULL when streams.redact lists dnis."},
			{"ani", Text, "channelEndpointAddress", "The contact's address (ANI: the caller's number); NULL when streams.redact lists ani."},
			{"dnis", Text, "contactEndpointAddress", "The address the contact reached (DNIS); NULL when streams.redact lists dnis."},
			{"direction", Text, "dialogOrigination", "INBOUND or OUTBOUND, from the agent's view (chats are INBOUND)."},
			{"dialog_start_at", Time, "dialogStartTimeMs", "When the interaction began."},
			{"dialog_end_at", Time, "dialogEndTimeMs", "When the interaction ended."},
			{"dialog_duration_ms", Int, "dialogDurationMs", "The whole interaction's duration in milliseconds, IVR, queue and other agents included."},
			{"segment_type", Text, "segmentType", "AGENT, IVR or BOT."},
			{"participant_id", Text, "segmentParticipantId", "The segment's participant; for an AGENT segment the agent's id (agents.agent_id) [I]."},
			{"participant_rc_extension_id", Text, "segmentParticipantRcExtensionId", "The participant's RingCentral extension id (agents.rc_user_id) [I]."},
			{"agent_group_id", Int, "segmentAgentGroupId", "The agent group of the segment's agent (agent_groups.agent_group_id); NULL when the API sends no numeric id."},
			{"segment_start_at", Time, "segmentStartTimeMs", "When the participant joined."},
			{"segment_end_at", Time, "segmentEndTimeMs", "When the participant left: the window that read the row holds it."},
			{"segment_duration_ms", Int, "segmentDurationMs", "The segment's duration in milliseconds."},
			{"system_disposition", Text, "systemDisposition", "The system's outcome of the segment (ANSWER, ...)."},
			{"agent_disposition", Text, "agentDisposition", "The outcome the agent chose; it may be set or changed after the first read."},
			{"agent_notes", Text, "agentNotes", "The agent's free-text notes (personal data: NULL when streams.redact lists agent_notes)."},
			{"has_recording", Bool, "hasRecording", "Whether the segment has a recording (it may turn true after the first read)."},
			{"has_transcript", Bool, "hasTranscript", "Whether the segment has a transcript."},
		}},
	{Name: QueueStats, Since: 8, Bucket: BucketReporting, Window: ReportingWindow, Publish: PublishReplace,
		Endpoint:    "POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/agg-queue-stats",
		NotEntitled: wemAccess,
		Doc: "Queue statistics per interval: one row per queue and interval with activity (counts, and durations in seconds " +
			"unless the column says otherwise); a window's rows are replaced by each read of it.",
		Key: statsKey(
			Column{"queue_id", Int, "queue", "The queue (queues.queue_id, the API's gateId)."}),
		Columns: slices.Concat([]Column{{"queue_name", Text, "queueName", "The queue's name as the statistics sent it."}},
			metrics([][2]string{
				{"offdDirectIxnCnt", "Interactions offered to the queue."},
				{"answIxnCnt", "Interactions answered."},
				{"abandIxnCnt", "Interactions abandoned."},
				{"abandShortIxnCnt", "Interactions abandoned within the short-abandon threshold."},
				{"abandWithinSlCnt", "Interactions abandoned within the service level."},
				{"ansServicelevelCnt", "Interactions answered within the service level."},
				{"completedContacts", "Contacts completed."},
				{"queuedAndAnswIxnDur", "Time answered interactions waited in queue, summed."},
				{"queuedAndAbandIxnDur", "Time abandoned interactions waited in queue, summed."},
				{"queuedAnswLongestQueDur", "The longest wait in queue of an answered interaction."},
				{"queuedAbandLongestQueDur", "The longest wait in queue of an abandoned interaction."},
				{"talkingIxnDur", "Talk time, summed."},
				{"wrapUpDur", "Wrap-up time, summed."},
				{"waitDur", "Wait time, summed."},
				{"segmentHoldTime", "Hold time, summed (the spec's example suggests milliseconds [I])."},
				{"overflowInIxnCnt", "Interactions that overflowed into the queue."},
				{"overflowOutIxnCnt", "Interactions that overflowed out of the queue."},
			})),
	},
	{Name: AgentStats, Since: 8, Bucket: BucketReporting, Window: ReportingWindow, Publish: PublishReplace,
		Endpoint:    "POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/agg-agent-stats",
		NotEntitled: wemAccess,
		Doc: "Agent statistics per interval: how each agent spent it (durations in seconds) and the direct interactions " +
			"they handled; a window's rows are replaced by each read of it.",
		Key: statsKey(
			Column{"agent_id", Int, "agentId", "The agent (agents.agent_id)."}),
		Columns: slices.Concat([]Column{{"agent_name", Text, "agentName", "The agent's name as the statistics sent it."}},
			metrics([][2]string{
				{"availDur", "Time available."},
				{"totWorkDur", "Time logged in and working."},
				{"pauseDur", "Time paused (on break)."},
				{"waitDur", "Time waiting for an interaction."},
				{"adminDur", "Time in an administrative state."},
				{"directOutIxnCnt", "Direct outbound interactions."},
				{"directOutIxnDur", "Direct outbound interactions' duration, summed."},
				{"directInIxnCnt", "Direct inbound interactions."},
				{"directInIxnDur", "Direct inbound interactions' duration, summed."},
			})),
	},
	{Name: AgentQueueStats, Since: 8, Bucket: BucketReporting, Window: ReportingWindow, Publish: PublishReplace,
		Endpoint:    "POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/agg-agent-extended-stats",
		NotEntitled: wemAccess,
		Doc: "Agent statistics per queue and interval: what each agent handled for each queue (durations in seconds); " +
			"a window's rows are replaced by each read of it.",
		Key: statsKey(
			Column{"agent_id", Int, "agentId", "The agent (agents.agent_id)."},
			Column{"queue_id", Int, "queue", "The queue (queues.queue_id, the API's gateId)."}),
		Columns: slices.Concat([]Column{
			{"agent_name", Text, "agentName", "The agent's name as the statistics sent it."},
			{"queue_name", Text, "queueName", "The queue's name as the statistics sent it."},
		}, metrics([][2]string{
			{"talkingIxnDur", "Talk time, summed."},
			{"wrapUpDur", "Wrap-up time, summed."},
			{"answIxnCnt", "Interactions answered."},
			{"transferOutIxnCnt", "Interactions transferred out."},
		})),
	},
}

// wemAccess is what a 403 from the integration reporting endpoints means is missing.
const wemAccess = `the sub-account lacks "WEM Access" (RingCentral enables it: ask your RingCentral account team)`

// statsKey is the key of an interval statistics table: the sub-account, the row's own ids,
// then the interval.
func statsKey(ids ...Column) []Column {
	return slices.Concat([]Column{{"sub_account_id", Text, "the window's sub-account (subAccountId)", "The sub-account (sub_accounts.sub_account_id)."}},
		ids,
		[]Column{
			{"interval_start", Time, "dateTimeFrom", "The interval's start (dateTimeFrom, read in the request's time zone)."},
			{"interval_seconds", Int, "the request's timeInterval", "The interval's length in seconds, as the request asked for it (the response's interval stays in raw)."},
		})
}

// metrics are the columns of statistics fields, each a bigint named from its field in snake
// case (answIxnCnt is answ_ixn_cnt), read from that field.
func metrics(fields [][2]string) []Column {
	out := make([]Column, len(fields))
	for i, f := range fields {
		out[i] = Column{Name: SnakeCase(f[0]), Kind: Int, From: f[0], Doc: f[1]}
	}
	return out
}

// SnakeCase is the column name of an API field: answIxnCnt is answ_ixn_cnt.
func SnakeCase(field string) string {
	var b strings.Builder
	for i, r := range field {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
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
