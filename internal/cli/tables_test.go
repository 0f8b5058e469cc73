package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// tablesJSON runs syncer tables --output json with args and parses its answer.
func tablesJSON(t *testing.T, args ...string) tablesDoc {
	t.Helper()
	code, out, errs := runCLI(t, nil, append([]string{"tables", "--output", "json"}, args...)...)
	if code != exitOK || errs != "" {
		t.Fatalf("syncer tables --output json: exit %d, stderr %q", code, errs)
	}
	var doc tablesDoc
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("parsing %s: %v", out, err)
	}
	return doc
}

// tablesMigrated reads every table and view of schema: its comment, its primary key and its
// columns in order.
func tablesMigrated(t *testing.T, q dbtest.Querier, schema string) map[string]tablesRelation {
	t.Helper()
	rows, err := q.Query(t.Context(), `
SELECT c.relname::text, coalesce(obj_description(c.oid, 'pg_class'), ''),
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
          JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary),
       array_agg(a.attname::text ORDER BY a.attnum), array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum),
       array_agg(coalesce(col_description(c.oid, a.attnum), '') ORDER BY a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
GROUP BY c.oid, c.relname`, schema)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]tablesRelation{}
	var (
		name, comment        string
		key, cols, types, cs []string
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &comment, &key, &cols, &types, &cs}, func() error {
		r := tablesRelation{Name: name, Description: comment, Key: key}
		for i := range cols {
			r.Columns = append(r.Columns, tablesColumn{Name: cols[i], Type: types[i], Description: cs[i]})
		}
		out[name] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The JSON answer names every entity with its key and columns, and every table and view, and
// they are the migrated schema: the same relations, keys, columns in order, types, and the
// comments the migrations set.
func TestTablesJSONIsTheMigratedSchema(t *testing.T) {
	t.Parallel()
	doc := tablesJSON(t)
	var names []string
	for _, e := range doc.Entities {
		names = append(names, e.Name)
	}
	var want []string
	for _, n := range entity.Names() {
		want = append(want, string(n))
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entities (-registry +json):\n%s", diff)
	}

	pool, schema := dbtest.New(t)
	migrated := tablesMigrated(t, pool, schema)
	listed := map[string]tablesRelation{}
	for _, r := range doc.Tables {
		listed[r.Name] = r
		m, ok := migrated[r.Name]
		if !ok {
			t.Errorf("tables lists %s, which the migrated schema lacks", r.Name)
			continue
		}
		if r.Description == "" || r.Description != m.Description {
			t.Errorf("%s: description %q, its comment %q", r.Name, r.Description, m.Description)
		}
		if diff := cmp.Diff(m.Key, r.Key); diff != "" {
			t.Errorf("%s: key (-schema +json):\n%s", r.Name, diff)
		}
		got := make([]tablesColumn, len(r.Columns))
		for i, c := range r.Columns {
			got[i] = tablesColumn{Name: c.Name, Type: c.Type, Description: c.Description}
		}
		if diff := cmp.Diff(m.Columns, got); diff != "" {
			t.Errorf("%s: columns (-schema +json):\n%s", r.Name, diff)
		}
	}
	for name := range migrated {
		if _, ok := listed[name]; !ok {
			t.Errorf("the migrated schema has %s, which tables does not list", name)
		}
	}
	for _, e := range doc.Entities {
		m := migrated[e.Table]
		if diff := cmp.Diff(m.Key, e.Key); diff != "" {
			t.Errorf("entity %s: key (-schema +json):\n%s", e.Name, diff)
		}
		if len(e.Columns) > len(m.Columns) {
			t.Errorf("entity %s: %d columns, its table has %d", e.Name, len(e.Columns), len(m.Columns))
			continue
		}
		for i, c := range e.Columns {
			if mc := m.Columns[i]; c.Name != mc.Name || c.Type != mc.Type || c.Description != mc.Description || c.From == "" ||
				c.Key != slices.Contains(m.Key, c.Name) {
				t.Errorf("entity %s: column %d is %+v, its table's %+v", e.Name, i, c, mc)
			}
		}
		if _, ok := migrated[e.HistoryTable]; !ok || e.Endpoint == "" || e.Per == "" {
			t.Errorf("entity %s: history table %s (in the schema: %v), endpoint %q per %q", e.Name, e.HistoryTable, ok, e.Endpoint, e.Per)
		}
	}
}

// The entities' facts come from the registry: the endpoint, the listings before it, the scope
// and what an entity implies.
func TestTablesJSONEntityFacts(t *testing.T) {
	t.Parallel()
	doc := tablesJSON(t, "--entities", "agents,users")
	want := []tablesEntity{{
		Name: "users", Table: "users", HistoryTable: "users_history", Scope: "all",
		Endpoint: "GET /voice/api/v1/admin/users?flatten=true", Per: "run", After: []string{}, Implies: []string{},
		SinceMigration: 1, Key: []string{"user_id"},
	}, {
		Name: "agents", Table: "agents", HistoryTable: "agents_history", Scope: "sub_account",
		Endpoint: "GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents", Per: "agent group",
		After:   []string{"GET /voice/api/v1/admin/accounts", "GET /voice/api/v1/admin/accounts/{accountId}/agentGroups"},
		Implies: []string{"agent_groups"}, SinceMigration: 1, Key: []string{"sub_account_id", "agent_id"},
	}}
	got := slices.Clone(doc.Entities)
	for i := range got {
		got[i].Description, got[i].Columns = "", nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entities (-want +got):\n%s", diff)
	}
	var tables []string
	for _, r := range doc.Tables {
		tables = append(tables, r.Name)
	}
	if diff := cmp.Diff([]string{"users", "users_history", "agents", "agents_history"}, tables); diff != "" {
		t.Errorf("tables of --entities agents,users (-want +got):\n%s", diff)
	}
}

// The text listing shows every relation with its columns, and an entity's endpoint, and needs
// no configuration (none is given, and no database answers at the default URL's name).
func TestTablesText(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, map[string]string{"EVSYNC_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}, "tables")
	if code != exitOK || errs != "" {
		t.Fatalf("syncer tables: exit %d, stderr %q", code, errs)
	}
	for _, r := range tablesOf(nil).Tables {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(r.Name) + ` \(`).MatchString(out) {
			t.Errorf("the listing has no heading for %s", r.Name)
		}
		for _, c := range r.Columns {
			if !strings.Contains(out, "  "+c.Name+" ") || !strings.Contains(out, c.Description) {
				t.Errorf("the listing lacks column %s.%s or its meaning", r.Name, c.Name)
			}
		}
	}
	for _, want := range []string{
		"reads    GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills (one request per queue group)",
		"implies  queue_groups (a run of skills lists and publishes them too)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the listing lacks %q", want)
		}
	}
	code, out, _ = runCLI(t, nil, "tables", "--entities", "skills")
	if code != exitOK || !strings.Contains(out, "\nskills_history (history table)") || strings.Contains(out, "\nsync_runs (") ||
		strings.Contains(out, "\nagents (") {
		t.Errorf("syncer tables --entities skills: exit %d, or not skills and its history only:\n%s", code, out)
	}
}

func TestTablesUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tables", "--entities", "gates"}, `syncer: --entities: unknown entity "gates"`},
		{[]string{"tables", "--entities", ""}, `syncer: --entities: empty entity`},
		{[]string{"tables", "--output", "yaml"}, `invalid argument "yaml" for "--output" flag: must be one of text, json, markdown`},
		{[]string{"tables", "agents"}, `tables: unexpected argument "agents"`},
	} {
		code, out, errs := runCLI(t, nil, tt.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errs, tt.want)
		}
	}
}

// docs/tables.md is what syncer tables --output markdown prints.
func TestTablesMarkdownIsTheDoc(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, nil, "tables", "--output", "markdown")
	if code != exitOK || errs != "" {
		t.Fatalf("syncer tables --output markdown: exit %d, stderr %q", code, errs)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "tables.md"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(doc), out); diff != "" {
		t.Errorf("docs/tables.md is not the output of syncer tables --output markdown "+
			"(go run ./cmd/syncer tables --output markdown > docs/tables.md) (-doc +output):\n%s", diff)
	}
}

// tablesMDRows reads the rows of the first Markdown table after heading in text: the first
// backquoted word of the first cell, and the second cell.
func tablesMDRows(t *testing.T, text, heading string) map[string]string {
	t.Helper()
	_, section, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no %q section", heading)
	}
	rows := map[string]string{}
	started := false
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(line, " | ")
		m := regexp.MustCompile("`([^`]+)`").FindStringSubmatch(cells[0])
		if m == nil || len(cells) < 2 {
			continue // the header and its rule
		}
		rows[m[1]] = strings.TrimSpace(cells[1])
	}
	return rows
}

// docs/schema.md's tables table and the data dictionary agree on the tables and their keys:
// every entity and ledger table has its row there with the same key, history tables are the
// row <entity>_history keyed (key…, valid_from), and every view is named.
func TestTablesMarkdownAgreesWithTheSchemaDoc(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc := string(b)
	doc := tablesMDRows(t, schemaDoc, "## Tables")
	type row struct{ kind, key string }
	dict := map[string]row{}
	for line := range strings.SplitSeq(tablesMarkdown(tablesOf(nil)), "\n") {
		cells := strings.Split(line, " | ")
		if m := regexp.MustCompile("^\\| \\[`([^`]+)`\\]").FindStringSubmatch(line); m != nil && len(cells) == 4 {
			dict[m[1]] = row{kind: cells[1], key: cells[2]}
		}
	}
	if len(dict) == 0 {
		t.Fatal("no table read from the data dictionary")
	}
	if doc["<entity>_history"] != "`(key…, valid_from)`" {
		t.Errorf("docs/schema.md's <entity>_history row has key %q, want `(key…, valid_from)`", doc["<entity>_history"])
	}
	for name, r := range dict {
		switch r.kind {
		case "history":
			base := dict[strings.TrimSuffix(name, "_history")].key
			if want := "`(" + strings.Trim(base, "`()") + ", valid_from)`"; r.key != want {
				t.Errorf("%s: key %s, want %s", name, r.key, want)
			}
		case "view":
			if !strings.Contains(schemaDoc, "`"+name+"`") {
				t.Errorf("docs/schema.md does not name the view %s", name)
			}
		default:
			if got, ok := doc[name]; !ok || got != r.key {
				t.Errorf("docs/schema.md's tables table: %s has key %q (row %v), the data dictionary %q", name, got, ok, r.key)
			}
		}
	}
	for name := range doc {
		if _, ok := dict[name]; !ok && name != "<entity>_history" {
			t.Errorf("docs/schema.md's tables table has %s, which the data dictionary lacks", name)
		}
	}
}
