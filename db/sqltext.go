package db

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SQL text is written with named placeholders, {{name}}, and rendered by expand: the one
// templating scheme of this package. The per-entity statements are rendered once per Store
// (entitySQL) and pinned by golden files (testdata/sql_<entity>.golden, TestEntitySQLGolden).

var placeholderRE = regexp.MustCompile(`\{\{[a-z0-9_]+\}\}`)

// expand replaces every {{name}} in text by vars[name]. A placeholder without a value is a
// programming error and panics (the golden and store tests render every statement).
func expand(text string, vars map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(text, func(p string) string {
		v, ok := vars[p[2:len(p)-2]]
		if !ok {
			panic(fmt.Sprintf("db: SQL placeholder %s has no value", p))
		}
		return v
	})
}

// sql renders a statement over the ledger tables: {{schema}} is the store's quoted schema.
func (s *Store) sql(text string) string { return expand(text, map[string]string{"schema": s.q}) }

// entitySQL is every statement that staging and publishing run on one entity.
type entitySQL struct {
	storedHashes   string // the stored (text key, bigint keys, row_hash, deleted) of every row
	createStaging  string // stg_<entity>: the table's columns and op
	unstageRow     string // delete one staged row by its key ($1[, $2[, $3]])
	dropUnmarked   string // delete the staged rows of scopes not marked ($1 = marked scopes)
	analyzeStaging string
	update         string // changed and restored rows with their history ($1 = run id or NULL)
	insert         string // new rows ($1 = run id or NULL)
	insertHistory  string // the history rows of the new rows
	createDeletes  string // del_<entity>: the keys to soft-delete
	analyzeDeletes string
	softDelete     string // soft-delete the keys in del_<entity>, with their history
	dropDeletes    string
}

const (
	storedHashesSQL = `SELECT {{text_key}}, {{int_key}}, {{int_key2}}, row_hash, deleted_at IS NOT NULL FROM {{table}}`

	createStagingSQL = `CREATE TEMP TABLE {{staging}} AS SELECT {{row_cols}}, raw, row_hash FROM {{table}} WITH NO DATA;
ALTER TABLE {{staging}} ADD COLUMN op text NOT NULL`

	unstageRowSQL = `DELETE FROM {{staging}} WHERE {{key_params}}`

	dropUnmarkedScopedSQL = `DELETE FROM {{staging}} WHERE NOT ({{scope_col}} = ANY($1::text[]))`
	dropUnmarkedSQL       = `DELETE FROM {{staging}}`

	// The update joins staging to the table, so the planner needs the staging table's real
	// size and key statistics; the wide raw column is left out (sampling it is slow and no
	// plan depends on it). The inserts read staging sequentially and need none.
	analyzeStagingSQL = `ANALYZE {{staging}} ({{key_cols}}, op)`

	// The update closes the current history rows of changed and restored rows and adds new
	// ones with the names of the changed columns.
	updateSQL = `
WITH d AS MATERIALIZED (
  SELECT s.*, t.deleted_at AS old_deleted_at, t.raw AS old_raw, array_remove(ARRAY[{{changed_columns}}], NULL) AS cc
  FROM {{staging}} s JOIN {{table}} t ON {{join_t_s}}
  WHERE s.op <> 'i'
), closed AS (
  UPDATE {{history}} h SET valid_to = now(), raw = d.old_raw FROM d WHERE {{join_h_d}} AND h.valid_to IS NULL
), hist AS (
  INSERT INTO {{history}} ({{key_cols}}, valid_from, change, changed_columns, run_id)
  SELECT {{d_key_cols}}, now(), CASE WHEN d.old_deleted_at IS NULL THEN 'update' ELSE 'restore' END, d.cc, $1 FROM d
)
UPDATE {{table}} t SET {{set_cols}}, row_hash = d.row_hash, deleted_at = NULL, last_changed_at = now(), last_run_id = $1
FROM d WHERE {{join_t_d}}`

	// A key that appeared since the stage read the table fails the insert (and the publish).
	insertSQL = `
INSERT INTO {{table}} ({{row_cols}}, raw, row_hash, first_seen_at, last_changed_at, last_run_id)
SELECT {{row_cols}}, raw, row_hash, now(), now(), $1 FROM {{staging}} WHERE op = 'i'`

	// A separate statement reading staging again is about three times cheaper than
	// INSERT … RETURNING feeding a second INSERT.
	insertHistorySQL = `
INSERT INTO {{history}} ({{key_cols}}, valid_from, change, changed_columns, run_id)
SELECT {{key_cols}}, now(), 'insert', '{}', $1 FROM {{staging}} WHERE op = 'i'`

	createDeletesSQL  = `CREATE TEMP TABLE {{deletes}} AS SELECT {{key_cols}} FROM {{table}} WITH NO DATA`
	analyzeDeletesSQL = `ANALYZE {{deletes}} ({{key_cols}})`
	softDeleteSQL     = `
WITH del AS (
  UPDATE {{table}} t SET deleted_at = now(), last_changed_at = now(), last_run_id = $1
  FROM {{deletes}} k WHERE {{join_t_k}} AND t.deleted_at IS NULL
  RETURNING {{t_key_cols}}, t.raw
), closed AS (
  UPDATE {{history}} h SET valid_to = now(), raw = del.raw FROM del WHERE {{join_h_del}} AND h.valid_to IS NULL
)
INSERT INTO {{history}} ({{key_cols}}, valid_from, change, changed_columns, run_id)
SELECT {{key_cols}}, now(), 'delete', '{deleted_at}', $1 FROM del`
	dropDeletesSQL = `DROP TABLE {{deletes}}`
)

// newEntitySQL renders d's statements for the quoted schema q.
func newEntitySQL(d *entityDef, q string) *entitySQL {
	v := d.sqlVars(q)
	dropUnmarked := dropUnmarkedSQL
	if d.scoped {
		dropUnmarked = dropUnmarkedScopedSQL
	}
	return &entitySQL{
		storedHashes:   expand(storedHashesSQL, v),
		createStaging:  expand(createStagingSQL, v),
		unstageRow:     expand(unstageRowSQL, v),
		dropUnmarked:   expand(dropUnmarked, v),
		analyzeStaging: expand(analyzeStagingSQL, v),
		update:         expand(updateSQL, v),
		insert:         expand(insertSQL, v),
		insertHistory:  expand(insertHistorySQL, v),
		createDeletes:  expand(createDeletesSQL, v),
		analyzeDeletes: expand(analyzeDeletesSQL, v),
		softDelete:     expand(softDeleteSQL, v),
		dropDeletes:    expand(dropDeletesSQL, v),
	}
}

// sqlVars are the placeholders of d's statements.
func (d *entityDef) sqlVars(q string) map[string]string {
	name := string(d.name)
	v := map[string]string{
		"table":     q + "." + name,
		"history":   q + "." + name + "_history",
		"staging":   d.stagingTable(),
		"deletes":   d.deletesTable(),
		"key_cols":  strings.Join(d.keyCols, ", "),
		"row_cols":  strings.Join(append(slices.Clone(d.keyCols), d.cols...), ", "),
		"text_key":  cmp.Or(d.keyS, "''"),
		"int_key":   "0::bigint",
		"int_key2":  "0::bigint",
		"scope_col": d.keyS,
	}
	for i, c := range d.keyN {
		v[[]string{"int_key", "int_key2"}[i]] = c
	}
	for _, p := range []struct{ a, b string }{{"t", "s"}, {"h", "d"}, {"t", "d"}, {"t", "k"}, {"h", "del"}} {
		v["join_"+p.a+"_"+p.b] = d.keyJoin(p.a, p.b)
	}
	for _, p := range []string{"d", "t"} {
		v[p+"_key_cols"] = prefixed(p, d.keyCols)
	}
	var changed, set, params []string
	for _, c := range append(append([]string{}, d.cols...), "raw") {
		changed = append(changed, "CASE WHEN t."+c+" IS DISTINCT FROM s."+c+" THEN '"+c+"' END")
		set = append(set, c+" = d."+c)
	}
	v["changed_columns"] = "\n    " + strings.Join(append(changed, "CASE WHEN t.deleted_at IS NOT NULL THEN 'deleted_at' END"), ",\n    ") + "\n  "
	v["set_cols"] = strings.Join(set, ", ")
	for i, c := range d.keyCols {
		params = append(params, fmt.Sprintf("%s = $%d", c, i+1))
	}
	v["key_params"] = strings.Join(params, " AND ")
	return v
}

// stagingTable is the temporary table d's rows are staged in.
func (d *entityDef) stagingTable() string { return "stg_" + string(d.name) }

// deletesTable is the temporary table of the keys Publish soft-deletes.
func (d *entityDef) deletesTable() string { return "del_" + string(d.name) }

// keyArgs are k's values in keyCols order (newEntityDef puts the text part first).
func (d *entityDef) keyArgs(k rowKey) []any {
	var args []any
	if d.keyS != "" {
		args = append(args, k.s)
	}
	for i := range d.keyN {
		args = append(args, k.n[i])
	}
	return args
}

// keyJoin renders "a.k1 = b.k1 AND a.k2 = b.k2".
func (d *entityDef) keyJoin(a, b string) string {
	parts := make([]string, len(d.keyCols))
	for i, c := range d.keyCols {
		parts[i] = a + "." + c + " = " + b + "." + c
	}
	return strings.Join(parts, " AND ")
}

// prefixed renders "p.c1, p.c2".
func prefixed(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + "." + c
	}
	return strings.Join(out, ", ")
}
