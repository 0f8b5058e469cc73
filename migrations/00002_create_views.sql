-- +goose Up
-- Live agents with their group, sub-account and main account names.
CREATE VIEW agents_current AS
SELECT a.sub_account_id,
       s.name  AS sub_account_name,
       s.main_account_id,
       m.name  AS main_account_name,
       a.agent_group_id,
       g.name  AS agent_group_name,
       a.agent_id,
       a.username,
       a.first_name,
       a.last_name,
       a.email,
       a.agent_type,
       a.is_active,
       a.rc_user_id,
       a.created_at,
       a.last_login_at,
       a.first_seen_at,
       a.last_changed_at
FROM agents a
LEFT JOIN agent_groups g ON g.sub_account_id = a.sub_account_id AND g.agent_group_id = a.agent_group_id
LEFT JOIN sub_accounts s ON s.sub_account_id = a.sub_account_id
LEFT JOIN accounts m ON m.main_account_id = s.main_account_id
WHERE a.deleted_at IS NULL;

-- Per entity: the last successful run (a run that committed with this entity's scopes complete),
-- its age, and the live and deleted row counts.
CREATE VIEW entity_freshness AS
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
), last_ok AS (
    SELECT DISTINCT ON (sc.entity) sc.entity, r.run_id, r.finished_at
    FROM sync_run_scopes sc
    JOIN sync_runs r ON r.run_id = sc.run_id
    WHERE sc.status = 'succeeded' AND r.status IN ('succeeded', 'partial')
    ORDER BY sc.entity, r.run_id DESC
)
SELECT c.entity,
       l.run_id                AS last_success_run_id,
       l.finished_at           AS last_success_at,
       now() - l.finished_at   AS last_success_age,
       c.live,
       c.deleted
FROM counts c
LEFT JOIN last_ok l ON l.entity = c.entity;

-- +goose Down
DROP VIEW entity_freshness;
DROP VIEW agents_current;
