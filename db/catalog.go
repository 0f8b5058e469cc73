package db

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evsync/evsync/internal/entity"
)

// The catalog describes every relation of the schema the migrations create (tables and views)
// and what each of their columns holds: the data dictionary. An entity's table and its key
// and typed columns are described by internal/entity (Desc.Doc, Column.Doc); the rest, which
// db owns (the system columns every entity row has, the history tables, the run ledger, the
// drift tables and the views), here. `syncer tables` prints it, and the migrations set it as
// the comments of the tables, views and columns (CommentsSQL), so that psql's \d+ and BI tools
// show the same text. A test holds the catalog to a migrated schema, column by column, and the
// comments there to the catalog.

// RelationKind is what a relation of the schema is for.
type RelationKind string

// The relation kinds.
const (
	KindEntity  RelationKind = "entity"  // an entity's table: its rows as the API lists them
	KindHistory RelationKind = "history" // an entity's history table: one row per version of a row
	KindStream  RelationKind = "stream"  // a stream's table: what happened, read through time windows
	KindLedger  RelationKind = "ledger"  // the runs, the API's fields, the applied migrations
	KindView    RelationKind = "view"    // a view over the tables
)

// ColumnRole is what a column of an entity's table is.
type ColumnRole string

// The column roles.
const (
	RoleKey    ColumnRole = "key"    // part of the primary key, read from the API
	RoleTyped  ColumnRole = "typed"  // a typed column read from the API
	RoleSystem ColumnRole = "system" // written by evsync: raw, row_hash, first_seen_at, ...
)

// Relation is one table or view of the schema.
type Relation struct {
	Name string
	Kind RelationKind
	Doc  string   // what it holds, in a sentence or two: its comment
	Key  []string // the primary key, in order; nil for a view
	// Entity is the entity whose table or history table it is; nil for the others.
	Entity *entity.Desc
	// Stream is the stream whose table it is; nil for the others.
	Stream  *entity.Stream
	Columns []RelColumn // in table order
	Since   int64       // the migration that created it
}

// RelColumn is one column of a relation.
type RelColumn struct {
	Name string
	Type string // as PostgreSQL's format_type prints it: "bigint", "timestamp with time zone"
	Doc  string // what it holds: its comment
	// Role is the column's part in an entity's or a stream's table or an entity's history
	// table ("" elsewhere).
	Role ColumnRole
	// From is, for a key or typed column of an entity's or a stream's table, how its value is
	// read from the API object (entity.Column.From).
	From string
}

// CommentsSince is the migration that first set the comments: the schema has none before.
const CommentsSince = 6

// Relations returns every relation of the schema as the latest migration leaves it.
func Relations() []Relation { return RelationsOf(entity.All(), math.MaxInt64) }

// RelationsOf returns the relations of the schema as migration version leaves it, for the
// entities ds (entity.AsOf(version), or entity.All() for the latest): for each entity its
// table and history table, then the table of each stream as of version (entity.StreamsAsOf),
// then the ledger tables, then the views.
func RelationsOf(ds []*entity.Desc, version int64) []Relation {
	return RelationsWith(ds, entity.StreamsAsOf(version), version)
}

// RelationsWith is RelationsOf with the streams ss (entity.StreamsAsOf(version), or a registry
// being changed: genmigration's) instead of the registry's.
func RelationsWith(ds []*entity.Desc, ss []*entity.Stream, version int64) []Relation {
	var out []Relation
	for _, d := range ds {
		out = append(out, entityRelation(d), historyRelation(d))
	}
	for _, st := range ss {
		out = append(out, streamRelation(st))
	}
	cols := columnIndex(out)
next:
	for _, r := range fixedRelations() {
		if r.Since > version {
			continue
		}
		for i, c := range r.Columns {
			var ok bool
			if r.Columns[i], ok = c.resolve(cols); !ok {
				continue next // a view over a table ds lacks: not in that schema
			}
		}
		out = append(out, r)
	}
	return out
}

// entityRelation is the table of entity d.
func entityRelation(d *entity.Desc) Relation {
	r := Relation{Name: string(d.Name), Kind: KindEntity, Doc: d.Doc, Entity: d, Since: d.Since}
	r.Key, r.Columns = registryColumns(d.Key, d.Columns)
	r.Columns = append(r.Columns, systemColumns...)
	return r
}

// registryColumns are the key (its columns' names, and the columns) and the typed columns of a
// table the registry describes (an entity's or a stream's), in table order.
func registryColumns(key, typed []entity.Column) ([]string, []RelColumn) {
	names := make([]string, 0, len(key))
	cols := make([]RelColumn, 0, len(key)+len(typed))
	for _, c := range key {
		names = append(names, c.Name)
		cols = append(cols, RelColumn{Name: c.Name, Type: c.Kind.SQL(), Doc: c.Doc, Role: RoleKey, From: c.From})
	}
	for _, c := range typed {
		cols = append(cols, RelColumn{Name: c.Name, Type: c.Kind.SQL(), Doc: c.Doc, Role: RoleTyped, From: c.From})
	}
	return names, cols
}

// systemColumns are the columns every entity table has after its typed ones.
var systemColumns = []RelColumn{
	{Name: "raw", Type: "jsonb", Role: RoleSystem,
		Doc: "The API object as received, null values and unknown fields included, minus every secret-bearing key."},
	{Name: "row_hash", Type: "bytea", Role: RoleSystem,
		Doc: "SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten."},
	{Name: "first_seen_at", Type: "timestamp with time zone", Role: RoleSystem,
		Doc: "When a run first stored the row."},
	{Name: "last_changed_at", Type: "timestamp with time zone", Role: RoleSystem,
		Doc: "When a run last inserted, changed, deleted or restored the row."},
	{Name: "deleted_at", Type: "timestamp with time zone", Role: RoleSystem,
		Doc: "When a run found the row gone upstream (a soft delete); NULL while it exists upstream."},
	{Name: "last_run_id", Type: "bigint", Role: RoleSystem,
		Doc: "The run that last inserted, changed, deleted or restored the row (sync_runs.run_id)."},
}

// streamRelation is the table of stream st.
func streamRelation(st *entity.Stream) Relation {
	r := Relation{Name: string(st.Name), Kind: KindStream, Doc: st.Doc, Stream: st, Since: st.Since}
	r.Key, r.Columns = registryColumns(st.Key, st.Columns)
	r.Columns = append(r.Columns, streamSystemColumns(st)...)
	return r
}

// streamSystemColumns are the columns of stream st's table after its typed ones: an entity's
// but deleted_at (a stream's rows are never deleted upstream), after the window that wrote
// the row; and missing_since for a stream published by PublishUpsert.
func streamSystemColumns(st *entity.Stream) []RelColumn {
	cols := []RelColumn{
		{Name: "window_start", Type: "timestamp with time zone", Role: RoleSystem,
			Doc: "The start of the window whose read last wrote the row (stream_windows.window_start)."},
	}
	for _, c := range systemColumns {
		if c.Name == "deleted_at" {
			continue
		}
		if c.Name == "last_changed_at" {
			c.Doc = "When a run first stored the row or last changed it."
		}
		if c.Name == "last_run_id" {
			c.Doc = "The run that first stored the row or last changed it (sync_runs.run_id)."
		}
		cols = append(cols, c)
	}
	if st.Publish == entity.PublishUpsert {
		cols = append(cols, RelColumn{Name: "missing_since", Type: "timestamp with time zone", Role: RoleSystem,
			Doc: "When a settle read of the row's window no longer returned it; NULL while the API returns it."})
	}
	return cols
}

// historyColumns are the columns of a history table after the entity's key.
var historyColumns = []RelColumn{
	{Name: "valid_from", Type: "timestamp with time zone", Role: RoleSystem,
		Doc: "When this version of the row began: the run's publish."},
	{Name: "valid_to", Type: "timestamp with time zone", Role: RoleSystem,
		Doc: "When this version was superseded; NULL for the current version."},
	{Name: "change", Type: "text", Role: RoleSystem,
		Doc: "What began this version: insert, update, delete or restore."},
	{Name: "changed_columns", Type: "text[]", Role: RoleSystem,
		Doc: "The columns the change set (raw among them when the object changed); empty for an insert."},
	{Name: "run_id", Type: "bigint", Role: RoleSystem,
		Doc: "The run that made the change (sync_runs.run_id)."},
	{Name: "raw", Type: "jsonb", Role: RoleSystem,
		Doc: "The API object of this version once superseded; NULL for the current version, whose object is the entity row's raw."},
}

// historyRelation is the history table of entity d.
func historyRelation(d *entity.Desc) Relation {
	r := Relation{Name: string(d.Name) + "_history", Kind: KindHistory, Entity: d, Since: d.Since,
		Doc: fmt.Sprintf("History of %s: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.", d.Name)}
	for _, c := range d.Key {
		r.Key = append(r.Key, c.Name)
		r.Columns = append(r.Columns, RelColumn{Name: c.Name, Type: c.Kind.SQL(), Doc: c.Doc, Role: RoleKey})
	}
	r.Key = append(r.Key, "valid_from")
	r.Columns = append(r.Columns, historyColumns...)
	return r
}

// columnIndex maps "table.column" to the column, for the views' columns that show one.
func columnIndex(rels []Relation) map[string]RelColumn {
	m := map[string]RelColumn{}
	for _, r := range rels {
		for _, c := range r.Columns {
			m[r.Name+"."+c.Name] = c
		}
	}
	return m
}

// resolve fills in a view column that shows a table's column ("=agents.username" as its Doc):
// its type and its Doc from that column, after its name. It reports false when cols lacks
// that column.
func (c RelColumn) resolve(cols map[string]RelColumn) (RelColumn, bool) {
	src, ok := strings.CutPrefix(c.Doc, "=")
	if !ok {
		return c, true
	}
	s, found := cols[src]
	if !found {
		return c, false
	}
	return RelColumn{Name: c.Name, Type: s.Type, Doc: src + ": " + s.Doc}, true
}

// shows is a view column that shows column src ("agents.username") of a table.
func shows(name, src string) RelColumn { return RelColumn{Name: name, Doc: "=" + src} }

// countColumns are the row counts sync_runs and sync_run_scopes share.
func countColumns(of string) []RelColumn {
	return []RelColumn{
		{Name: "fetched", Type: "bigint", Doc: "Rows fetched from the API" + of + "."},
		{Name: "inserted", Type: "bigint", Doc: "Rows inserted: new" + of + "."},
		{Name: "updated", Type: "bigint", Doc: "Rows updated: changed" + of + "."},
		{Name: "unchanged", Type: "bigint", Doc: "Rows listed and left as they were" + of + "."},
		{Name: "deleted", Type: "bigint", Doc: "Rows soft-deleted: gone upstream" + of + "."},
		{Name: "restored", Type: "bigint", Doc: "Deleted rows that came back" + of + "."},
	}
}

// orList writes vs, but skip, as "a, b or c".
func orList[T ~string](vs []T, skip ...T) string {
	var s []string
	for _, v := range vs {
		if !slices.Contains(skip, v) {
			s = append(s, string(v))
		}
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// fixedRelations are the relations that are not an entity's: the ledger tables and the views.
func fixedRelations() []Relation {
	return []Relation{
		{Name: "sync_runs", Kind: KindLedger, Since: 1, Key: []string{"run_id"},
			Doc: "One row per run: what started it, when, how it ended, its requests and row counts.",
			Columns: slices.Concat([]RelColumn{
				{Name: "run_id", Type: "bigint", Doc: "The run's id, in the order runs started."},
				{Name: "trigger", Type: "text", Doc: "What started the run: manual (syncer sync), schedule (the daemon), demo, streams (a run of the streams' due windows) or backfill (syncer backfill)."},
				{Name: "started_at", Type: "timestamp with time zone", Doc: "When the run started."},
				{Name: "finished_at", Type: "timestamp with time zone", Doc: "When the run ended; NULL while it runs."},
				{Name: "status", Type: "text", Doc: "How the run ended: " + orList(RunStatuses(), RunRunning) + "; running while it runs."},
				{Name: "error", Type: "text", Doc: "Why the run failed or was partial; NULL when it succeeded."},
				{Name: "api_requests", Type: "bigint", Doc: "Requests the run sent to the APIs."},
				{Name: "token_refreshes", Type: "bigint", Doc: "Access tokens the run obtained."},
				{Name: "retries", Type: "bigint", Doc: "Requests the run sent again after a failure."},
				{Name: "rate_limited", Type: "bigint", Doc: "Answers that said the rate limit was reached (HTTP 429)."},
			}, countColumns(", over every entity"))},
		{Name: "sync_run_scopes", Kind: KindLedger, Since: 1, Key: []string{"run_id", "entity", "scope"},
			Doc: "One row per entity or stream and scope of each run: how the scope ended and its row counts.",
			Columns: slices.Concat([]RelColumn{
				{Name: "run_id", Type: "bigint", Doc: "The run (sync_runs.run_id)."},
				{Name: "entity", Type: "text", Doc: "The entity, named as in --entities, or the stream, named as in --streams."},
				{Name: "scope", Type: "text", Doc: "The scope: all for an entity with one, else the sub-account's id (a stream's scopes are sub-accounts)."},
				{Name: "status", Type: "text", Doc: "How the scope ended: " + orList(ScopeStatuses()) +
					" (withheld: listed, but its deletes held back by the mass-delete breaker; not_entitled: a stream the API refused with 403)."},
				{Name: "error", Type: "text", Doc: "Why the scope failed, was withheld or was not entitled; NULL when it succeeded."},
			}, countColumns(" in the scope"))},
		{Name: "api_fields", Kind: KindLedger, Since: 5, Key: []string{"entity", "path"},
			Doc: "The JSON paths each entity's API objects carried at their latest observation, and their JSON types: names only, never values.",
			Columns: []RelColumn{
				{Name: "entity", Type: "text", Doc: "The entity, named as in --entities."},
				{Name: "path", Type: "text", Doc: "The path: a key (isActive), a nested key (mainAccount.rcAccountId) or an array's elements (roles[].roleType)."},
				{Name: "json_types", Type: "text[]", Doc: "The JSON types the path held, sorted (array, boolean, null, number, object, string)."},
				{Name: "first_seen_run_id", Type: "bigint", Doc: "The run that first recorded the path (sync_runs.run_id)."},
				{Name: "last_seen_run_id", Type: "bigint", Doc: "The run that last saw the path (sync_runs.run_id)."},
			}},
		{Name: "api_field_changes", Kind: KindLedger, Since: 5, Key: []string{"run_id", "entity", "path"},
			Doc: "One row per path that, in a run, appeared, vanished or changed type against the entity's previous observation.",
			Columns: []RelColumn{
				{Name: "run_id", Type: "bigint", Doc: "The run that found the change (sync_runs.run_id)."},
				{Name: "entity", Type: "text", Doc: "The entity, named as in --entities."},
				{Name: "path", Type: "text", Doc: "The path (as in api_fields)."},
				{Name: "change", Type: "text", Doc: "What happened to the path: " + orList(FieldChangeKinds()) + "."},
				{Name: "old_type", Type: "text", Doc: "The path's non-null types before, sorted and joined with |; null when it held only nulls; NULL when it was added."},
				{Name: "new_type", Type: "text", Doc: "The path's non-null types after, as old_type; NULL when it was removed."},
			}},
		{Name: "stream_windows", Kind: KindLedger, Since: 7, Key: []string{"stream", "sub_account_id", "window_start"},
			Doc: "The streams' ledger: one row per time window of a stream and sub-account, read once when it has closed and once more when it has settled.",
			Columns: []RelColumn{
				{Name: "stream", Type: "text", Doc: "The stream, named as in --streams."},
				{Name: "sub_account_id", Type: "text", Doc: "The sub-account whose window it is (sub_accounts.sub_account_id)."},
				{Name: "window_start", Type: "timestamp with time zone", Doc: "The window's start (included)."},
				{Name: "window_end", Type: "timestamp with time zone", Doc: "The window's end (excluded)."},
				{Name: "backfill", Type: "boolean", Doc: "Whether a backfill recorded the window (the high-water mark counts from the first window that is not)."},
				{Name: "first_read_at", Type: "timestamp with time zone", Doc: "When a read of the window first published; NULL until then."},
				{Name: "settled_at", Type: "timestamp with time zone", Doc: "When the read that counts as the window's settle read published; NULL until then."},
				{Name: "status", Type: "text", Doc: "The window's last read: " + orList(WindowStatuses()) + " (pending: not read yet)."},
				{Name: "attempts", Type: "integer", Doc: "Reads of the window attempted, published or not."},
				{Name: "rows", Type: "bigint", Doc: "Items the last published read returned."},
				{Name: "error", Type: "text", Doc: "Why the last read failed or was refused; NULL when it published."},
				{Name: "attempted_at", Type: "timestamp with time zone", Doc: "When the last read was attempted (a failed window's backoff counts from it)."},
				{Name: "last_run_id", Type: "bigint", Doc: "The run of the last attempt (sync_runs.run_id)."},
			}},
		{Name: "goose_db_version", Kind: KindLedger, Since: 1, Key: []string{"id"},
			Doc: "The migrations applied to the schema (goose's table: syncer migrate status reads it).",
			Columns: []RelColumn{
				{Name: "id", Type: "integer", Doc: "The row's id, in the order migrations were applied or rolled back."},
				{Name: "version_id", Type: "bigint", Doc: "The migration's number (its file's NNNNN)."},
				{Name: "is_applied", Type: "boolean", Doc: "Whether the migration was applied (false: rolled back)."},
				{Name: "tstamp", Type: "timestamp without time zone", Doc: "When, in the server's time zone."},
			}},
		{Name: "agents_current", Kind: KindView, Since: 2,
			Doc: "Live agents with their agent group, sub-account and main account names.",
			Columns: []RelColumn{
				shows("sub_account_id", "agents.sub_account_id"), shows("sub_account_name", "sub_accounts.name"),
				shows("main_account_id", "sub_accounts.main_account_id"), shows("main_account_name", "accounts.name"),
				shows("agent_group_id", "agents.agent_group_id"), shows("agent_group_name", "agent_groups.name"),
				shows("agent_id", "agents.agent_id"), shows("username", "agents.username"),
				shows("first_name", "agents.first_name"), shows("last_name", "agents.last_name"),
				shows("email", "agents.email"), shows("agent_type", "agents.agent_type"),
				shows("is_active", "agents.is_active"), shows("rc_user_id", "agents.rc_user_id"),
				shows("created_at", "agents.created_at"), shows("last_login_at", "agents.last_login_at"),
				shows("first_seen_at", "agents.first_seen_at"), shows("last_changed_at", "agents.last_changed_at"),
			}},
		{Name: "entity_freshness", Kind: KindView, Since: 2,
			Doc: "Per entity: the last committed run that completed its least fresh current scope, its age, and the live and deleted row counts.",
			Columns: []RelColumn{
				{Name: "entity", Type: "text", Doc: "The entity, named as in --entities."},
				{Name: "last_success_run_id", Type: "bigint", Doc: "The last committed run that completed the entity's least fresh current scope; NULL while one of them was never completed."},
				{Name: "last_success_at", Type: "timestamp with time zone", Doc: "When that run finished."},
				{Name: "last_success_age", Type: "interval", Doc: "How long ago that run finished."},
				{Name: "live", Type: "bigint", Doc: "The entity's rows that exist upstream (deleted_at NULL)."},
				{Name: "deleted", Type: "bigint", Doc: "The entity's soft-deleted rows."},
			}},
		{Name: "stream_freshness", Kind: KindView, Since: 7,
			Doc: "Per stream and sub-account with windows in the ledger: its high-water mark, lag, pending and failed windows, whether the API refused it, and whether the sub-account is live.",
			Columns: []RelColumn{
				{Name: "stream", Type: "text", Doc: "The stream, named as in --streams."},
				{Name: "sub_account_id", Type: "text", Doc: "The sub-account (sub_accounts.sub_account_id)."},
				{Name: "high_water_mark", Type: "timestamp with time zone", Doc: "The start of the oldest window not read yet, or the end of the newest window when every one was read; the windows before the first one a backfill did not record do not count."},
				{Name: "lag", Type: "interval", Doc: "How far the high-water mark is behind now."},
				{Name: "windows_pending", Type: "bigint", Doc: "Windows recorded and not read yet (status pending)."},
				{Name: "windows_failed", Type: "bigint", Doc: "Windows whose last read failed."},
				{Name: "not_entitled", Type: "boolean", Doc: "Whether the latest read attempted was refused with 403 (the entitlement the stream needs is missing)."},
				{Name: "rows", Type: "bigint", Doc: "Items the windows' last published reads returned, summed."},
				{Name: "last_read_at", Type: "timestamp with time zone", Doc: "When a read last published (a first or a settle read)."},
				{Name: "live", Type: "boolean", Doc: "Whether the sub-account is live: false once sub_accounts holds it as deleted (a sub-account that table does not hold counts as live)."},
			}},
		{Name: "queues_current", Kind: KindView, Since: 4,
			Doc: "Live queues with their queue group and sub-account names and the number of live agents assigned.",
			Columns: []RelColumn{
				shows("sub_account_id", "queues.sub_account_id"), shows("sub_account_name", "sub_accounts.name"),
				shows("queue_group_id", "queues.queue_group_id"), shows("queue_group_name", "queue_groups.name"),
				shows("queue_id", "queues.queue_id"), shows("name", "queues.name"),
				shows("description", "queues.description"), shows("is_active", "queues.is_active"),
				shows("priority", "queues.priority"), shows("created_at", "queues.created_at"),
				{Name: "assigned_agents", Type: "bigint", Doc: "The live agent_queues rows of the queue: the agents assigned to it."},
				shows("first_seen_at", "queues.first_seen_at"), shows("last_changed_at", "queues.last_changed_at"),
			}},
		{Name: "agent_queues_current", Kind: KindView, Since: 4,
			Doc: "Live assignments of agents to live queues, with the queue, its group and sub-account, and the agent (NULL when the agent is not a live agents row).",
			Columns: []RelColumn{
				shows("sub_account_id", "agent_queues.sub_account_id"), shows("sub_account_name", "sub_accounts.name"),
				shows("queue_group_id", "queues.queue_group_id"), shows("queue_group_name", "queue_groups.name"),
				shows("queue_id", "agent_queues.queue_id"), shows("queue_name", "queues.name"),
				shows("agent_id", "agent_queues.agent_id"), shows("username", "agents.username"),
				shows("first_name", "agents.first_name"), shows("last_name", "agents.last_name"),
				shows("agent_is_active", "agents.is_active"), shows("last_login_at", "agents.last_login_at"),
				shows("first_seen_at", "agent_queues.first_seen_at"),
			}},
		{Name: "interactions", Kind: KindView, Since: 8,
			Doc: "One row per interaction (call or chat) of interaction_segments, its segments that the API still returns: when, how long, how many agents, the first and last agent and the final dispositions.",
			Columns: []RelColumn{
				shows("sub_account_id", "interaction_segments.sub_account_id"), shows("dialog_id", "interaction_segments.dialog_id"),
				shows("uii", "interaction_segments.uii"), shows("direction", "interaction_segments.direction"),
				shows("channel_type", "interaction_segments.channel_type"), shows("channel_class", "interaction_segments.channel_class"),
				shows("ani", "interaction_segments.ani"), shows("dnis", "interaction_segments.dnis"),
				{Name: "started_at", Type: "timestamp with time zone", Doc: "When the interaction began (dialog_start_at; the first segment's start when the API sent none)."},
				{Name: "ended_at", Type: "timestamp with time zone", Doc: "When the interaction ended (dialog_end_at; the last segment's end when the API sent none)."},
				{Name: "duration_ms", Type: "bigint", Doc: "The interaction's duration in milliseconds (dialog_duration_ms), IVR and queue time included."},
				{Name: "segments", Type: "bigint", Doc: "Its segments (agent, IVR and bot legs)."},
				{Name: "agent_segments", Type: "bigint", Doc: "Its AGENT segments: the agents who handled it, one per leg."},
				{Name: "transfers", Type: "bigint", Doc: "Agent segments after the first: the times it passed to another agent."},
				{Name: "agent_handle_ms", Type: "bigint", Doc: "The AGENT segments' durations in milliseconds, summed: the agents' handle time."},
				{Name: "first_agent_id", Type: "text", Doc: "The participant of its first AGENT segment (agents.agent_id as text)."},
				{Name: "last_agent_id", Type: "text", Doc: "The participant of its last AGENT segment."},
				{Name: "system_disposition", Type: "text", Doc: "The system disposition of its last segment that has one."},
				{Name: "agent_disposition", Type: "text", Doc: "The agent disposition of its last segment that has one."},
				{Name: "has_recording", Type: "boolean", Doc: "Whether any of its segments has a recording."},
				{Name: "has_transcript", Type: "boolean", Doc: "Whether any of its segments has a transcript."},
			}},
		{Name: "interaction_segments_current", Kind: KindView, Since: 8,
			Doc: "The segments the API still returns (missing_since NULL), with the agent's username and name (an AGENT segment's participant_id read as agents.agent_id [I]; deleted agents included) and the agent group's name.",
			Columns: []RelColumn{
				shows("sub_account_id", "interaction_segments.sub_account_id"), shows("segment_id", "interaction_segments.segment_id"),
				shows("dialog_id", "interaction_segments.dialog_id"), shows("uii", "interaction_segments.uii"),
				shows("channel_type", "interaction_segments.channel_type"), shows("channel_class", "interaction_segments.channel_class"),
				shows("ani", "interaction_segments.ani"), shows("dnis", "interaction_segments.dnis"),
				shows("direction", "interaction_segments.direction"), shows("segment_type", "interaction_segments.segment_type"),
				{Name: "agent_id", Type: "bigint", Doc: "The agent of an AGENT segment whose participant_id is a number (agents.agent_id); NULL otherwise."},
				shows("username", "agents.username"), shows("first_name", "agents.first_name"), shows("last_name", "agents.last_name"),
				shows("agent_group_id", "interaction_segments.agent_group_id"), {Name: "agent_group_name", Type: "text", Doc: "agent_groups.name: the agent group's name."},
				shows("participant_id", "interaction_segments.participant_id"),
				shows("segment_start_at", "interaction_segments.segment_start_at"), shows("segment_end_at", "interaction_segments.segment_end_at"),
				shows("segment_duration_ms", "interaction_segments.segment_duration_ms"),
				shows("dialog_start_at", "interaction_segments.dialog_start_at"),
				shows("system_disposition", "interaction_segments.system_disposition"), shows("agent_disposition", "interaction_segments.agent_disposition"),
				shows("agent_notes", "interaction_segments.agent_notes"),
				shows("has_recording", "interaction_segments.has_recording"), shows("has_transcript", "interaction_segments.has_transcript"),
				shows("first_seen_at", "interaction_segments.first_seen_at"), shows("last_changed_at", "interaction_segments.last_changed_at"),
			}},
		{Name: "campaigns_current", Kind: KindView, Since: 4,
			Doc: "Live campaigns with their dial group.",
			Columns: []RelColumn{
				shows("sub_account_id", "campaigns.sub_account_id"), shows("sub_account_name", "sub_accounts.name"),
				shows("dial_group_id", "campaigns.dial_group_id"), shows("dial_group_name", "dial_groups.name"),
				shows("dial_mode", "dial_groups.dial_mode"), shows("dial_group_is_active", "dial_groups.is_active"),
				shows("campaign_id", "campaigns.campaign_id"), shows("name", "campaigns.name"),
				shows("description", "campaigns.description"), shows("is_active", "campaigns.is_active"),
				shows("start_date", "campaigns.start_date"), shows("end_date", "campaigns.end_date"),
				shows("first_seen_at", "campaigns.first_seen_at"), shows("last_changed_at", "campaigns.last_changed_at"),
			}},
	}
}

// CommentsSQL renders the statements that set the comment of every relation rels lists and of
// each of its columns to its Doc; blank sets them to NULL instead (a migration's Down, back to
// before CommentsSince). The names are unqualified: the migrations run with search_path set
// to the target schema, so the text serves any schema.
func CommentsSQL(rels []Relation, blank bool) string {
	var b strings.Builder
	text := func(doc string) string {
		if blank {
			return "NULL"
		}
		return quoteLiteral(doc)
	}
	for _, r := range rels {
		what := "TABLE"
		if r.Kind == KindView {
			what = "VIEW"
		}
		fmt.Fprintf(&b, "COMMENT ON %s %s IS %s;\n", what, r.Name, text(r.Doc))
		for _, c := range r.Columns {
			fmt.Fprintf(&b, "COMMENT ON COLUMN %s.%s IS %s;\n", r.Name, c.Name, text(c.Doc))
		}
	}
	return b.String()
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings, the default
// since PostgreSQL 9.1: a backslash is itself).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
