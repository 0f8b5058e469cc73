package db

import (
	"fmt"
	"slices"
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
// entity columns with ones that allow the entities ds and the streams ss (entity.AsOf and
// entity.StreamsAsOf a migration): sync_run_scopes.entity lists both, entities first (as
// entity.Ledgered); api_fields and api_field_changes the entities only; and, when ss is not
// empty, stream_windows.stream the streams. notValid adds them NOT VALID, for rows already
// there are not checked: a migration's Down that rolls entities or streams back leaves their
// rows in the ledger.
func EntityChecksSQL(ds []*entity.Desc, ss []*entity.Stream, notValid bool) string {
	var names, streamNames []string
	for _, d := range ds {
		names = append(names, "'"+string(d.Name)+"'")
	}
	for _, st := range ss {
		streamNames = append(streamNames, "'"+string(st.Name)+"'")
	}
	suffix := ""
	if notValid {
		suffix = " NOT VALID"
	}
	var b strings.Builder
	for _, c := range entityChecks {
		list := names
		if c[0] == "sync_run_scopes" {
			list = append(slices.Clone(names), streamNames...)
		}
		b.WriteString(expand(entityCheckSQL, map[string]string{
			"table": c[0], "constraint": c[1], "column": "entity", "names": strings.Join(list, ", "), "not_valid": suffix,
		}))
	}
	if len(ss) > 0 {
		b.WriteString(expand(entityCheckSQL, map[string]string{
			"table": "stream_windows", "constraint": "stream_windows_stream_check", "column": "stream",
			"names": strings.Join(streamNames, ", "), "not_valid": suffix,
		}))
	}
	return b.String()
}

// entityCheckSQL replaces one CHECK constraint on an entity column, as migration 00004 did.
const entityCheckSQL = `ALTER TABLE {{table}} DROP CONSTRAINT {{constraint}};
ALTER TABLE {{table}} ADD CONSTRAINT {{constraint}}
    CHECK ({{column}} IN ({{names}})){{not_valid}};
`

// ScopeStatusCheckSQL renders the statements that replace the CHECK constraint on
// sync_run_scopes.status with one that allows statuses (ScopeStatusesAsOf a migration);
// notValid as for EntityChecksSQL.
func ScopeStatusCheckSQL(statuses []ScopeStatus, notValid bool) string {
	vals := make([]string, len(statuses))
	for i, v := range statuses {
		vals[i] = quoteLiteral(string(v))
	}
	suffix := ""
	if notValid {
		suffix = " NOT VALID"
	}
	return expand(entityCheckSQL, map[string]string{
		"table": "sync_run_scopes", "constraint": "sync_run_scopes_status_check", "column": "status",
		"names": strings.Join(vals, ", "), "not_valid": suffix,
	})
}

// StreamTableSQL renders the statement that creates stream st's table, as its description
// and the catalog (streamRelation) say: the key columns, the typed columns, then the system
// columns. Its indexes are the migration's own. last_run_id has no foreign key, as an entity
// table's has none: deleting a run (StreamLock.Discard) would scan the table for it.
func StreamTableSQL(st *entity.Stream) string {
	r := streamRelation(st)
	width := 0
	for _, c := range r.Columns {
		width = max(width, len(c.Name))
	}
	var lines []string
	for _, c := range r.Columns {
		typ := c.Type
		if typ == "timestamp with time zone" {
			typ = "timestamptz"
		}
		switch {
		case c.Role == RoleKey, c.Name == "raw", c.Name == "row_hash", c.Name == "window_start",
			c.Name == "first_seen_at", c.Name == "last_changed_at":
			typ += " NOT NULL"
		}
		lines = append(lines, fmt.Sprintf("    %-*s %s", width, c.Name, typ))
	}
	lines = append(lines, "    PRIMARY KEY ("+strings.Join(r.Key, ", ")+")")
	return "CREATE TABLE " + r.Name + " (\n" + strings.Join(lines, ",\n") + "\n);\n"
}
