-- +goose Up
-- "Fresh" means complete (DESIGN.md): a scope is fresh as of the last committed run that
-- completed it (sync_run_scopes.status 'succeeded'); an entity is as fresh as its least fresh
-- current scope, and has no freshness at all while one of them was never completed. Current
-- scopes: 'all' for accounts, sub_accounts and users; for agent_groups and agents, every live
-- sub-account, plus every sub-account the table still has live rows of (a vanished
-- sub-account whose deletes were withheld is not complete). With no such sub-account, the
-- entity is as fresh as the sub-accounts listing that found none.
-- 00002's view counted a run with any one succeeded scope of the entity.

-- The view looks up each current scope's last completed run: an index makes that one probe per
-- scope instead of a scan of the ledger, which grows by every scope of every run.
CREATE INDEX sync_run_scopes_succeeded ON sync_run_scopes (entity, scope, run_id DESC)
    WHERE status = 'succeeded';

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

-- +goose Down
DROP INDEX sync_run_scopes_succeeded;

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
