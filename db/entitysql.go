package db

import (
	"strings"

	"github.com/evsync/evsync/internal/entity"
)

// The schema objects that list every entity (the view entity_freshness and the CHECK
// constraints on the ledger's entity columns) are rendered here from the entity descriptions,
// as the per-entity statements are (sqltext.go), and pinned by golden files
// (testdata/entity_views.golden, testdata/entity_checks.golden). A migration that adds an
// entity carries this text, written by internal/tools/genmigration; the db tests hold the
// rendered text to what the shipped migrations created. The text uses unqualified names: the
// migrations run with search_path set to the target schema.

// entityChecks are the CHECK constraints on an entity column of the ledger: (table, constraint).
var entityChecks = [][2]string{
	{"sync_run_scopes", "sync_run_scopes_entity_check"},
	{"api_fields", "api_fields_entity_check"},
	{"api_field_changes", "api_field_changes_entity_check"},
}

// EntityViewsSQL renders the statement that (re)creates the view entity_freshness over the
// entities ds (in their order; entity.All, or entity.AsOf a migration): per entity its live and
// deleted row counts and the last committed run that completed its least fresh current scope.
// ds must hold sub_accounts when it holds an entity scoped per sub-account.
func EntityViewsSQL(ds []*entity.Desc) string {
	var counts, scoped, all, perSub []string
	for i, d := range ds {
		n := string(d.Name)
		if i == 0 {
			counts = append(counts, "    SELECT '"+n+"' AS entity, count(*) FILTER (WHERE deleted_at IS NULL) AS live,\n"+
				"           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM "+n+"\n")
		} else {
			counts = append(counts, "    SELECT '"+n+"', count(*) FILTER (WHERE deleted_at IS NULL),\n"+
				"           count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM "+n+"\n")
		}
		if !d.Scoped() {
			all = append(all, "('"+n+"')")
			continue
		}
		perSub = append(perSub, "('"+n+"')")
		if len(scoped) == 0 {
			scoped = append(scoped, "    SELECT '"+n+"' AS entity, sub_account_id AS scope FROM sub_accounts WHERE deleted_at IS NULL\n")
		} else {
			scoped = append(scoped, "    SELECT '"+n+"', sub_account_id FROM sub_accounts WHERE deleted_at IS NULL\n")
		}
		scoped = append(scoped, "    SELECT '"+n+"', sub_account_id FROM "+n+" WHERE deleted_at IS NULL\n")
	}
	return expand(entityFreshnessSQL, map[string]string{
		"counts":         strings.Join(counts, "    UNION ALL\n"),
		"scoped":         strings.Join(scoped, "    UNION\n"),
		"one_scope":      strings.Join(all, ", "),
		"per_subaccount": strings.Join(perSub, ", "),
	})
}

// entityFreshnessSQL is the view as migration 00003 defined it, over any entities.
const entityFreshnessSQL = `CREATE OR REPLACE VIEW entity_freshness AS
WITH counts AS (
{{counts}}), scoped AS (
{{scoped}}), current_scopes AS (
    -- (entity, the ledger entity and scope that stand for one of its scopes)
    SELECT e.entity, e.entity AS ledger_entity, 'all' AS scope
    FROM (VALUES {{one_scope}}) AS e (entity)
    UNION ALL
    SELECT entity, entity, scope FROM scoped
    UNION ALL
    SELECT e.entity, 'sub_accounts', 'all'
    FROM (VALUES {{per_subaccount}}) AS e (entity)
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
`

// EntityChecksSQL renders the statements that replace the CHECK constraints on the ledger's
// entity columns (sync_run_scopes, api_fields, api_field_changes) with ones that allow the
// entities ds. notValid adds them NOT VALID, for rows already there are not checked: a
// migration's Down that rolls entities back leaves their rows in the ledger.
func EntityChecksSQL(ds []*entity.Desc, notValid bool) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = "'" + string(d.Name) + "'"
	}
	suffix := ""
	if notValid {
		suffix = " NOT VALID"
	}
	var b strings.Builder
	for _, c := range entityChecks {
		b.WriteString(expand(entityCheckSQL, map[string]string{
			"table": c[0], "constraint": c[1], "names": strings.Join(names, ", "), "not_valid": suffix,
		}))
	}
	return b.String()
}

// entityCheckSQL replaces one CHECK constraint on an entity column, as migration 00004 did.
const entityCheckSQL = `ALTER TABLE {{table}} DROP CONSTRAINT {{constraint}};
ALTER TABLE {{table}} ADD CONSTRAINT {{constraint}}
    CHECK (entity IN ({{names}})){{not_valid}};
`
