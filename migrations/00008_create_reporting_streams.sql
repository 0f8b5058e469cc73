-- +goose Up
-- The SQL that lists every entity and stream, and the comments of every table, view and column,
-- rendered from internal/entity and db's data dictionary by
-- `go run ./internal/tools/genmigration create_reporting_streams`.
-- New streams: interaction_segments, queue_stats, agent_stats, agent_queue_stats. Their tables are rendered from their descriptions.

CREATE TABLE interaction_segments (
    sub_account_id              text NOT NULL,
    segment_id                  text NOT NULL,
    dialog_id                   text,
    uii                         text,
    channel_type                text,
    channel_class               text,
    channel_id                  text,
    ani                         text,
    dnis                        text,
    direction                   text,
    dialog_start_at             timestamptz,
    dialog_end_at               timestamptz,
    dialog_duration_ms          bigint,
    segment_type                text,
    participant_id              text,
    participant_rc_extension_id text,
    agent_group_id              bigint,
    segment_start_at            timestamptz,
    segment_end_at              timestamptz,
    segment_duration_ms         bigint,
    system_disposition          text,
    agent_disposition           text,
    agent_notes                 text,
    has_recording               boolean,
    has_transcript              boolean,
    window_start                timestamptz NOT NULL,
    raw                         jsonb NOT NULL,
    row_hash                    bytea NOT NULL,
    first_seen_at               timestamptz NOT NULL,
    last_changed_at             timestamptz NOT NULL,
    last_run_id                 bigint,
    missing_since               timestamptz,
    PRIMARY KEY (sub_account_id, segment_id)
);

CREATE TABLE queue_stats (
    sub_account_id               text NOT NULL,
    queue_id                     bigint NOT NULL,
    interval_start               timestamptz NOT NULL,
    interval_seconds             bigint NOT NULL,
    queue_name                   text,
    offd_direct_ixn_cnt          bigint,
    answ_ixn_cnt                 bigint,
    aband_ixn_cnt                bigint,
    aband_short_ixn_cnt          bigint,
    aband_within_sl_cnt          bigint,
    ans_servicelevel_cnt         bigint,
    completed_contacts           bigint,
    queued_and_answ_ixn_dur      bigint,
    queued_and_aband_ixn_dur     bigint,
    queued_answ_longest_que_dur  bigint,
    queued_aband_longest_que_dur bigint,
    talking_ixn_dur              bigint,
    wrap_up_dur                  bigint,
    wait_dur                     bigint,
    segment_hold_time            bigint,
    overflow_in_ixn_cnt          bigint,
    overflow_out_ixn_cnt         bigint,
    window_start                 timestamptz NOT NULL,
    raw                          jsonb NOT NULL,
    row_hash                     bytea NOT NULL,
    first_seen_at                timestamptz NOT NULL,
    last_changed_at              timestamptz NOT NULL,
    last_run_id                  bigint,
    PRIMARY KEY (sub_account_id, queue_id, interval_start, interval_seconds)
);

CREATE TABLE agent_stats (
    sub_account_id     text NOT NULL,
    agent_id           bigint NOT NULL,
    interval_start     timestamptz NOT NULL,
    interval_seconds   bigint NOT NULL,
    agent_name         text,
    avail_dur          bigint,
    tot_work_dur       bigint,
    pause_dur          bigint,
    wait_dur           bigint,
    admin_dur          bigint,
    direct_out_ixn_cnt bigint,
    direct_out_ixn_dur bigint,
    direct_in_ixn_cnt  bigint,
    direct_in_ixn_dur  bigint,
    window_start       timestamptz NOT NULL,
    raw                jsonb NOT NULL,
    row_hash           bytea NOT NULL,
    first_seen_at      timestamptz NOT NULL,
    last_changed_at    timestamptz NOT NULL,
    last_run_id        bigint,
    PRIMARY KEY (sub_account_id, agent_id, interval_start, interval_seconds)
);

CREATE TABLE agent_queue_stats (
    sub_account_id       text NOT NULL,
    agent_id             bigint NOT NULL,
    queue_id             bigint NOT NULL,
    interval_start       timestamptz NOT NULL,
    interval_seconds     bigint NOT NULL,
    agent_name           text,
    queue_name           text,
    talking_ixn_dur      bigint,
    wrap_up_dur          bigint,
    answ_ixn_cnt         bigint,
    transfer_out_ixn_cnt bigint,
    window_start         timestamptz NOT NULL,
    raw                  jsonb NOT NULL,
    row_hash             bytea NOT NULL,
    first_seen_at        timestamptz NOT NULL,
    last_changed_at      timestamptz NOT NULL,
    last_run_id          bigint,
    PRIMARY KEY (sub_account_id, agent_id, queue_id, interval_start, interval_seconds)
);

-- Written by hand: the indexes and the views for reporting.
-- A window's publish finds the rows it last wrote by (sub_account_id, window_start): a settle
-- read marks the segments it no longer returns missing, a stats read replaces its rows.
CREATE INDEX interaction_segments_window_idx ON interaction_segments (sub_account_id, window_start);
CREATE INDEX interaction_segments_dialog_idx ON interaction_segments (sub_account_id, dialog_id);
CREATE INDEX interaction_segments_start_idx ON interaction_segments (sub_account_id, segment_start_at);
CREATE INDEX queue_stats_window_idx ON queue_stats (sub_account_id, window_start);
CREATE INDEX agent_stats_window_idx ON agent_stats (sub_account_id, window_start);
CREATE INDEX agent_queue_stats_window_idx ON agent_queue_stats (sub_account_id, window_start);

-- One row per interaction: its segments the API still returns, grouped by dialog. The first
-- and last agent are the participants of its first and last AGENT segment; the dispositions
-- are those of its last segment that has one.
CREATE VIEW interactions AS
SELECT s.sub_account_id,
       s.dialog_id,
       max(s.uii)           AS uii,
       max(s.direction)     AS direction,
       max(s.channel_type)  AS channel_type,
       max(s.channel_class) AS channel_class,
       max(s.ani)           AS ani,
       max(s.dnis)          AS dnis,
       coalesce(min(s.dialog_start_at), min(s.segment_start_at)) AS started_at,
       coalesce(max(s.dialog_end_at), max(s.segment_end_at))     AS ended_at,
       max(s.dialog_duration_ms) AS duration_ms,
       count(*) AS segments,
       count(*) FILTER (WHERE s.segment_type = 'AGENT') AS agent_segments,
       greatest(count(*) FILTER (WHERE s.segment_type = 'AGENT') - 1, 0) AS transfers,
       (sum(s.segment_duration_ms) FILTER (WHERE s.segment_type = 'AGENT'))::bigint AS agent_handle_ms,
       (array_agg(s.participant_id ORDER BY s.segment_start_at, s.segment_id)
          FILTER (WHERE s.segment_type = 'AGENT'))[1] AS first_agent_id,
       (array_agg(s.participant_id ORDER BY s.segment_start_at DESC, s.segment_id DESC)
          FILTER (WHERE s.segment_type = 'AGENT'))[1] AS last_agent_id,
       (array_agg(s.system_disposition ORDER BY s.segment_end_at DESC, s.segment_id DESC)
          FILTER (WHERE s.system_disposition IS NOT NULL))[1] AS system_disposition,
       (array_agg(s.agent_disposition ORDER BY s.segment_end_at DESC, s.segment_id DESC)
          FILTER (WHERE s.agent_disposition IS NOT NULL))[1] AS agent_disposition,
       coalesce(bool_or(s.has_recording), false)  AS has_recording,
       coalesce(bool_or(s.has_transcript), false) AS has_transcript
FROM interaction_segments s
WHERE s.missing_since IS NULL AND s.dialog_id IS NOT NULL
GROUP BY s.sub_account_id, s.dialog_id;

-- The segments the API still returns, with the agent (an AGENT segment's participant_id read
-- as the agent's id: [I] the facts say "RingCentral user id", the examples show RingCX agent
-- ids) and the agent group. Deleted agents and groups keep their names here: a call outlives
-- its agent's configuration.
CREATE VIEW interaction_segments_current AS
SELECT s.sub_account_id,
       s.segment_id,
       s.dialog_id,
       s.uii,
       s.channel_type,
       s.channel_class,
       s.ani,
       s.dnis,
       s.direction,
       s.segment_type,
       a.agent_id,
       a.username,
       a.first_name,
       a.last_name,
       s.agent_group_id,
       g.name AS agent_group_name,
       s.participant_id,
       s.segment_start_at,
       s.segment_end_at,
       s.segment_duration_ms,
       s.dialog_start_at,
       s.system_disposition,
       s.agent_disposition,
       s.agent_notes,
       s.has_recording,
       s.has_transcript,
       s.first_seen_at,
       s.last_changed_at
FROM interaction_segments s
LEFT JOIN agents a ON s.segment_type = 'AGENT' AND a.sub_account_id = s.sub_account_id
      AND a.agent_id = CASE WHEN s.participant_id ~ '^[0-9]{1,18}$' THEN s.participant_id::bigint END
LEFT JOIN agent_groups g ON g.sub_account_id = s.sub_account_id AND g.agent_group_id = s.agent_group_id
WHERE s.missing_since IS NULL;

ALTER TABLE sync_run_scopes DROP CONSTRAINT sync_run_scopes_entity_check;
ALTER TABLE sync_run_scopes ADD CONSTRAINT sync_run_scopes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups', 'audit_log', 'interaction_segments', 'queue_stats', 'agent_stats', 'agent_queue_stats'));
ALTER TABLE api_fields DROP CONSTRAINT api_fields_entity_check;
ALTER TABLE api_fields ADD CONSTRAINT api_fields_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups'));
ALTER TABLE api_field_changes DROP CONSTRAINT api_field_changes_entity_check;
ALTER TABLE api_field_changes ADD CONSTRAINT api_field_changes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups'));
ALTER TABLE stream_windows DROP CONSTRAINT stream_windows_stream_check;
ALTER TABLE stream_windows ADD CONSTRAINT stream_windows_stream_check
    CHECK (stream IN ('audit_log', 'interaction_segments', 'queue_stats', 'agent_stats', 'agent_queue_stats'));

CREATE OR REPLACE VIEW entity_freshness AS
WITH counts AS (
    SELECT 'accounts' AS entity, count(*) FILTER (WHERE deleted_at IS NULL) AS live,
           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM accounts
    UNION ALL
    SELECT 'sub_accounts', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM sub_accounts
    UNION ALL
    SELECT 'users', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM users
    UNION ALL
    SELECT 'agent_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_groups
    UNION ALL
    SELECT 'agents', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agents
    UNION ALL
    SELECT 'queue_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM queue_groups
    UNION ALL
    SELECT 'queues', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM queues
    UNION ALL
    SELECT 'skills', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM skills
    UNION ALL
    SELECT 'dial_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM dial_groups
    UNION ALL
    SELECT 'campaigns', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM campaigns
    UNION ALL
    SELECT 'agent_queues', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_queues
    UNION ALL
    SELECT 'agent_dial_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_dial_groups
), scoped AS (
    SELECT 'agent_groups' AS entity, sub_account_id AS scope FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_groups', sub_account_id FROM agent_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM agents WHERE deleted_at IS NULL
    UNION
    SELECT 'queue_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'queue_groups', sub_account_id FROM queue_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'queues', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'queues', sub_account_id FROM queues WHERE deleted_at IS NULL
    UNION
    SELECT 'skills', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'skills', sub_account_id FROM skills WHERE deleted_at IS NULL
    UNION
    SELECT 'dial_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'dial_groups', sub_account_id FROM dial_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'campaigns', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'campaigns', sub_account_id FROM campaigns WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_queues', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_queues', sub_account_id FROM agent_queues WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_dial_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_dial_groups', sub_account_id FROM agent_dial_groups WHERE deleted_at IS NULL
), current_scopes AS (
    -- (entity, the ledger entity and scope that stand for one of its scopes)
    SELECT e.entity, e.entity AS ledger_entity, 'all' AS scope
    FROM (VALUES ('accounts'), ('sub_accounts'), ('users')) AS e (entity)
    UNION ALL
    SELECT entity, entity, scope FROM scoped
    UNION ALL
    SELECT e.entity, 'sub_accounts', 'all'
    FROM (VALUES ('agent_groups'), ('agents'), ('queue_groups'), ('queues'), ('skills'), ('dial_groups'), ('campaigns'), ('agent_queues'), ('agent_dial_groups')) AS e (entity)
    WHERE NOT EXISTS (SELECT 1 FROM scoped s WHERE s.entity = e.entity)
), scope_fresh AS (
    SELECT cs.entity, last.run_id, last.finished_at
    FROM current_scopes cs
    LEFT JOIN LATERAL (
        SELECT r.run_id, r.finished_at
        FROM sync_run_scopes sc
        JOIN sync_runs r ON r.run_id = sc.run_id
        WHERE sc.entity = cs.ledger_entity AND sc.scope = cs.scope AND sc.status = 'succeeded'
          AND r.status IN ('succeeded', 'partial')
        ORDER BY sc.run_id DESC
        LIMIT 1
    ) last ON true
), entity_fresh AS (
    -- The least fresh scope; a scope never completed (run_id NULL) sorts first.
    SELECT DISTINCT ON (entity) entity, run_id, finished_at
    FROM scope_fresh
    ORDER BY entity, run_id ASC NULLS FIRST
)
SELECT c.entity,
       f.run_id                AS last_success_run_id,
       f.finished_at           AS last_success_at,
       now() - f.finished_at   AS last_success_age,
       c.live,
       c.deleted
FROM counts c
LEFT JOIN entity_fresh f ON f.entity = c.entity;

-- The data dictionary: every table, view and column described (psql's \d+ shows it).
COMMENT ON TABLE accounts IS 'Main accounts: one row per main account that the accounts listing''s sub-accounts belong to.';
COMMENT ON COLUMN accounts.main_account_id IS 'The main account''s id.';
COMMENT ON COLUMN accounts.name IS 'The main account''s name.';
COMMENT ON COLUMN accounts.rc_account_id IS 'The RingCentral account the main account belongs to.';
COMMENT ON COLUMN accounts.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN accounts.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN accounts.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN accounts.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN accounts.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN accounts.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE accounts_history IS 'History of accounts: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN accounts_history.main_account_id IS 'The main account''s id.';
COMMENT ON COLUMN accounts_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN accounts_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN accounts_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN accounts_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN accounts_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN accounts_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE sub_accounts IS 'Sub-accounts: one row per account the accounts listing returns.';
COMMENT ON COLUMN sub_accounts.sub_account_id IS 'The sub-account''s id (the API''s accountId).';
COMMENT ON COLUMN sub_accounts.main_account_id IS 'The main account it belongs to (accounts.main_account_id).';
COMMENT ON COLUMN sub_accounts.name IS 'The sub-account''s name.';
COMMENT ON COLUMN sub_accounts.archived IS 'Whether the sub-account is archived.';
COMMENT ON COLUMN sub_accounts.start_date IS 'When the sub-account starts.';
COMMENT ON COLUMN sub_accounts.end_date IS 'When the sub-account ends.';
COMMENT ON COLUMN sub_accounts.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN sub_accounts.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN sub_accounts.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN sub_accounts.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN sub_accounts.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN sub_accounts.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE sub_accounts_history IS 'History of sub_accounts: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN sub_accounts_history.sub_account_id IS 'The sub-account''s id (the API''s accountId).';
COMMENT ON COLUMN sub_accounts_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN sub_accounts_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN sub_accounts_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN sub_accounts_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN sub_accounts_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN sub_accounts_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE users IS 'Admin users: one row per user of the user hierarchy, flattened.';
COMMENT ON COLUMN users.user_id IS 'The user''s id.';
COMMENT ON COLUMN users.parent_user_id IS 'The user above this one in the hierarchy (users.user_id); NULL for a root user.';
COMMENT ON COLUMN users.user_name IS 'The user''s login name.';
COMMENT ON COLUMN users.first_name IS 'The user''s first name.';
COMMENT ON COLUMN users.last_name IS 'The user''s last name.';
COMMENT ON COLUMN users.full_name IS 'The user''s full name.';
COMMENT ON COLUMN users.enabled IS 'Whether the user is enabled.';
COMMENT ON COLUMN users.root_user IS 'Whether the user is a root user of the hierarchy.';
COMMENT ON COLUMN users.rc_user_id IS 'The RingCentral user the user is linked to.';
COMMENT ON COLUMN users.rc_account_id IS 'The RingCentral account of the user.';
COMMENT ON COLUMN users.roles IS 'The user''s roles: the roleType of each.';
COMMENT ON COLUMN users.created_at IS 'When the user was created.';
COMMENT ON COLUMN users.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN users.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN users.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN users.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN users.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN users.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE users_history IS 'History of users: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN users_history.user_id IS 'The user''s id.';
COMMENT ON COLUMN users_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN users_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN users_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN users_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN users_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN users_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_groups IS 'Agent groups: one row per agent group of each sub-account.';
COMMENT ON COLUMN agent_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_groups.agent_group_id IS 'The agent group''s id.';
COMMENT ON COLUMN agent_groups.name IS 'The agent group''s name.';
COMMENT ON COLUMN agent_groups.is_default IS 'Whether it is the sub-account''s default agent group.';
COMMENT ON COLUMN agent_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_groups_history IS 'History of agent_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_groups_history.agent_group_id IS 'The agent group''s id.';
COMMENT ON COLUMN agent_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agents IS 'Agents: one row per agent of each sub-account, listed per agent group.';
COMMENT ON COLUMN agents.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents.agent_id IS 'The agent''s id.';
COMMENT ON COLUMN agents.agent_group_id IS 'The agent group the agent is in (agent_groups.agent_group_id).';
COMMENT ON COLUMN agents.username IS 'The agent''s login name.';
COMMENT ON COLUMN agents.first_name IS 'The agent''s first name.';
COMMENT ON COLUMN agents.last_name IS 'The agent''s last name.';
COMMENT ON COLUMN agents.email IS 'The agent''s email address.';
COMMENT ON COLUMN agents.agent_type IS 'The agent''s type as the API names it (AGENT, SUPERVISOR, ...).';
COMMENT ON COLUMN agents.is_active IS 'Whether the agent is active.';
COMMENT ON COLUMN agents.rc_user_id IS 'The RingCentral user the agent is linked to.';
COMMENT ON COLUMN agents.created_at IS 'When the agent was created.';
COMMENT ON COLUMN agents.last_login_at IS 'When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agents.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agents.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agents.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agents.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agents.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agents.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agents_history IS 'History of agents: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agents_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents_history.agent_id IS 'The agent''s id.';
COMMENT ON COLUMN agents_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agents_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agents_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agents_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agents_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agents_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE queue_groups IS 'Queue groups (the API''s gate groups): one row per queue group of each sub-account.';
COMMENT ON COLUMN queue_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queue_groups.queue_group_id IS 'The queue group''s id (the API''s gateGroupId).';
COMMENT ON COLUMN queue_groups.name IS 'The queue group''s name.';
COMMENT ON COLUMN queue_groups.created_at IS 'When the queue group was created.';
COMMENT ON COLUMN queue_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN queue_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN queue_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN queue_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN queue_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN queue_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE queue_groups_history IS 'History of queue_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN queue_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queue_groups_history.queue_group_id IS 'The queue group''s id (the API''s gateGroupId).';
COMMENT ON COLUMN queue_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN queue_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN queue_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN queue_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN queue_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN queue_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE queues IS 'Queues (the API''s gates): one row per queue of each queue group.';
COMMENT ON COLUMN queues.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues.queue_id IS 'The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues.queue_group_id IS 'The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN queues.name IS 'The queue''s name.';
COMMENT ON COLUMN queues.description IS 'The queue''s description.';
COMMENT ON COLUMN queues.is_active IS 'Whether the queue is active.';
COMMENT ON COLUMN queues.priority IS 'The queue''s priority.';
COMMENT ON COLUMN queues.created_at IS 'When the queue was created.';
COMMENT ON COLUMN queues.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN queues.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN queues.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN queues.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN queues.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN queues.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE queues_history IS 'History of queues: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN queues_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues_history.queue_id IS 'The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN queues_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN queues_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN queues_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN queues_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN queues_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE skills IS 'Skills: one row per skill of each queue group.';
COMMENT ON COLUMN skills.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN skills.queue_group_id IS 'The queue group the skill belongs to (queue_groups.queue_group_id).';
COMMENT ON COLUMN skills.skill_id IS 'The skill''s id.';
COMMENT ON COLUMN skills.name IS 'The skill''s name.';
COMMENT ON COLUMN skills.description IS 'The skill''s description.';
COMMENT ON COLUMN skills.is_active IS 'Whether the skill is active.';
COMMENT ON COLUMN skills.created_at IS 'When the skill was created.';
COMMENT ON COLUMN skills.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN skills.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN skills.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN skills.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN skills.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN skills.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE skills_history IS 'History of skills: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN skills_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN skills_history.queue_group_id IS 'The queue group the skill belongs to (queue_groups.queue_group_id).';
COMMENT ON COLUMN skills_history.skill_id IS 'The skill''s id.';
COMMENT ON COLUMN skills_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN skills_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN skills_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN skills_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN skills_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN skills_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE dial_groups IS 'Dial groups: one row per dial group of each sub-account.';
COMMENT ON COLUMN dial_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN dial_groups.dial_group_id IS 'The dial group''s id.';
COMMENT ON COLUMN dial_groups.name IS 'The dial group''s name.';
COMMENT ON COLUMN dial_groups.description IS 'The dial group''s description.';
COMMENT ON COLUMN dial_groups.dial_mode IS 'How the dial group dials, as the API names it (PREVIEW, PREDICTIVE, ...).';
COMMENT ON COLUMN dial_groups.is_active IS 'Whether the dial group is active.';
COMMENT ON COLUMN dial_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN dial_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN dial_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN dial_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN dial_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN dial_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE dial_groups_history IS 'History of dial_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN dial_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN dial_groups_history.dial_group_id IS 'The dial group''s id.';
COMMENT ON COLUMN dial_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN dial_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN dial_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN dial_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN dial_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN dial_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE campaigns IS 'Campaigns: one row per campaign of each dial group.';
COMMENT ON COLUMN campaigns.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns.campaign_id IS 'The campaign''s id.';
COMMENT ON COLUMN campaigns.dial_group_id IS 'The dial group the campaign is in (dial_groups.dial_group_id).';
COMMENT ON COLUMN campaigns.name IS 'The campaign''s name.';
COMMENT ON COLUMN campaigns.description IS 'The campaign''s description.';
COMMENT ON COLUMN campaigns.is_active IS 'Whether the campaign is active.';
COMMENT ON COLUMN campaigns.start_date IS 'When the campaign starts.';
COMMENT ON COLUMN campaigns.end_date IS 'When the campaign ends.';
COMMENT ON COLUMN campaigns.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN campaigns.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN campaigns.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN campaigns.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN campaigns.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN campaigns.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE campaigns_history IS 'History of campaigns: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN campaigns_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns_history.campaign_id IS 'The campaign''s id.';
COMMENT ON COLUMN campaigns_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN campaigns_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN campaigns_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN campaigns_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN campaigns_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN campaigns_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_queues IS 'Who is assigned to which queue: one row per agent assigned to a queue.';
COMMENT ON COLUMN agent_queues.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues.queue_id IS 'The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_queues.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_queues.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_queues.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_queues.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_queues.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_queues_history IS 'History of agent_queues: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_queues_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues_history.queue_id IS 'The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues_history.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_queues_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_queues_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_queues_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_queues_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_queues_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_dial_groups IS 'Who is assigned to which dial group: one row per agent assigned to a dial group.';
COMMENT ON COLUMN agent_dial_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_dial_groups.dial_group_id IS 'The dial group (dial_groups.dial_group_id).';
COMMENT ON COLUMN agent_dial_groups.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_dial_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_dial_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_dial_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_dial_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_dial_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_dial_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_dial_groups_history IS 'History of agent_dial_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_dial_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_dial_groups_history.dial_group_id IS 'The dial group (dial_groups.dial_group_id).';
COMMENT ON COLUMN agent_dial_groups_history.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_dial_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_dial_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_dial_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_dial_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_dial_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_dial_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE audit_log IS 'The admin audit log: one row per change an admin made to a sub-account''s configuration (who, when, what, and each attribute''s old and new value).';
COMMENT ON COLUMN audit_log.sub_account_id IS 'The sub-account the change was made in (sub_accounts.sub_account_id).';
COMMENT ON COLUMN audit_log.audit_id IS 'The audit log entry''s id (a UUID).';
COMMENT ON COLUMN audit_log.action_type IS 'What was done: CREATE, UPDATE or DELETE.';
COMMENT ON COLUMN audit_log.audited_class IS 'The kind of object changed: the last segment of the API''s Java class name (Gate is a queue, Agent, AgentGroup, Campaign, DialGroup, User, ...).';
COMMENT ON COLUMN audit_log.audited_entity_id IS 'The id of the object changed (a queue''s gate_id, an agent''s agent_id, ...).';
COMMENT ON COLUMN audit_log.audited_entity_description IS 'The object''s description as the audit log gives it (often its name).';
COMMENT ON COLUMN audit_log.created_at IS 'When the change was made (createTime, epoch milliseconds).';
COMMENT ON COLUMN audit_log.user_id IS 'The id of the admin user who made the change (users.user_id).';
COMMENT ON COLUMN audit_log.user_name IS 'The login name of the admin user who made the change.';
COMMENT ON COLUMN audit_log.source_ip IS 'The IP address the change came from; NULL when streams.redact lists source_ip.';
COMMENT ON COLUMN audit_log.changes IS 'The attributes an UPDATE changed: an array of {attribute, original_value, new_value, class_type}; a secret-bearing attribute keeps its name and loses both values.';
COMMENT ON COLUMN audit_log.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN audit_log.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN audit_log.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN audit_log.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN audit_log.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN audit_log.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON TABLE interaction_segments IS 'Every call''s and digital interaction''s segments: one row per agent, IVR or bot leg, read by the window its segment ended in (interaction metadata); a row a settle read no longer returns keeps its values and gets missing_since.';
COMMENT ON COLUMN interaction_segments.sub_account_id IS 'The sub-account of the interaction (sub_accounts.sub_account_id).';
COMMENT ON COLUMN interaction_segments.segment_id IS 'The segment''s id: a new segment begins whenever an agent or the contact joins or leaves.';
COMMENT ON COLUMN interaction_segments.dialog_id IS 'The interaction (call or chat) the segment belongs to, start to end: interactions has one row per dialog.';
COMMENT ON COLUMN interaction_segments.uii IS 'The unique interaction id (UII) that links the segments of a transfer or conference; its first 14 digits are the call''s start time.';
COMMENT ON COLUMN interaction_segments.channel_type IS 'The channel: VOICE, SMS, EMAIL, ENGAGE_MESSAGING, ...';
COMMENT ON COLUMN interaction_segments.channel_class IS 'VOICE or DIGITAL.';
COMMENT ON COLUMN interaction_segments.channel_id IS 'The source channel''s id (for a call, the phone number reached); NULL when streams.redact lists dnis.';
COMMENT ON COLUMN interaction_segments.ani IS 'The contact''s address (ANI: the caller''s number); NULL when streams.redact lists ani.';
COMMENT ON COLUMN interaction_segments.dnis IS 'The address the contact reached (DNIS); NULL when streams.redact lists dnis.';
COMMENT ON COLUMN interaction_segments.direction IS 'INBOUND or OUTBOUND, from the agent''s view (chats are INBOUND).';
COMMENT ON COLUMN interaction_segments.dialog_start_at IS 'When the interaction began.';
COMMENT ON COLUMN interaction_segments.dialog_end_at IS 'When the interaction ended.';
COMMENT ON COLUMN interaction_segments.dialog_duration_ms IS 'The whole interaction''s duration in milliseconds, IVR, queue and other agents included.';
COMMENT ON COLUMN interaction_segments.segment_type IS 'AGENT, IVR or BOT.';
COMMENT ON COLUMN interaction_segments.participant_id IS 'The segment''s participant; for an AGENT segment the agent''s id (agents.agent_id) [I].';
COMMENT ON COLUMN interaction_segments.participant_rc_extension_id IS 'The participant''s RingCentral extension id (agents.rc_user_id) [I].';
COMMENT ON COLUMN interaction_segments.agent_group_id IS 'The agent group of the segment''s agent (agent_groups.agent_group_id); NULL when the API sends no numeric id.';
COMMENT ON COLUMN interaction_segments.segment_start_at IS 'When the participant joined.';
COMMENT ON COLUMN interaction_segments.segment_end_at IS 'When the participant left: the window that read the row holds it.';
COMMENT ON COLUMN interaction_segments.segment_duration_ms IS 'The segment''s duration in milliseconds.';
COMMENT ON COLUMN interaction_segments.system_disposition IS 'The system''s outcome of the segment (ANSWER, ...).';
COMMENT ON COLUMN interaction_segments.agent_disposition IS 'The outcome the agent chose; it may be set or changed after the first read.';
COMMENT ON COLUMN interaction_segments.agent_notes IS 'The agent''s free-text notes (personal data: NULL when streams.redact lists agent_notes).';
COMMENT ON COLUMN interaction_segments.has_recording IS 'Whether the segment has a recording (it may turn true after the first read).';
COMMENT ON COLUMN interaction_segments.has_transcript IS 'Whether the segment has a transcript.';
COMMENT ON COLUMN interaction_segments.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN interaction_segments.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN interaction_segments.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN interaction_segments.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN interaction_segments.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN interaction_segments.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON COLUMN interaction_segments.missing_since IS 'When a settle read of the row''s window no longer returned it; NULL while the API returns it.';
COMMENT ON TABLE queue_stats IS 'Queue statistics per interval: one row per queue and interval with activity (counts, and durations in seconds unless the column says otherwise); a window''s rows are replaced by each read of it.';
COMMENT ON COLUMN queue_stats.sub_account_id IS 'The sub-account (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queue_stats.queue_id IS 'The queue (queues.queue_id, the API''s gateId).';
COMMENT ON COLUMN queue_stats.interval_start IS 'The interval''s start (dateTimeFrom, read in the request''s time zone).';
COMMENT ON COLUMN queue_stats.interval_seconds IS 'The interval''s length in seconds, as the request asked for it (the response''s interval stays in raw).';
COMMENT ON COLUMN queue_stats.queue_name IS 'The queue''s name as the statistics sent it.';
COMMENT ON COLUMN queue_stats.offd_direct_ixn_cnt IS 'Interactions offered to the queue.';
COMMENT ON COLUMN queue_stats.answ_ixn_cnt IS 'Interactions answered.';
COMMENT ON COLUMN queue_stats.aband_ixn_cnt IS 'Interactions abandoned.';
COMMENT ON COLUMN queue_stats.aband_short_ixn_cnt IS 'Interactions abandoned within the short-abandon threshold.';
COMMENT ON COLUMN queue_stats.aband_within_sl_cnt IS 'Interactions abandoned within the service level.';
COMMENT ON COLUMN queue_stats.ans_servicelevel_cnt IS 'Interactions answered within the service level.';
COMMENT ON COLUMN queue_stats.completed_contacts IS 'Contacts completed.';
COMMENT ON COLUMN queue_stats.queued_and_answ_ixn_dur IS 'Time answered interactions waited in queue, summed.';
COMMENT ON COLUMN queue_stats.queued_and_aband_ixn_dur IS 'Time abandoned interactions waited in queue, summed.';
COMMENT ON COLUMN queue_stats.queued_answ_longest_que_dur IS 'The longest wait in queue of an answered interaction.';
COMMENT ON COLUMN queue_stats.queued_aband_longest_que_dur IS 'The longest wait in queue of an abandoned interaction.';
COMMENT ON COLUMN queue_stats.talking_ixn_dur IS 'Talk time, summed.';
COMMENT ON COLUMN queue_stats.wrap_up_dur IS 'Wrap-up time, summed.';
COMMENT ON COLUMN queue_stats.wait_dur IS 'Wait time, summed.';
COMMENT ON COLUMN queue_stats.segment_hold_time IS 'Hold time, summed (the spec''s example suggests milliseconds [I]).';
COMMENT ON COLUMN queue_stats.overflow_in_ixn_cnt IS 'Interactions that overflowed into the queue.';
COMMENT ON COLUMN queue_stats.overflow_out_ixn_cnt IS 'Interactions that overflowed out of the queue.';
COMMENT ON COLUMN queue_stats.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN queue_stats.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN queue_stats.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN queue_stats.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN queue_stats.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN queue_stats.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON TABLE agent_stats IS 'Agent statistics per interval: how each agent spent it (durations in seconds) and the direct interactions they handled; a window''s rows are replaced by each read of it.';
COMMENT ON COLUMN agent_stats.sub_account_id IS 'The sub-account (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_stats.agent_id IS 'The agent (agents.agent_id).';
COMMENT ON COLUMN agent_stats.interval_start IS 'The interval''s start (dateTimeFrom, read in the request''s time zone).';
COMMENT ON COLUMN agent_stats.interval_seconds IS 'The interval''s length in seconds, as the request asked for it (the response''s interval stays in raw).';
COMMENT ON COLUMN agent_stats.agent_name IS 'The agent''s name as the statistics sent it.';
COMMENT ON COLUMN agent_stats.avail_dur IS 'Time available.';
COMMENT ON COLUMN agent_stats.tot_work_dur IS 'Time logged in and working.';
COMMENT ON COLUMN agent_stats.pause_dur IS 'Time paused (on break).';
COMMENT ON COLUMN agent_stats.wait_dur IS 'Time waiting for an interaction.';
COMMENT ON COLUMN agent_stats.admin_dur IS 'Time in an administrative state.';
COMMENT ON COLUMN agent_stats.direct_out_ixn_cnt IS 'Direct outbound interactions.';
COMMENT ON COLUMN agent_stats.direct_out_ixn_dur IS 'Direct outbound interactions'' duration, summed.';
COMMENT ON COLUMN agent_stats.direct_in_ixn_cnt IS 'Direct inbound interactions.';
COMMENT ON COLUMN agent_stats.direct_in_ixn_dur IS 'Direct inbound interactions'' duration, summed.';
COMMENT ON COLUMN agent_stats.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN agent_stats.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_stats.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_stats.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_stats.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN agent_stats.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON TABLE agent_queue_stats IS 'Agent statistics per queue and interval: what each agent handled for each queue (durations in seconds); a window''s rows are replaced by each read of it.';
COMMENT ON COLUMN agent_queue_stats.sub_account_id IS 'The sub-account (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queue_stats.agent_id IS 'The agent (agents.agent_id).';
COMMENT ON COLUMN agent_queue_stats.queue_id IS 'The queue (queues.queue_id, the API''s gateId).';
COMMENT ON COLUMN agent_queue_stats.interval_start IS 'The interval''s start (dateTimeFrom, read in the request''s time zone).';
COMMENT ON COLUMN agent_queue_stats.interval_seconds IS 'The interval''s length in seconds, as the request asked for it (the response''s interval stays in raw).';
COMMENT ON COLUMN agent_queue_stats.agent_name IS 'The agent''s name as the statistics sent it.';
COMMENT ON COLUMN agent_queue_stats.queue_name IS 'The queue''s name as the statistics sent it.';
COMMENT ON COLUMN agent_queue_stats.talking_ixn_dur IS 'Talk time, summed.';
COMMENT ON COLUMN agent_queue_stats.wrap_up_dur IS 'Wrap-up time, summed.';
COMMENT ON COLUMN agent_queue_stats.answ_ixn_cnt IS 'Interactions answered.';
COMMENT ON COLUMN agent_queue_stats.transfer_out_ixn_cnt IS 'Interactions transferred out.';
COMMENT ON COLUMN agent_queue_stats.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN agent_queue_stats.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_queue_stats.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_queue_stats.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_queue_stats.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN agent_queue_stats.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON TABLE sync_runs IS 'One row per run: what started it, when, how it ended, its requests and row counts.';
COMMENT ON COLUMN sync_runs.run_id IS 'The run''s id, in the order runs started.';
COMMENT ON COLUMN sync_runs.trigger IS 'What started the run: manual (syncer sync), schedule (the daemon), demo, streams (a run of the streams'' due windows) or backfill (syncer backfill).';
COMMENT ON COLUMN sync_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN sync_runs.finished_at IS 'When the run ended; NULL while it runs.';
COMMENT ON COLUMN sync_runs.status IS 'How the run ended: succeeded, partial, failed or canceled; running while it runs.';
COMMENT ON COLUMN sync_runs.error IS 'Why the run failed or was partial; NULL when it succeeded.';
COMMENT ON COLUMN sync_runs.api_requests IS 'Requests the run sent to the APIs.';
COMMENT ON COLUMN sync_runs.token_refreshes IS 'Access tokens the run obtained.';
COMMENT ON COLUMN sync_runs.retries IS 'Requests the run sent again after a failure.';
COMMENT ON COLUMN sync_runs.rate_limited IS 'Answers that said the rate limit was reached (HTTP 429).';
COMMENT ON COLUMN sync_runs.fetched IS 'Rows fetched from the API, over every entity.';
COMMENT ON COLUMN sync_runs.inserted IS 'Rows inserted: new, over every entity.';
COMMENT ON COLUMN sync_runs.updated IS 'Rows updated: changed, over every entity.';
COMMENT ON COLUMN sync_runs.unchanged IS 'Rows listed and left as they were, over every entity.';
COMMENT ON COLUMN sync_runs.deleted IS 'Rows soft-deleted: gone upstream, over every entity.';
COMMENT ON COLUMN sync_runs.restored IS 'Deleted rows that came back, over every entity.';
COMMENT ON TABLE sync_run_scopes IS 'One row per entity or stream and scope of each run: how the scope ended and its row counts.';
COMMENT ON COLUMN sync_run_scopes.run_id IS 'The run (sync_runs.run_id).';
COMMENT ON COLUMN sync_run_scopes.entity IS 'The entity, named as in --entities, or the stream, named as in --streams.';
COMMENT ON COLUMN sync_run_scopes.scope IS 'The scope: all for an entity with one, else the sub-account''s id (a stream''s scopes are sub-accounts).';
COMMENT ON COLUMN sync_run_scopes.status IS 'How the scope ended: succeeded, failed, withheld or not_entitled (withheld: listed, but its deletes held back by the mass-delete breaker; not_entitled: a stream the API refused with 403).';
COMMENT ON COLUMN sync_run_scopes.error IS 'Why the scope failed, was withheld or was not entitled; NULL when it succeeded.';
COMMENT ON COLUMN sync_run_scopes.fetched IS 'Rows fetched from the API in the scope.';
COMMENT ON COLUMN sync_run_scopes.inserted IS 'Rows inserted: new in the scope.';
COMMENT ON COLUMN sync_run_scopes.updated IS 'Rows updated: changed in the scope.';
COMMENT ON COLUMN sync_run_scopes.unchanged IS 'Rows listed and left as they were in the scope.';
COMMENT ON COLUMN sync_run_scopes.deleted IS 'Rows soft-deleted: gone upstream in the scope.';
COMMENT ON COLUMN sync_run_scopes.restored IS 'Deleted rows that came back in the scope.';
COMMENT ON TABLE api_fields IS 'The JSON paths each entity''s API objects carried at their latest observation, and their JSON types: names only, never values.';
COMMENT ON COLUMN api_fields.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN api_fields.path IS 'The path: a key (isActive), a nested key (mainAccount.rcAccountId) or an array''s elements (roles[].roleType).';
COMMENT ON COLUMN api_fields.json_types IS 'The JSON types the path held, sorted (array, boolean, null, number, object, string).';
COMMENT ON COLUMN api_fields.first_seen_run_id IS 'The run that first recorded the path (sync_runs.run_id).';
COMMENT ON COLUMN api_fields.last_seen_run_id IS 'The run that last saw the path (sync_runs.run_id).';
COMMENT ON TABLE api_field_changes IS 'One row per path that, in a run, appeared, vanished or changed type against the entity''s previous observation.';
COMMENT ON COLUMN api_field_changes.run_id IS 'The run that found the change (sync_runs.run_id).';
COMMENT ON COLUMN api_field_changes.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN api_field_changes.path IS 'The path (as in api_fields).';
COMMENT ON COLUMN api_field_changes.change IS 'What happened to the path: added, removed or type_changed.';
COMMENT ON COLUMN api_field_changes.old_type IS 'The path''s non-null types before, sorted and joined with |; null when it held only nulls; NULL when it was added.';
COMMENT ON COLUMN api_field_changes.new_type IS 'The path''s non-null types after, as old_type; NULL when it was removed.';
COMMENT ON TABLE stream_windows IS 'The streams'' ledger: one row per time window of a stream and sub-account, read once when it has closed and once more when it has settled.';
COMMENT ON COLUMN stream_windows.stream IS 'The stream, named as in --streams.';
COMMENT ON COLUMN stream_windows.sub_account_id IS 'The sub-account whose window it is (sub_accounts.sub_account_id).';
COMMENT ON COLUMN stream_windows.window_start IS 'The window''s start (included).';
COMMENT ON COLUMN stream_windows.window_end IS 'The window''s end (excluded).';
COMMENT ON COLUMN stream_windows.backfill IS 'Whether a backfill recorded the window (the high-water mark counts from the first window that is not).';
COMMENT ON COLUMN stream_windows.first_read_at IS 'When a read of the window first published; NULL until then.';
COMMENT ON COLUMN stream_windows.settled_at IS 'When the read that counts as the window''s settle read published; NULL until then.';
COMMENT ON COLUMN stream_windows.status IS 'The window''s last read: pending, succeeded, failed or not_entitled (pending: not read yet).';
COMMENT ON COLUMN stream_windows.attempts IS 'Reads of the window attempted, published or not.';
COMMENT ON COLUMN stream_windows.rows IS 'Items the last published read returned.';
COMMENT ON COLUMN stream_windows.error IS 'Why the last read failed or was refused; NULL when it published.';
COMMENT ON COLUMN stream_windows.attempted_at IS 'When the last read was attempted (a failed window''s backoff counts from it).';
COMMENT ON COLUMN stream_windows.last_run_id IS 'The run of the last attempt (sync_runs.run_id).';
COMMENT ON TABLE goose_db_version IS 'The migrations applied to the schema (goose''s table: syncer migrate status reads it).';
COMMENT ON COLUMN goose_db_version.id IS 'The row''s id, in the order migrations were applied or rolled back.';
COMMENT ON COLUMN goose_db_version.version_id IS 'The migration''s number (its file''s NNNNN).';
COMMENT ON COLUMN goose_db_version.is_applied IS 'Whether the migration was applied (false: rolled back).';
COMMENT ON COLUMN goose_db_version.tstamp IS 'When, in the server''s time zone.';
COMMENT ON VIEW agents_current IS 'Live agents with their agent group, sub-account and main account names.';
COMMENT ON COLUMN agents_current.sub_account_id IS 'agents.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN agents_current.main_account_id IS 'sub_accounts.main_account_id: The main account it belongs to (accounts.main_account_id).';
COMMENT ON COLUMN agents_current.main_account_name IS 'accounts.name: The main account''s name.';
COMMENT ON COLUMN agents_current.agent_group_id IS 'agents.agent_group_id: The agent group the agent is in (agent_groups.agent_group_id).';
COMMENT ON COLUMN agents_current.agent_group_name IS 'agent_groups.name: The agent group''s name.';
COMMENT ON COLUMN agents_current.agent_id IS 'agents.agent_id: The agent''s id.';
COMMENT ON COLUMN agents_current.username IS 'agents.username: The agent''s login name.';
COMMENT ON COLUMN agents_current.first_name IS 'agents.first_name: The agent''s first name.';
COMMENT ON COLUMN agents_current.last_name IS 'agents.last_name: The agent''s last name.';
COMMENT ON COLUMN agents_current.email IS 'agents.email: The agent''s email address.';
COMMENT ON COLUMN agents_current.agent_type IS 'agents.agent_type: The agent''s type as the API names it (AGENT, SUPERVISOR, ...).';
COMMENT ON COLUMN agents_current.is_active IS 'agents.is_active: Whether the agent is active.';
COMMENT ON COLUMN agents_current.rc_user_id IS 'agents.rc_user_id: The RingCentral user the agent is linked to.';
COMMENT ON COLUMN agents_current.created_at IS 'agents.created_at: When the agent was created.';
COMMENT ON COLUMN agents_current.last_login_at IS 'agents.last_login_at: When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agents_current.first_seen_at IS 'agents.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN agents_current.last_changed_at IS 'agents.last_changed_at: When a run last inserted, changed, deleted or restored the row.';
COMMENT ON VIEW entity_freshness IS 'Per entity: the last committed run that completed its least fresh current scope, its age, and the live and deleted row counts.';
COMMENT ON COLUMN entity_freshness.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN entity_freshness.last_success_run_id IS 'The last committed run that completed the entity''s least fresh current scope; NULL while one of them was never completed.';
COMMENT ON COLUMN entity_freshness.last_success_at IS 'When that run finished.';
COMMENT ON COLUMN entity_freshness.last_success_age IS 'How long ago that run finished.';
COMMENT ON COLUMN entity_freshness.live IS 'The entity''s rows that exist upstream (deleted_at NULL).';
COMMENT ON COLUMN entity_freshness.deleted IS 'The entity''s soft-deleted rows.';
COMMENT ON VIEW stream_freshness IS 'Per stream and sub-account with windows in the ledger: its high-water mark, lag, pending and failed windows, whether the API refused it, and whether the sub-account is live.';
COMMENT ON COLUMN stream_freshness.stream IS 'The stream, named as in --streams.';
COMMENT ON COLUMN stream_freshness.sub_account_id IS 'The sub-account (sub_accounts.sub_account_id).';
COMMENT ON COLUMN stream_freshness.high_water_mark IS 'The start of the oldest window not read yet, or the end of the newest window when every one was read; the windows before the first one a backfill did not record do not count.';
COMMENT ON COLUMN stream_freshness.lag IS 'How far the high-water mark is behind now.';
COMMENT ON COLUMN stream_freshness.windows_pending IS 'Windows recorded and not read yet (status pending).';
COMMENT ON COLUMN stream_freshness.windows_failed IS 'Windows whose last read failed.';
COMMENT ON COLUMN stream_freshness.not_entitled IS 'Whether the latest read attempted was refused with 403 (the entitlement the stream needs is missing).';
COMMENT ON COLUMN stream_freshness.rows IS 'Items the windows'' last published reads returned, summed.';
COMMENT ON COLUMN stream_freshness.last_read_at IS 'When a read last published (a first or a settle read).';
COMMENT ON COLUMN stream_freshness.live IS 'Whether the sub-account is live: false once sub_accounts holds it as deleted (a sub-account that table does not hold counts as live).';
COMMENT ON VIEW queues_current IS 'Live queues with their queue group and sub-account names and the number of live agents assigned.';
COMMENT ON COLUMN queues_current.sub_account_id IS 'queues.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN queues_current.queue_group_id IS 'queues.queue_group_id: The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN queues_current.queue_group_name IS 'queue_groups.name: The queue group''s name.';
COMMENT ON COLUMN queues_current.queue_id IS 'queues.queue_id: The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues_current.name IS 'queues.name: The queue''s name.';
COMMENT ON COLUMN queues_current.description IS 'queues.description: The queue''s description.';
COMMENT ON COLUMN queues_current.is_active IS 'queues.is_active: Whether the queue is active.';
COMMENT ON COLUMN queues_current.priority IS 'queues.priority: The queue''s priority.';
COMMENT ON COLUMN queues_current.created_at IS 'queues.created_at: When the queue was created.';
COMMENT ON COLUMN queues_current.assigned_agents IS 'The live agent_queues rows of the queue: the agents assigned to it.';
COMMENT ON COLUMN queues_current.first_seen_at IS 'queues.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN queues_current.last_changed_at IS 'queues.last_changed_at: When a run last inserted, changed, deleted or restored the row.';
COMMENT ON VIEW agent_queues_current IS 'Live assignments of agents to live queues, with the queue, its group and sub-account, and the agent (NULL when the agent is not a live agents row).';
COMMENT ON COLUMN agent_queues_current.sub_account_id IS 'agent_queues.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN agent_queues_current.queue_group_id IS 'queues.queue_group_id: The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN agent_queues_current.queue_group_name IS 'queue_groups.name: The queue group''s name.';
COMMENT ON COLUMN agent_queues_current.queue_id IS 'agent_queues.queue_id: The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues_current.queue_name IS 'queues.name: The queue''s name.';
COMMENT ON COLUMN agent_queues_current.agent_id IS 'agent_queues.agent_id: The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues_current.username IS 'agents.username: The agent''s login name.';
COMMENT ON COLUMN agent_queues_current.first_name IS 'agents.first_name: The agent''s first name.';
COMMENT ON COLUMN agent_queues_current.last_name IS 'agents.last_name: The agent''s last name.';
COMMENT ON COLUMN agent_queues_current.agent_is_active IS 'agents.is_active: Whether the agent is active.';
COMMENT ON COLUMN agent_queues_current.last_login_at IS 'agents.last_login_at: When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agent_queues_current.first_seen_at IS 'agent_queues.first_seen_at: When a run first stored the row.';
COMMENT ON VIEW interactions IS 'One row per interaction (call or chat) of interaction_segments, its segments that the API still returns: when, how long, how many agents, the first and last agent and the final dispositions.';
COMMENT ON COLUMN interactions.sub_account_id IS 'interaction_segments.sub_account_id: The sub-account of the interaction (sub_accounts.sub_account_id).';
COMMENT ON COLUMN interactions.dialog_id IS 'interaction_segments.dialog_id: The interaction (call or chat) the segment belongs to, start to end: interactions has one row per dialog.';
COMMENT ON COLUMN interactions.uii IS 'interaction_segments.uii: The unique interaction id (UII) that links the segments of a transfer or conference; its first 14 digits are the call''s start time.';
COMMENT ON COLUMN interactions.direction IS 'interaction_segments.direction: INBOUND or OUTBOUND, from the agent''s view (chats are INBOUND).';
COMMENT ON COLUMN interactions.channel_type IS 'interaction_segments.channel_type: The channel: VOICE, SMS, EMAIL, ENGAGE_MESSAGING, ...';
COMMENT ON COLUMN interactions.channel_class IS 'interaction_segments.channel_class: VOICE or DIGITAL.';
COMMENT ON COLUMN interactions.ani IS 'interaction_segments.ani: The contact''s address (ANI: the caller''s number); NULL when streams.redact lists ani.';
COMMENT ON COLUMN interactions.dnis IS 'interaction_segments.dnis: The address the contact reached (DNIS); NULL when streams.redact lists dnis.';
COMMENT ON COLUMN interactions.started_at IS 'When the interaction began (dialog_start_at; the first segment''s start when the API sent none).';
COMMENT ON COLUMN interactions.ended_at IS 'When the interaction ended (dialog_end_at; the last segment''s end when the API sent none).';
COMMENT ON COLUMN interactions.duration_ms IS 'The interaction''s duration in milliseconds (dialog_duration_ms), IVR and queue time included.';
COMMENT ON COLUMN interactions.segments IS 'Its segments (agent, IVR and bot legs).';
COMMENT ON COLUMN interactions.agent_segments IS 'Its AGENT segments: the agents who handled it, one per leg.';
COMMENT ON COLUMN interactions.transfers IS 'Agent segments after the first: the times it passed to another agent.';
COMMENT ON COLUMN interactions.agent_handle_ms IS 'The AGENT segments'' durations in milliseconds, summed: the agents'' handle time.';
COMMENT ON COLUMN interactions.first_agent_id IS 'The participant of its first AGENT segment (agents.agent_id as text).';
COMMENT ON COLUMN interactions.last_agent_id IS 'The participant of its last AGENT segment.';
COMMENT ON COLUMN interactions.system_disposition IS 'The system disposition of its last segment that has one.';
COMMENT ON COLUMN interactions.agent_disposition IS 'The agent disposition of its last segment that has one.';
COMMENT ON COLUMN interactions.has_recording IS 'Whether any of its segments has a recording.';
COMMENT ON COLUMN interactions.has_transcript IS 'Whether any of its segments has a transcript.';
COMMENT ON VIEW interaction_segments_current IS 'The segments the API still returns (missing_since NULL), with the agent''s username and name (an AGENT segment''s participant_id read as agents.agent_id [I]; deleted agents included) and the agent group''s name.';
COMMENT ON COLUMN interaction_segments_current.sub_account_id IS 'interaction_segments.sub_account_id: The sub-account of the interaction (sub_accounts.sub_account_id).';
COMMENT ON COLUMN interaction_segments_current.segment_id IS 'interaction_segments.segment_id: The segment''s id: a new segment begins whenever an agent or the contact joins or leaves.';
COMMENT ON COLUMN interaction_segments_current.dialog_id IS 'interaction_segments.dialog_id: The interaction (call or chat) the segment belongs to, start to end: interactions has one row per dialog.';
COMMENT ON COLUMN interaction_segments_current.uii IS 'interaction_segments.uii: The unique interaction id (UII) that links the segments of a transfer or conference; its first 14 digits are the call''s start time.';
COMMENT ON COLUMN interaction_segments_current.channel_type IS 'interaction_segments.channel_type: The channel: VOICE, SMS, EMAIL, ENGAGE_MESSAGING, ...';
COMMENT ON COLUMN interaction_segments_current.channel_class IS 'interaction_segments.channel_class: VOICE or DIGITAL.';
COMMENT ON COLUMN interaction_segments_current.ani IS 'interaction_segments.ani: The contact''s address (ANI: the caller''s number); NULL when streams.redact lists ani.';
COMMENT ON COLUMN interaction_segments_current.dnis IS 'interaction_segments.dnis: The address the contact reached (DNIS); NULL when streams.redact lists dnis.';
COMMENT ON COLUMN interaction_segments_current.direction IS 'interaction_segments.direction: INBOUND or OUTBOUND, from the agent''s view (chats are INBOUND).';
COMMENT ON COLUMN interaction_segments_current.segment_type IS 'interaction_segments.segment_type: AGENT, IVR or BOT.';
COMMENT ON COLUMN interaction_segments_current.agent_id IS 'The agent of an AGENT segment whose participant_id is a number (agents.agent_id); NULL otherwise.';
COMMENT ON COLUMN interaction_segments_current.username IS 'agents.username: The agent''s login name.';
COMMENT ON COLUMN interaction_segments_current.first_name IS 'agents.first_name: The agent''s first name.';
COMMENT ON COLUMN interaction_segments_current.last_name IS 'agents.last_name: The agent''s last name.';
COMMENT ON COLUMN interaction_segments_current.agent_group_id IS 'interaction_segments.agent_group_id: The agent group of the segment''s agent (agent_groups.agent_group_id); NULL when the API sends no numeric id.';
COMMENT ON COLUMN interaction_segments_current.agent_group_name IS 'agent_groups.name: the agent group''s name.';
COMMENT ON COLUMN interaction_segments_current.participant_id IS 'interaction_segments.participant_id: The segment''s participant; for an AGENT segment the agent''s id (agents.agent_id) [I].';
COMMENT ON COLUMN interaction_segments_current.segment_start_at IS 'interaction_segments.segment_start_at: When the participant joined.';
COMMENT ON COLUMN interaction_segments_current.segment_end_at IS 'interaction_segments.segment_end_at: When the participant left: the window that read the row holds it.';
COMMENT ON COLUMN interaction_segments_current.segment_duration_ms IS 'interaction_segments.segment_duration_ms: The segment''s duration in milliseconds.';
COMMENT ON COLUMN interaction_segments_current.dialog_start_at IS 'interaction_segments.dialog_start_at: When the interaction began.';
COMMENT ON COLUMN interaction_segments_current.system_disposition IS 'interaction_segments.system_disposition: The system''s outcome of the segment (ANSWER, ...).';
COMMENT ON COLUMN interaction_segments_current.agent_disposition IS 'interaction_segments.agent_disposition: The outcome the agent chose; it may be set or changed after the first read.';
COMMENT ON COLUMN interaction_segments_current.agent_notes IS 'interaction_segments.agent_notes: The agent''s free-text notes (personal data: NULL when streams.redact lists agent_notes).';
COMMENT ON COLUMN interaction_segments_current.has_recording IS 'interaction_segments.has_recording: Whether the segment has a recording (it may turn true after the first read).';
COMMENT ON COLUMN interaction_segments_current.has_transcript IS 'interaction_segments.has_transcript: Whether the segment has a transcript.';
COMMENT ON COLUMN interaction_segments_current.first_seen_at IS 'interaction_segments.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN interaction_segments_current.last_changed_at IS 'interaction_segments.last_changed_at: When a run first stored the row or last changed it.';
COMMENT ON VIEW campaigns_current IS 'Live campaigns with their dial group.';
COMMENT ON COLUMN campaigns_current.sub_account_id IS 'campaigns.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN campaigns_current.dial_group_id IS 'campaigns.dial_group_id: The dial group the campaign is in (dial_groups.dial_group_id).';
COMMENT ON COLUMN campaigns_current.dial_group_name IS 'dial_groups.name: The dial group''s name.';
COMMENT ON COLUMN campaigns_current.dial_mode IS 'dial_groups.dial_mode: How the dial group dials, as the API names it (PREVIEW, PREDICTIVE, ...).';
COMMENT ON COLUMN campaigns_current.dial_group_is_active IS 'dial_groups.is_active: Whether the dial group is active.';
COMMENT ON COLUMN campaigns_current.campaign_id IS 'campaigns.campaign_id: The campaign''s id.';
COMMENT ON COLUMN campaigns_current.name IS 'campaigns.name: The campaign''s name.';
COMMENT ON COLUMN campaigns_current.description IS 'campaigns.description: The campaign''s description.';
COMMENT ON COLUMN campaigns_current.is_active IS 'campaigns.is_active: Whether the campaign is active.';
COMMENT ON COLUMN campaigns_current.start_date IS 'campaigns.start_date: When the campaign starts.';
COMMENT ON COLUMN campaigns_current.end_date IS 'campaigns.end_date: When the campaign ends.';
COMMENT ON COLUMN campaigns_current.first_seen_at IS 'campaigns.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN campaigns_current.last_changed_at IS 'campaigns.last_changed_at: When a run last inserted, changed, deleted or restored the row.';

-- +goose Down
-- The view and checks as of the migration before. The ledger keeps the scopes and fields of
-- the entities rolled back: the checks hold for new rows only. The scopes and windows of the
-- streams rolled back go, as their tables do after: an older migration's Down adds the checks back valid.
DELETE FROM sync_run_scopes WHERE entity IN ('interaction_segments', 'queue_stats', 'agent_stats', 'agent_queue_stats');
DELETE FROM stream_windows WHERE stream IN ('interaction_segments', 'queue_stats', 'agent_stats', 'agent_queue_stats');

CREATE OR REPLACE VIEW entity_freshness AS
WITH counts AS (
    SELECT 'accounts' AS entity, count(*) FILTER (WHERE deleted_at IS NULL) AS live,
           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM accounts
    UNION ALL
    SELECT 'sub_accounts', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM sub_accounts
    UNION ALL
    SELECT 'users', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM users
    UNION ALL
    SELECT 'agent_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_groups
    UNION ALL
    SELECT 'agents', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agents
    UNION ALL
    SELECT 'queue_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM queue_groups
    UNION ALL
    SELECT 'queues', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM queues
    UNION ALL
    SELECT 'skills', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM skills
    UNION ALL
    SELECT 'dial_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM dial_groups
    UNION ALL
    SELECT 'campaigns', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM campaigns
    UNION ALL
    SELECT 'agent_queues', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_queues
    UNION ALL
    SELECT 'agent_dial_groups', count(*) FILTER (WHERE deleted_at IS NULL),
           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM agent_dial_groups
), scoped AS (
    SELECT 'agent_groups' AS entity, sub_account_id AS scope FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_groups', sub_account_id FROM agent_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM agents WHERE deleted_at IS NULL
    UNION
    SELECT 'queue_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'queue_groups', sub_account_id FROM queue_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'queues', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'queues', sub_account_id FROM queues WHERE deleted_at IS NULL
    UNION
    SELECT 'skills', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'skills', sub_account_id FROM skills WHERE deleted_at IS NULL
    UNION
    SELECT 'dial_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'dial_groups', sub_account_id FROM dial_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'campaigns', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'campaigns', sub_account_id FROM campaigns WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_queues', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_queues', sub_account_id FROM agent_queues WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_dial_groups', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_dial_groups', sub_account_id FROM agent_dial_groups WHERE deleted_at IS NULL
), current_scopes AS (
    -- (entity, the ledger entity and scope that stand for one of its scopes)
    SELECT e.entity, e.entity AS ledger_entity, 'all' AS scope
    FROM (VALUES ('accounts'), ('sub_accounts'), ('users')) AS e (entity)
    UNION ALL
    SELECT entity, entity, scope FROM scoped
    UNION ALL
    SELECT e.entity, 'sub_accounts', 'all'
    FROM (VALUES ('agent_groups'), ('agents'), ('queue_groups'), ('queues'), ('skills'), ('dial_groups'), ('campaigns'), ('agent_queues'), ('agent_dial_groups')) AS e (entity)
    WHERE NOT EXISTS (SELECT 1 FROM scoped s WHERE s.entity = e.entity)
), scope_fresh AS (
    SELECT cs.entity, last.run_id, last.finished_at
    FROM current_scopes cs
    LEFT JOIN LATERAL (
        SELECT r.run_id, r.finished_at
        FROM sync_run_scopes sc
        JOIN sync_runs r ON r.run_id = sc.run_id
        WHERE sc.entity = cs.ledger_entity AND sc.scope = cs.scope AND sc.status = 'succeeded'
          AND r.status IN ('succeeded', 'partial')
        ORDER BY sc.run_id DESC
        LIMIT 1
    ) last ON true
), entity_fresh AS (
    -- The least fresh scope; a scope never completed (run_id NULL) sorts first.
    SELECT DISTINCT ON (entity) entity, run_id, finished_at
    FROM scope_fresh
    ORDER BY entity, run_id ASC NULLS FIRST
)
SELECT c.entity,
       f.run_id                AS last_success_run_id,
       f.finished_at           AS last_success_at,
       now() - f.finished_at   AS last_success_age,
       c.live,
       c.deleted
FROM counts c
LEFT JOIN entity_fresh f ON f.entity = c.entity;

ALTER TABLE sync_run_scopes DROP CONSTRAINT sync_run_scopes_entity_check;
ALTER TABLE sync_run_scopes ADD CONSTRAINT sync_run_scopes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups', 'audit_log')) NOT VALID;
ALTER TABLE api_fields DROP CONSTRAINT api_fields_entity_check;
ALTER TABLE api_fields ADD CONSTRAINT api_fields_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups')) NOT VALID;
ALTER TABLE api_field_changes DROP CONSTRAINT api_field_changes_entity_check;
ALTER TABLE api_field_changes ADD CONSTRAINT api_field_changes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups')) NOT VALID;
ALTER TABLE stream_windows DROP CONSTRAINT stream_windows_stream_check;
ALTER TABLE stream_windows ADD CONSTRAINT stream_windows_stream_check
    CHECK (stream IN ('audit_log')) NOT VALID;

DROP VIEW interaction_segments_current;
DROP VIEW interactions;

DROP TABLE agent_queue_stats;

DROP TABLE agent_stats;

DROP TABLE queue_stats;

DROP TABLE interaction_segments;

COMMENT ON TABLE accounts IS 'Main accounts: one row per main account that the accounts listing''s sub-accounts belong to.';
COMMENT ON COLUMN accounts.main_account_id IS 'The main account''s id.';
COMMENT ON COLUMN accounts.name IS 'The main account''s name.';
COMMENT ON COLUMN accounts.rc_account_id IS 'The RingCentral account the main account belongs to.';
COMMENT ON COLUMN accounts.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN accounts.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN accounts.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN accounts.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN accounts.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN accounts.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE accounts_history IS 'History of accounts: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN accounts_history.main_account_id IS 'The main account''s id.';
COMMENT ON COLUMN accounts_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN accounts_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN accounts_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN accounts_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN accounts_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN accounts_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE sub_accounts IS 'Sub-accounts: one row per account the accounts listing returns.';
COMMENT ON COLUMN sub_accounts.sub_account_id IS 'The sub-account''s id (the API''s accountId).';
COMMENT ON COLUMN sub_accounts.main_account_id IS 'The main account it belongs to (accounts.main_account_id).';
COMMENT ON COLUMN sub_accounts.name IS 'The sub-account''s name.';
COMMENT ON COLUMN sub_accounts.archived IS 'Whether the sub-account is archived.';
COMMENT ON COLUMN sub_accounts.start_date IS 'When the sub-account starts.';
COMMENT ON COLUMN sub_accounts.end_date IS 'When the sub-account ends.';
COMMENT ON COLUMN sub_accounts.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN sub_accounts.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN sub_accounts.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN sub_accounts.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN sub_accounts.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN sub_accounts.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE sub_accounts_history IS 'History of sub_accounts: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN sub_accounts_history.sub_account_id IS 'The sub-account''s id (the API''s accountId).';
COMMENT ON COLUMN sub_accounts_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN sub_accounts_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN sub_accounts_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN sub_accounts_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN sub_accounts_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN sub_accounts_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE users IS 'Admin users: one row per user of the user hierarchy, flattened.';
COMMENT ON COLUMN users.user_id IS 'The user''s id.';
COMMENT ON COLUMN users.parent_user_id IS 'The user above this one in the hierarchy (users.user_id); NULL for a root user.';
COMMENT ON COLUMN users.user_name IS 'The user''s login name.';
COMMENT ON COLUMN users.first_name IS 'The user''s first name.';
COMMENT ON COLUMN users.last_name IS 'The user''s last name.';
COMMENT ON COLUMN users.full_name IS 'The user''s full name.';
COMMENT ON COLUMN users.enabled IS 'Whether the user is enabled.';
COMMENT ON COLUMN users.root_user IS 'Whether the user is a root user of the hierarchy.';
COMMENT ON COLUMN users.rc_user_id IS 'The RingCentral user the user is linked to.';
COMMENT ON COLUMN users.rc_account_id IS 'The RingCentral account of the user.';
COMMENT ON COLUMN users.roles IS 'The user''s roles: the roleType of each.';
COMMENT ON COLUMN users.created_at IS 'When the user was created.';
COMMENT ON COLUMN users.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN users.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN users.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN users.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN users.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN users.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE users_history IS 'History of users: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN users_history.user_id IS 'The user''s id.';
COMMENT ON COLUMN users_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN users_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN users_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN users_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN users_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN users_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_groups IS 'Agent groups: one row per agent group of each sub-account.';
COMMENT ON COLUMN agent_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_groups.agent_group_id IS 'The agent group''s id.';
COMMENT ON COLUMN agent_groups.name IS 'The agent group''s name.';
COMMENT ON COLUMN agent_groups.is_default IS 'Whether it is the sub-account''s default agent group.';
COMMENT ON COLUMN agent_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_groups_history IS 'History of agent_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_groups_history.agent_group_id IS 'The agent group''s id.';
COMMENT ON COLUMN agent_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agents IS 'Agents: one row per agent of each sub-account, listed per agent group.';
COMMENT ON COLUMN agents.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents.agent_id IS 'The agent''s id.';
COMMENT ON COLUMN agents.agent_group_id IS 'The agent group the agent is in (agent_groups.agent_group_id).';
COMMENT ON COLUMN agents.username IS 'The agent''s login name.';
COMMENT ON COLUMN agents.first_name IS 'The agent''s first name.';
COMMENT ON COLUMN agents.last_name IS 'The agent''s last name.';
COMMENT ON COLUMN agents.email IS 'The agent''s email address.';
COMMENT ON COLUMN agents.agent_type IS 'The agent''s type as the API names it (AGENT, SUPERVISOR, ...).';
COMMENT ON COLUMN agents.is_active IS 'Whether the agent is active.';
COMMENT ON COLUMN agents.rc_user_id IS 'The RingCentral user the agent is linked to.';
COMMENT ON COLUMN agents.created_at IS 'When the agent was created.';
COMMENT ON COLUMN agents.last_login_at IS 'When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agents.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agents.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agents.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agents.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agents.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agents.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agents_history IS 'History of agents: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agents_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents_history.agent_id IS 'The agent''s id.';
COMMENT ON COLUMN agents_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agents_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agents_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agents_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agents_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agents_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE queue_groups IS 'Queue groups (the API''s gate groups): one row per queue group of each sub-account.';
COMMENT ON COLUMN queue_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queue_groups.queue_group_id IS 'The queue group''s id (the API''s gateGroupId).';
COMMENT ON COLUMN queue_groups.name IS 'The queue group''s name.';
COMMENT ON COLUMN queue_groups.created_at IS 'When the queue group was created.';
COMMENT ON COLUMN queue_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN queue_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN queue_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN queue_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN queue_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN queue_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE queue_groups_history IS 'History of queue_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN queue_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queue_groups_history.queue_group_id IS 'The queue group''s id (the API''s gateGroupId).';
COMMENT ON COLUMN queue_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN queue_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN queue_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN queue_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN queue_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN queue_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE queues IS 'Queues (the API''s gates): one row per queue of each queue group.';
COMMENT ON COLUMN queues.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues.queue_id IS 'The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues.queue_group_id IS 'The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN queues.name IS 'The queue''s name.';
COMMENT ON COLUMN queues.description IS 'The queue''s description.';
COMMENT ON COLUMN queues.is_active IS 'Whether the queue is active.';
COMMENT ON COLUMN queues.priority IS 'The queue''s priority.';
COMMENT ON COLUMN queues.created_at IS 'When the queue was created.';
COMMENT ON COLUMN queues.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN queues.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN queues.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN queues.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN queues.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN queues.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE queues_history IS 'History of queues: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN queues_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues_history.queue_id IS 'The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN queues_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN queues_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN queues_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN queues_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN queues_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE skills IS 'Skills: one row per skill of each queue group.';
COMMENT ON COLUMN skills.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN skills.queue_group_id IS 'The queue group the skill belongs to (queue_groups.queue_group_id).';
COMMENT ON COLUMN skills.skill_id IS 'The skill''s id.';
COMMENT ON COLUMN skills.name IS 'The skill''s name.';
COMMENT ON COLUMN skills.description IS 'The skill''s description.';
COMMENT ON COLUMN skills.is_active IS 'Whether the skill is active.';
COMMENT ON COLUMN skills.created_at IS 'When the skill was created.';
COMMENT ON COLUMN skills.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN skills.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN skills.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN skills.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN skills.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN skills.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE skills_history IS 'History of skills: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN skills_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN skills_history.queue_group_id IS 'The queue group the skill belongs to (queue_groups.queue_group_id).';
COMMENT ON COLUMN skills_history.skill_id IS 'The skill''s id.';
COMMENT ON COLUMN skills_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN skills_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN skills_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN skills_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN skills_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN skills_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE dial_groups IS 'Dial groups: one row per dial group of each sub-account.';
COMMENT ON COLUMN dial_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN dial_groups.dial_group_id IS 'The dial group''s id.';
COMMENT ON COLUMN dial_groups.name IS 'The dial group''s name.';
COMMENT ON COLUMN dial_groups.description IS 'The dial group''s description.';
COMMENT ON COLUMN dial_groups.dial_mode IS 'How the dial group dials, as the API names it (PREVIEW, PREDICTIVE, ...).';
COMMENT ON COLUMN dial_groups.is_active IS 'Whether the dial group is active.';
COMMENT ON COLUMN dial_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN dial_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN dial_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN dial_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN dial_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN dial_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE dial_groups_history IS 'History of dial_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN dial_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN dial_groups_history.dial_group_id IS 'The dial group''s id.';
COMMENT ON COLUMN dial_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN dial_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN dial_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN dial_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN dial_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN dial_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE campaigns IS 'Campaigns: one row per campaign of each dial group.';
COMMENT ON COLUMN campaigns.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns.campaign_id IS 'The campaign''s id.';
COMMENT ON COLUMN campaigns.dial_group_id IS 'The dial group the campaign is in (dial_groups.dial_group_id).';
COMMENT ON COLUMN campaigns.name IS 'The campaign''s name.';
COMMENT ON COLUMN campaigns.description IS 'The campaign''s description.';
COMMENT ON COLUMN campaigns.is_active IS 'Whether the campaign is active.';
COMMENT ON COLUMN campaigns.start_date IS 'When the campaign starts.';
COMMENT ON COLUMN campaigns.end_date IS 'When the campaign ends.';
COMMENT ON COLUMN campaigns.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN campaigns.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN campaigns.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN campaigns.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN campaigns.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN campaigns.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE campaigns_history IS 'History of campaigns: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN campaigns_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns_history.campaign_id IS 'The campaign''s id.';
COMMENT ON COLUMN campaigns_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN campaigns_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN campaigns_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN campaigns_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN campaigns_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN campaigns_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_queues IS 'Who is assigned to which queue: one row per agent assigned to a queue.';
COMMENT ON COLUMN agent_queues.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues.queue_id IS 'The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_queues.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_queues.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_queues.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_queues.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_queues.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_queues_history IS 'History of agent_queues: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_queues_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues_history.queue_id IS 'The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues_history.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_queues_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_queues_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_queues_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_queues_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_queues_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE agent_dial_groups IS 'Who is assigned to which dial group: one row per agent assigned to a dial group.';
COMMENT ON COLUMN agent_dial_groups.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_dial_groups.dial_group_id IS 'The dial group (dial_groups.dial_group_id).';
COMMENT ON COLUMN agent_dial_groups.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_dial_groups.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN agent_dial_groups.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN agent_dial_groups.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN agent_dial_groups.last_changed_at IS 'When a run last inserted, changed, deleted or restored the row.';
COMMENT ON COLUMN agent_dial_groups.deleted_at IS 'When a run found the row gone upstream (a soft delete); NULL while it exists upstream.';
COMMENT ON COLUMN agent_dial_groups.last_run_id IS 'The run that last inserted, changed, deleted or restored the row (sync_runs.run_id).';
COMMENT ON TABLE agent_dial_groups_history IS 'History of agent_dial_groups: one row per version of a row (insert, update, delete, restore), valid from valid_from to valid_to.';
COMMENT ON COLUMN agent_dial_groups_history.sub_account_id IS 'The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_dial_groups_history.dial_group_id IS 'The dial group (dial_groups.dial_group_id).';
COMMENT ON COLUMN agent_dial_groups_history.agent_id IS 'The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_dial_groups_history.valid_from IS 'When this version of the row began: the run''s publish.';
COMMENT ON COLUMN agent_dial_groups_history.valid_to IS 'When this version was superseded; NULL for the current version.';
COMMENT ON COLUMN agent_dial_groups_history.change IS 'What began this version: insert, update, delete or restore.';
COMMENT ON COLUMN agent_dial_groups_history.changed_columns IS 'The columns the change set (raw among them when the object changed); empty for an insert.';
COMMENT ON COLUMN agent_dial_groups_history.run_id IS 'The run that made the change (sync_runs.run_id).';
COMMENT ON COLUMN agent_dial_groups_history.raw IS 'The API object of this version once superseded; NULL for the current version, whose object is the entity row''s raw.';
COMMENT ON TABLE audit_log IS 'The admin audit log: one row per change an admin made to a sub-account''s configuration (who, when, what, and each attribute''s old and new value).';
COMMENT ON COLUMN audit_log.sub_account_id IS 'The sub-account the change was made in (sub_accounts.sub_account_id).';
COMMENT ON COLUMN audit_log.audit_id IS 'The audit log entry''s id (a UUID).';
COMMENT ON COLUMN audit_log.action_type IS 'What was done: CREATE, UPDATE or DELETE.';
COMMENT ON COLUMN audit_log.audited_class IS 'The kind of object changed: the last segment of the API''s Java class name (Gate is a queue, Agent, AgentGroup, Campaign, DialGroup, User, ...).';
COMMENT ON COLUMN audit_log.audited_entity_id IS 'The id of the object changed (a queue''s gate_id, an agent''s agent_id, ...).';
COMMENT ON COLUMN audit_log.audited_entity_description IS 'The object''s description as the audit log gives it (often its name).';
COMMENT ON COLUMN audit_log.created_at IS 'When the change was made (createTime, epoch milliseconds).';
COMMENT ON COLUMN audit_log.user_id IS 'The id of the admin user who made the change (users.user_id).';
COMMENT ON COLUMN audit_log.user_name IS 'The login name of the admin user who made the change.';
COMMENT ON COLUMN audit_log.source_ip IS 'The IP address the change came from; NULL when streams.redact lists source_ip.';
COMMENT ON COLUMN audit_log.changes IS 'The attributes an UPDATE changed: an array of {attribute, original_value, new_value, class_type}; a secret-bearing attribute keeps its name and loses both values.';
COMMENT ON COLUMN audit_log.window_start IS 'The start of the window whose read last wrote the row (stream_windows.window_start).';
COMMENT ON COLUMN audit_log.raw IS 'The API object as received, null values and unknown fields included, minus every secret-bearing key.';
COMMENT ON COLUMN audit_log.row_hash IS 'SHA-256 of the typed values and raw: a row whose hash is unchanged is not rewritten.';
COMMENT ON COLUMN audit_log.first_seen_at IS 'When a run first stored the row.';
COMMENT ON COLUMN audit_log.last_changed_at IS 'When a run first stored the row or last changed it.';
COMMENT ON COLUMN audit_log.last_run_id IS 'The run that first stored the row or last changed it (sync_runs.run_id).';
COMMENT ON TABLE sync_runs IS 'One row per run: what started it, when, how it ended, its requests and row counts.';
COMMENT ON COLUMN sync_runs.run_id IS 'The run''s id, in the order runs started.';
COMMENT ON COLUMN sync_runs.trigger IS 'What started the run: manual (syncer sync), schedule (the daemon), demo, streams (a run of the streams'' due windows) or backfill (syncer backfill).';
COMMENT ON COLUMN sync_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN sync_runs.finished_at IS 'When the run ended; NULL while it runs.';
COMMENT ON COLUMN sync_runs.status IS 'How the run ended: succeeded, partial, failed or canceled; running while it runs.';
COMMENT ON COLUMN sync_runs.error IS 'Why the run failed or was partial; NULL when it succeeded.';
COMMENT ON COLUMN sync_runs.api_requests IS 'Requests the run sent to the APIs.';
COMMENT ON COLUMN sync_runs.token_refreshes IS 'Access tokens the run obtained.';
COMMENT ON COLUMN sync_runs.retries IS 'Requests the run sent again after a failure.';
COMMENT ON COLUMN sync_runs.rate_limited IS 'Answers that said the rate limit was reached (HTTP 429).';
COMMENT ON COLUMN sync_runs.fetched IS 'Rows fetched from the API, over every entity.';
COMMENT ON COLUMN sync_runs.inserted IS 'Rows inserted: new, over every entity.';
COMMENT ON COLUMN sync_runs.updated IS 'Rows updated: changed, over every entity.';
COMMENT ON COLUMN sync_runs.unchanged IS 'Rows listed and left as they were, over every entity.';
COMMENT ON COLUMN sync_runs.deleted IS 'Rows soft-deleted: gone upstream, over every entity.';
COMMENT ON COLUMN sync_runs.restored IS 'Deleted rows that came back, over every entity.';
COMMENT ON TABLE sync_run_scopes IS 'One row per entity or stream and scope of each run: how the scope ended and its row counts.';
COMMENT ON COLUMN sync_run_scopes.run_id IS 'The run (sync_runs.run_id).';
COMMENT ON COLUMN sync_run_scopes.entity IS 'The entity, named as in --entities, or the stream, named as in --streams.';
COMMENT ON COLUMN sync_run_scopes.scope IS 'The scope: all for an entity with one, else the sub-account''s id (a stream''s scopes are sub-accounts).';
COMMENT ON COLUMN sync_run_scopes.status IS 'How the scope ended: succeeded, failed, withheld or not_entitled (withheld: listed, but its deletes held back by the mass-delete breaker; not_entitled: a stream the API refused with 403).';
COMMENT ON COLUMN sync_run_scopes.error IS 'Why the scope failed, was withheld or was not entitled; NULL when it succeeded.';
COMMENT ON COLUMN sync_run_scopes.fetched IS 'Rows fetched from the API in the scope.';
COMMENT ON COLUMN sync_run_scopes.inserted IS 'Rows inserted: new in the scope.';
COMMENT ON COLUMN sync_run_scopes.updated IS 'Rows updated: changed in the scope.';
COMMENT ON COLUMN sync_run_scopes.unchanged IS 'Rows listed and left as they were in the scope.';
COMMENT ON COLUMN sync_run_scopes.deleted IS 'Rows soft-deleted: gone upstream in the scope.';
COMMENT ON COLUMN sync_run_scopes.restored IS 'Deleted rows that came back in the scope.';
COMMENT ON TABLE api_fields IS 'The JSON paths each entity''s API objects carried at their latest observation, and their JSON types: names only, never values.';
COMMENT ON COLUMN api_fields.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN api_fields.path IS 'The path: a key (isActive), a nested key (mainAccount.rcAccountId) or an array''s elements (roles[].roleType).';
COMMENT ON COLUMN api_fields.json_types IS 'The JSON types the path held, sorted (array, boolean, null, number, object, string).';
COMMENT ON COLUMN api_fields.first_seen_run_id IS 'The run that first recorded the path (sync_runs.run_id).';
COMMENT ON COLUMN api_fields.last_seen_run_id IS 'The run that last saw the path (sync_runs.run_id).';
COMMENT ON TABLE api_field_changes IS 'One row per path that, in a run, appeared, vanished or changed type against the entity''s previous observation.';
COMMENT ON COLUMN api_field_changes.run_id IS 'The run that found the change (sync_runs.run_id).';
COMMENT ON COLUMN api_field_changes.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN api_field_changes.path IS 'The path (as in api_fields).';
COMMENT ON COLUMN api_field_changes.change IS 'What happened to the path: added, removed or type_changed.';
COMMENT ON COLUMN api_field_changes.old_type IS 'The path''s non-null types before, sorted and joined with |; null when it held only nulls; NULL when it was added.';
COMMENT ON COLUMN api_field_changes.new_type IS 'The path''s non-null types after, as old_type; NULL when it was removed.';
COMMENT ON TABLE stream_windows IS 'The streams'' ledger: one row per time window of a stream and sub-account, read once when it has closed and once more when it has settled.';
COMMENT ON COLUMN stream_windows.stream IS 'The stream, named as in --streams.';
COMMENT ON COLUMN stream_windows.sub_account_id IS 'The sub-account whose window it is (sub_accounts.sub_account_id).';
COMMENT ON COLUMN stream_windows.window_start IS 'The window''s start (included).';
COMMENT ON COLUMN stream_windows.window_end IS 'The window''s end (excluded).';
COMMENT ON COLUMN stream_windows.backfill IS 'Whether a backfill recorded the window (the high-water mark counts from the first window that is not).';
COMMENT ON COLUMN stream_windows.first_read_at IS 'When a read of the window first published; NULL until then.';
COMMENT ON COLUMN stream_windows.settled_at IS 'When the read that counts as the window''s settle read published; NULL until then.';
COMMENT ON COLUMN stream_windows.status IS 'The window''s last read: pending, succeeded, failed or not_entitled (pending: not read yet).';
COMMENT ON COLUMN stream_windows.attempts IS 'Reads of the window attempted, published or not.';
COMMENT ON COLUMN stream_windows.rows IS 'Items the last published read returned.';
COMMENT ON COLUMN stream_windows.error IS 'Why the last read failed or was refused; NULL when it published.';
COMMENT ON COLUMN stream_windows.attempted_at IS 'When the last read was attempted (a failed window''s backoff counts from it).';
COMMENT ON COLUMN stream_windows.last_run_id IS 'The run of the last attempt (sync_runs.run_id).';
COMMENT ON TABLE goose_db_version IS 'The migrations applied to the schema (goose''s table: syncer migrate status reads it).';
COMMENT ON COLUMN goose_db_version.id IS 'The row''s id, in the order migrations were applied or rolled back.';
COMMENT ON COLUMN goose_db_version.version_id IS 'The migration''s number (its file''s NNNNN).';
COMMENT ON COLUMN goose_db_version.is_applied IS 'Whether the migration was applied (false: rolled back).';
COMMENT ON COLUMN goose_db_version.tstamp IS 'When, in the server''s time zone.';
COMMENT ON VIEW agents_current IS 'Live agents with their agent group, sub-account and main account names.';
COMMENT ON COLUMN agents_current.sub_account_id IS 'agents.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agents_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN agents_current.main_account_id IS 'sub_accounts.main_account_id: The main account it belongs to (accounts.main_account_id).';
COMMENT ON COLUMN agents_current.main_account_name IS 'accounts.name: The main account''s name.';
COMMENT ON COLUMN agents_current.agent_group_id IS 'agents.agent_group_id: The agent group the agent is in (agent_groups.agent_group_id).';
COMMENT ON COLUMN agents_current.agent_group_name IS 'agent_groups.name: The agent group''s name.';
COMMENT ON COLUMN agents_current.agent_id IS 'agents.agent_id: The agent''s id.';
COMMENT ON COLUMN agents_current.username IS 'agents.username: The agent''s login name.';
COMMENT ON COLUMN agents_current.first_name IS 'agents.first_name: The agent''s first name.';
COMMENT ON COLUMN agents_current.last_name IS 'agents.last_name: The agent''s last name.';
COMMENT ON COLUMN agents_current.email IS 'agents.email: The agent''s email address.';
COMMENT ON COLUMN agents_current.agent_type IS 'agents.agent_type: The agent''s type as the API names it (AGENT, SUPERVISOR, ...).';
COMMENT ON COLUMN agents_current.is_active IS 'agents.is_active: Whether the agent is active.';
COMMENT ON COLUMN agents_current.rc_user_id IS 'agents.rc_user_id: The RingCentral user the agent is linked to.';
COMMENT ON COLUMN agents_current.created_at IS 'agents.created_at: When the agent was created.';
COMMENT ON COLUMN agents_current.last_login_at IS 'agents.last_login_at: When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agents_current.first_seen_at IS 'agents.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN agents_current.last_changed_at IS 'agents.last_changed_at: When a run last inserted, changed, deleted or restored the row.';
COMMENT ON VIEW entity_freshness IS 'Per entity: the last committed run that completed its least fresh current scope, its age, and the live and deleted row counts.';
COMMENT ON COLUMN entity_freshness.entity IS 'The entity, named as in --entities.';
COMMENT ON COLUMN entity_freshness.last_success_run_id IS 'The last committed run that completed the entity''s least fresh current scope; NULL while one of them was never completed.';
COMMENT ON COLUMN entity_freshness.last_success_at IS 'When that run finished.';
COMMENT ON COLUMN entity_freshness.last_success_age IS 'How long ago that run finished.';
COMMENT ON COLUMN entity_freshness.live IS 'The entity''s rows that exist upstream (deleted_at NULL).';
COMMENT ON COLUMN entity_freshness.deleted IS 'The entity''s soft-deleted rows.';
COMMENT ON VIEW stream_freshness IS 'Per stream and sub-account with windows in the ledger: its high-water mark, lag, pending and failed windows, whether the API refused it, and whether the sub-account is live.';
COMMENT ON COLUMN stream_freshness.stream IS 'The stream, named as in --streams.';
COMMENT ON COLUMN stream_freshness.sub_account_id IS 'The sub-account (sub_accounts.sub_account_id).';
COMMENT ON COLUMN stream_freshness.high_water_mark IS 'The start of the oldest window not read yet, or the end of the newest window when every one was read; the windows before the first one a backfill did not record do not count.';
COMMENT ON COLUMN stream_freshness.lag IS 'How far the high-water mark is behind now.';
COMMENT ON COLUMN stream_freshness.windows_pending IS 'Windows recorded and not read yet (status pending).';
COMMENT ON COLUMN stream_freshness.windows_failed IS 'Windows whose last read failed.';
COMMENT ON COLUMN stream_freshness.not_entitled IS 'Whether the latest read attempted was refused with 403 (the entitlement the stream needs is missing).';
COMMENT ON COLUMN stream_freshness.rows IS 'Items the windows'' last published reads returned, summed.';
COMMENT ON COLUMN stream_freshness.last_read_at IS 'When a read last published (a first or a settle read).';
COMMENT ON COLUMN stream_freshness.live IS 'Whether the sub-account is live: false once sub_accounts holds it as deleted (a sub-account that table does not hold counts as live).';
COMMENT ON VIEW queues_current IS 'Live queues with their queue group and sub-account names and the number of live agents assigned.';
COMMENT ON COLUMN queues_current.sub_account_id IS 'queues.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN queues_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN queues_current.queue_group_id IS 'queues.queue_group_id: The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN queues_current.queue_group_name IS 'queue_groups.name: The queue group''s name.';
COMMENT ON COLUMN queues_current.queue_id IS 'queues.queue_id: The queue''s id (the API''s gateId).';
COMMENT ON COLUMN queues_current.name IS 'queues.name: The queue''s name.';
COMMENT ON COLUMN queues_current.description IS 'queues.description: The queue''s description.';
COMMENT ON COLUMN queues_current.is_active IS 'queues.is_active: Whether the queue is active.';
COMMENT ON COLUMN queues_current.priority IS 'queues.priority: The queue''s priority.';
COMMENT ON COLUMN queues_current.created_at IS 'queues.created_at: When the queue was created.';
COMMENT ON COLUMN queues_current.assigned_agents IS 'The live agent_queues rows of the queue: the agents assigned to it.';
COMMENT ON COLUMN queues_current.first_seen_at IS 'queues.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN queues_current.last_changed_at IS 'queues.last_changed_at: When a run last inserted, changed, deleted or restored the row.';
COMMENT ON VIEW agent_queues_current IS 'Live assignments of agents to live queues, with the queue, its group and sub-account, and the agent (NULL when the agent is not a live agents row).';
COMMENT ON COLUMN agent_queues_current.sub_account_id IS 'agent_queues.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN agent_queues_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN agent_queues_current.queue_group_id IS 'queues.queue_group_id: The queue group the queue is in (queue_groups.queue_group_id).';
COMMENT ON COLUMN agent_queues_current.queue_group_name IS 'queue_groups.name: The queue group''s name.';
COMMENT ON COLUMN agent_queues_current.queue_id IS 'agent_queues.queue_id: The queue (queues.queue_id).';
COMMENT ON COLUMN agent_queues_current.queue_name IS 'queues.name: The queue''s name.';
COMMENT ON COLUMN agent_queues_current.agent_id IS 'agent_queues.agent_id: The agent assigned to it (agents.agent_id).';
COMMENT ON COLUMN agent_queues_current.username IS 'agents.username: The agent''s login name.';
COMMENT ON COLUMN agent_queues_current.first_name IS 'agents.first_name: The agent''s first name.';
COMMENT ON COLUMN agent_queues_current.last_name IS 'agents.last_name: The agent''s last name.';
COMMENT ON COLUMN agent_queues_current.agent_is_active IS 'agents.is_active: Whether the agent is active.';
COMMENT ON COLUMN agent_queues_current.last_login_at IS 'agents.last_login_at: When the agent last logged in; NULL when never.';
COMMENT ON COLUMN agent_queues_current.first_seen_at IS 'agent_queues.first_seen_at: When a run first stored the row.';
COMMENT ON VIEW campaigns_current IS 'Live campaigns with their dial group.';
COMMENT ON COLUMN campaigns_current.sub_account_id IS 'campaigns.sub_account_id: The sub-account the row belongs to (sub_accounts.sub_account_id).';
COMMENT ON COLUMN campaigns_current.sub_account_name IS 'sub_accounts.name: The sub-account''s name.';
COMMENT ON COLUMN campaigns_current.dial_group_id IS 'campaigns.dial_group_id: The dial group the campaign is in (dial_groups.dial_group_id).';
COMMENT ON COLUMN campaigns_current.dial_group_name IS 'dial_groups.name: The dial group''s name.';
COMMENT ON COLUMN campaigns_current.dial_mode IS 'dial_groups.dial_mode: How the dial group dials, as the API names it (PREVIEW, PREDICTIVE, ...).';
COMMENT ON COLUMN campaigns_current.dial_group_is_active IS 'dial_groups.is_active: Whether the dial group is active.';
COMMENT ON COLUMN campaigns_current.campaign_id IS 'campaigns.campaign_id: The campaign''s id.';
COMMENT ON COLUMN campaigns_current.name IS 'campaigns.name: The campaign''s name.';
COMMENT ON COLUMN campaigns_current.description IS 'campaigns.description: The campaign''s description.';
COMMENT ON COLUMN campaigns_current.is_active IS 'campaigns.is_active: Whether the campaign is active.';
COMMENT ON COLUMN campaigns_current.start_date IS 'campaigns.start_date: When the campaign starts.';
COMMENT ON COLUMN campaigns_current.end_date IS 'campaigns.end_date: When the campaign ends.';
COMMENT ON COLUMN campaigns_current.first_seen_at IS 'campaigns.first_seen_at: When a run first stored the row.';
COMMENT ON COLUMN campaigns_current.last_changed_at IS 'campaigns.last_changed_at: When a run last inserted, changed, deleted or restored the row.';
