-- +goose Up
-- The contact center's configuration (DESIGN.md, "The source" item 6): queue groups and queues
-- (the API's gate groups and gates), skills, dial groups and campaigns, and who is assigned to
-- which queue and dial group. Each is scoped per sub-account, like agent groups and agents; its
-- description (internal/entity) says where each column comes from.

ALTER TABLE sync_run_scopes DROP CONSTRAINT sync_run_scopes_entity_check;
ALTER TABLE sync_run_scopes ADD CONSTRAINT sync_run_scopes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups'));

CREATE TABLE queue_groups (
    sub_account_id  text NOT NULL,
    queue_group_id  bigint NOT NULL,
    name            text,
    created_at      timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, queue_group_id)
);
CREATE INDEX queue_groups_live_idx ON queue_groups (sub_account_id, queue_group_id) WHERE deleted_at IS NULL;

CREATE TABLE queues (
    sub_account_id  text NOT NULL,
    queue_id        bigint NOT NULL,
    queue_group_id  bigint NOT NULL,
    name            text,
    description     text,
    is_active       boolean,
    priority        bigint,
    created_at      timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, queue_id),
    FOREIGN KEY (sub_account_id, queue_group_id)
        REFERENCES queue_groups (sub_account_id, queue_group_id)
);
CREATE INDEX queues_live_idx ON queues (sub_account_id, queue_id) WHERE deleted_at IS NULL;

CREATE TABLE skills (
    sub_account_id  text NOT NULL,
    queue_group_id  bigint NOT NULL,
    skill_id        bigint NOT NULL,
    name            text,
    description     text,
    is_active       boolean,
    created_at      timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, queue_group_id, skill_id),
    FOREIGN KEY (sub_account_id, queue_group_id)
        REFERENCES queue_groups (sub_account_id, queue_group_id)
);
CREATE INDEX skills_live_idx ON skills (sub_account_id, queue_group_id, skill_id) WHERE deleted_at IS NULL;

CREATE TABLE dial_groups (
    sub_account_id  text NOT NULL,
    dial_group_id   bigint NOT NULL,
    name            text,
    description     text,
    dial_mode       text,
    is_active       boolean,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, dial_group_id)
);
CREATE INDEX dial_groups_live_idx ON dial_groups (sub_account_id, dial_group_id) WHERE deleted_at IS NULL;

CREATE TABLE campaigns (
    sub_account_id  text NOT NULL,
    campaign_id     bigint NOT NULL,
    dial_group_id   bigint NOT NULL,
    name            text,
    description     text,
    is_active       boolean,
    start_date      timestamptz,
    end_date        timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, campaign_id),
    FOREIGN KEY (sub_account_id, dial_group_id)
        REFERENCES dial_groups (sub_account_id, dial_group_id)
);
CREATE INDEX campaigns_live_idx ON campaigns (sub_account_id, campaign_id) WHERE deleted_at IS NULL;

CREATE TABLE agent_queues (
    sub_account_id  text NOT NULL,
    queue_id        bigint NOT NULL,
    agent_id        bigint NOT NULL,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, queue_id, agent_id),
    FOREIGN KEY (sub_account_id, queue_id)
        REFERENCES queues (sub_account_id, queue_id)
);
CREATE INDEX agent_queues_agent_idx ON agent_queues (sub_account_id, agent_id);

CREATE TABLE agent_dial_groups (
    sub_account_id  text NOT NULL,
    dial_group_id   bigint NOT NULL,
    agent_id        bigint NOT NULL,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, dial_group_id, agent_id),
    FOREIGN KEY (sub_account_id, dial_group_id)
        REFERENCES dial_groups (sub_account_id, dial_group_id)
);
CREATE INDEX agent_dial_groups_agent_idx ON agent_dial_groups (sub_account_id, agent_id);

-- History, as for the other entities (00001).
CREATE TABLE queue_groups_history (
    sub_account_id  text        NOT NULL,
    queue_group_id  bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, queue_group_id, valid_from)
);
CREATE TABLE queues_history (
    sub_account_id  text        NOT NULL,
    queue_id        bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, queue_id, valid_from)
);
CREATE TABLE skills_history (
    sub_account_id  text        NOT NULL,
    queue_group_id  bigint      NOT NULL,
    skill_id        bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, queue_group_id, skill_id, valid_from)
);
CREATE TABLE dial_groups_history (
    sub_account_id  text        NOT NULL,
    dial_group_id   bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, dial_group_id, valid_from)
);
CREATE TABLE campaigns_history (
    sub_account_id  text        NOT NULL,
    campaign_id     bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, campaign_id, valid_from)
);
CREATE TABLE agent_queues_history (
    sub_account_id  text        NOT NULL,
    queue_id        bigint      NOT NULL,
    agent_id        bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, queue_id, agent_id, valid_from)
);
CREATE TABLE agent_dial_groups_history (
    sub_account_id  text        NOT NULL,
    dial_group_id   bigint      NOT NULL,
    agent_id        bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, dial_group_id, agent_id, valid_from)
);

-- Live queues with their queue group and sub-account names and their live assigned agents.
CREATE VIEW queues_current AS
SELECT q.sub_account_id,
       s.name  AS sub_account_name,
       q.queue_group_id,
       g.name  AS queue_group_name,
       q.queue_id,
       q.name,
       q.description,
       q.is_active,
       q.priority,
       q.created_at,
       (SELECT count(*) FROM agent_queues aq
         WHERE aq.sub_account_id = q.sub_account_id AND aq.queue_id = q.queue_id
           AND aq.deleted_at IS NULL) AS assigned_agents,
       q.first_seen_at,
       q.last_changed_at
FROM queues q
LEFT JOIN queue_groups g ON g.sub_account_id = q.sub_account_id AND g.queue_group_id = q.queue_group_id
LEFT JOIN sub_accounts s ON s.sub_account_id = q.sub_account_id
WHERE q.deleted_at IS NULL;

-- Live assignments of agents to live queues, with the agent's username and name (NULL when the
-- agent is not in the agents table: agents not synced, or deleted), the queue, its queue group
-- and sub-account.
CREATE VIEW agent_queues_current AS
SELECT aq.sub_account_id,
       s.name  AS sub_account_name,
       q.queue_group_id,
       g.name  AS queue_group_name,
       aq.queue_id,
       q.name  AS queue_name,
       aq.agent_id,
       a.username,
       a.first_name,
       a.last_name,
       a.is_active     AS agent_is_active,
       a.last_login_at,
       aq.first_seen_at
FROM agent_queues aq
JOIN queues q ON q.sub_account_id = aq.sub_account_id AND q.queue_id = aq.queue_id AND q.deleted_at IS NULL
LEFT JOIN queue_groups g ON g.sub_account_id = q.sub_account_id AND g.queue_group_id = q.queue_group_id
LEFT JOIN agents a ON a.sub_account_id = aq.sub_account_id AND a.agent_id = aq.agent_id AND a.deleted_at IS NULL
LEFT JOIN sub_accounts s ON s.sub_account_id = aq.sub_account_id
WHERE aq.deleted_at IS NULL;

-- Live campaigns with their dial group.
CREATE VIEW campaigns_current AS
SELECT c.sub_account_id,
       s.name  AS sub_account_name,
       c.dial_group_id,
       d.name  AS dial_group_name,
       d.dial_mode,
       d.is_active AS dial_group_is_active,
       c.campaign_id,
       c.name,
       c.description,
       c.is_active,
       c.start_date,
       c.end_date,
       c.first_seen_at,
       c.last_changed_at
FROM campaigns c
LEFT JOIN dial_groups d ON d.sub_account_id = c.sub_account_id AND d.dial_group_id = c.dial_group_id
LEFT JOIN sub_accounts s ON s.sub_account_id = c.sub_account_id
WHERE c.deleted_at IS NULL;

-- entity_freshness (00003) with the new entities: each scoped per sub-account like agents.
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

-- +goose Down
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
), scoped AS (
    SELECT 'agent_groups' AS entity, sub_account_id AS scope FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agent_groups', sub_account_id FROM agent_groups WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL
    UNION
    SELECT 'agents', sub_account_id FROM agents WHERE deleted_at IS NULL
), current_scopes AS (
    -- (entity, the ledger entity and scope that stand for one of its scopes)
    SELECT e.entity, e.entity AS ledger_entity, 'all' AS scope
    FROM (VALUES ('accounts'), ('sub_accounts'), ('users')) AS e (entity)
    UNION ALL
    SELECT entity, entity, scope FROM scoped
    UNION ALL
    SELECT e.entity, 'sub_accounts', 'all'
    FROM (VALUES ('agent_groups'), ('agents')) AS e (entity)
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

DROP VIEW campaigns_current;
DROP VIEW agent_queues_current;
DROP VIEW queues_current;
DROP TABLE agent_dial_groups_history;
DROP TABLE agent_queues_history;
DROP TABLE campaigns_history;
DROP TABLE dial_groups_history;
DROP TABLE skills_history;
DROP TABLE queues_history;
DROP TABLE queue_groups_history;
DROP TABLE agent_dial_groups;
DROP TABLE agent_queues;
DROP TABLE campaigns;
DROP TABLE dial_groups;
DROP TABLE skills;
DROP TABLE queues;
DROP TABLE queue_groups;
-- The ledger keeps the scopes of the entities rolled back: the old check holds for new rows only.
ALTER TABLE sync_run_scopes DROP CONSTRAINT sync_run_scopes_entity_check;
ALTER TABLE sync_run_scopes ADD CONSTRAINT sync_run_scopes_entity_check
    CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents')) NOT VALID;
