package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
)

func newTablesCmd(a *app) *cobra.Command {
	var entities string
	cmd := &cobra.Command{
		Use:   "tables [--entities LIST] [--output text|json|markdown]",
		Short: "describe every table, view and column, and the API endpoint each entity reads",
		Long: "Describes the schema evsync writes: each entity's table, key and columns (their type, " +
			"meaning and API field), the endpoint it reads and what it implies, and the history, ledger and " +
			"drift tables and the views. It needs no configuration, database or network. The same text is " +
			"each table's, view's and column's comment in the database.",
		Args: noArgs,
	}
	format := addFormatFlag(cmd, formatJSON, formatMarkdown)
	cmd.Flags().StringVar(&entities, "entities", "", "comma-separated `LIST` of entities to describe ("+config.EntityNames(",")+
		"), with their history tables only; default every table and view")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var sel []entity.Name
		if cmd.Flags().Changed("entities") {
			var err error
			if sel, err = parseEntities("--entities", entities); err != nil {
				return err
			}
		}
		return cmdTables(a.stdout, format, sel)
	}
	return cmd
}

// tablesDoc is the answer of `syncer tables --output json` (docs/output.md).
type tablesDoc struct {
	Entities []tablesEntity   `json:"entities"`
	Tables   []tablesRelation `json:"tables"`
}

// tablesEntity is one entity: where its rows come from and what they hold.
type tablesEntity struct {
	Name           string         `json:"name"`
	Table          string         `json:"table"`
	HistoryTable   string         `json:"history_table"`
	Description    string         `json:"description"`
	Key            []string       `json:"key"`
	Scope          string         `json:"scope"`
	Endpoint       string         `json:"endpoint"`
	Per            string         `json:"per"`
	After          []string       `json:"after"`
	Implies        []string       `json:"implies"`
	SinceMigration int64          `json:"since_migration"`
	Columns        []tablesSource `json:"columns"`
}

// tablesSource is a key or typed column of an entity and the API field it is read from.
type tablesSource struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Key         bool   `json:"key"`
	Description string `json:"description"`
	From        string `json:"from"`
}

// tablesRelation is one table or view of the schema.
type tablesRelation struct {
	Name        string         `json:"name"`
	Kind        string         `json:"kind"`
	Entity      *string        `json:"entity"`
	Description string         `json:"description"`
	Key         []string       `json:"key"`
	Columns     []tablesColumn `json:"columns"`
}

// tablesColumn is one column of a table or view.
type tablesColumn struct {
	Name        string  `json:"name"`
	Type        string  `json:"type"`
	Role        *string `json:"role"`
	Description string  `json:"description"`
}

// tablesOf describes the entities sel (every one when nil) and the relations of the schema:
// with a selection, only those entities' tables and history tables.
func tablesOf(sel []entity.Name) tablesDoc {
	doc := tablesDoc{Entities: []tablesEntity{}, Tables: []tablesRelation{}}
	picked := func(d *entity.Desc) bool { return sel == nil || slices.Contains(sel, d.Name) }
	for _, d := range entity.All() {
		if picked(d) {
			doc.Entities = append(doc.Entities, tablesEntityOf(d))
		}
	}
	for _, r := range db.Relations() {
		if sel != nil && (r.Entity == nil || !picked(r.Entity)) {
			continue
		}
		t := tablesRelation{Name: r.Name, Kind: string(r.Kind), Description: r.Doc, Key: r.Key, Columns: []tablesColumn{}}
		if r.Entity != nil {
			name := string(r.Entity.Name)
			t.Entity = &name
		}
		for _, c := range r.Columns {
			col := tablesColumn{Name: c.Name, Type: c.Type, Description: c.Doc}
			if c.Role != "" {
				role := string(c.Role)
				col.Role = &role
			}
			t.Columns = append(t.Columns, col)
		}
		doc.Tables = append(doc.Tables, t)
	}
	return doc
}

// tablesEntityOf describes entity d.
func tablesEntityOf(d *entity.Desc) tablesEntity {
	e := tablesEntity{Name: string(d.Name), Table: string(d.Name), HistoryTable: string(d.Name) + "_history",
		Description: d.Doc, Scope: entity.ScopeAll, Endpoint: d.Listing.Path, Per: d.Listing.Per,
		After: []string{}, Implies: []string{}, SinceMigration: d.Since}
	if d.Scoped() {
		e.Scope = "sub_account"
	}
	for p := d.Listing.Parent; p != nil; p = p.Parent {
		e.After = slices.Insert(e.After, 0, p.Path)
	}
	for _, n := range d.Implies {
		e.Implies = append(e.Implies, string(n))
	}
	for _, c := range d.Key {
		e.Key = append(e.Key, c.Name)
		e.Columns = append(e.Columns, tablesSource{Name: c.Name, Type: c.Kind.SQL(), Key: true, Description: c.Doc, From: c.From})
	}
	for _, c := range d.Columns {
		e.Columns = append(e.Columns, tablesSource{Name: c.Name, Type: c.Kind.SQL(), Description: c.Doc, From: c.From})
	}
	return e
}

// cmdTables writes the description of the entities sel (every one when nil) and of the schema.
func cmdTables(w io.Writer, format *formatFlag, sel []entity.Name) error {
	doc := tablesOf(sel)
	switch {
	case format.is(formatJSON):
		return writeJSON(w, "the tables", doc)
	case format.is(formatMarkdown):
		if _, err := io.WriteString(w, tablesMarkdown(doc)); err != nil {
			return fmt.Errorf("writing the tables: %w", err)
		}
		return nil
	}
	if _, err := io.WriteString(w, tablesText(doc)); err != nil {
		return fmt.Errorf("writing the tables: %w", err)
	}
	return nil
}

// entity returns doc's entity named name, nil when it has none.
func (doc *tablesDoc) entity(name string) *tablesEntity {
	for i := range doc.Entities {
		if doc.Entities[i].Name == name {
			return &doc.Entities[i]
		}
	}
	return nil
}

// from returns the API field entity e reads column name from ("" for one it does not).
func (e *tablesEntity) from(name string) string {
	for _, c := range e.Columns {
		if c.Name == name {
			return c.From
		}
	}
	return ""
}

// tablesScope says how an entity's rows divide into scopes.
func tablesScope(scope string) string {
	if scope == entity.ScopeAll {
		return "one scope per run"
	}
	return "one scope per sub-account"
}

// tablesText is the listing `syncer tables` prints: each relation, its facts and its columns.
func tablesText(doc tablesDoc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The tables and views evsync writes in its schema (database.schema, default engage): %s, %s.\n",
		tablesCount(len(doc.Entities), "entity", "entities"), tablesCount(len(doc.Tables), "relation", "relations"))
	for _, t := range doc.Tables {
		fmt.Fprintf(&b, "\n%s (%s)\n  %s\n", t.Name, tablesKind(t.Kind), t.Description)
		var e *tablesEntity
		if t.Entity != nil && t.Kind == string(db.KindEntity) {
			e = doc.entity(*t.Entity)
		}
		var facts []string
		if e != nil {
			facts = append(facts, fmt.Sprintf("  reads\t%s (one request per %s)\n", e.Endpoint, e.Per))
			if len(e.After) > 0 {
				facts = append(facts, fmt.Sprintf("  after\t%s\n", strings.Join(e.After, ", ")))
			}
			if len(e.Implies) > 0 {
				facts = append(facts, fmt.Sprintf("  implies\t%s (a run of %s lists and publishes them too)\n", strings.Join(e.Implies, ", "), e.Name))
			}
			facts = append(facts, fmt.Sprintf("  scope\t%s\n", tablesScope(e.Scope)), fmt.Sprintf("  history\t%s\n", e.HistoryTable),
				fmt.Sprintf("  since\tmigration %d\n", e.SinceMigration))
		}
		if t.Key != nil {
			facts = append(facts, fmt.Sprintf("  key\t%s\n", strings.Join(t.Key, ", ")))
		}
		tablesAligned(&b, facts)
		b.WriteString("\n")
		cols := []string{"  COLUMN\tTYPE\tMEANING\n"}
		if e != nil {
			cols = []string{"  COLUMN\tTYPE\tFROM THE API\tMEANING\n"}
		}
		for _, c := range t.Columns {
			if e == nil {
				cols = append(cols, fmt.Sprintf("  %s\t%s\t%s\n", c.Name, c.Type, c.Description))
				continue
			}
			cols = append(cols, fmt.Sprintf("  %s\t%s\t%s\t%s\n", c.Name, c.Type, cmp.Or(e.from(c.Name), "-"), c.Description))
		}
		tablesAligned(&b, cols)
	}
	return b.String()
}

// tablesCount writes n and the noun: "1 entity", "12 entities".
func tablesCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// tablesAligned writes lines of tab-separated cells to b, the cells of each column aligned.
func tablesAligned(b *strings.Builder, lines []string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		_, _ = io.WriteString(tw, l) // a strings.Builder does not fail
	}
	_ = tw.Flush()
}

// tablesKind names a relation kind for people.
func tablesKind(kind string) string {
	switch db.RelationKind(kind) {
	case db.KindEntity:
		return "entity table"
	case db.KindHistory:
		return "history table"
	case db.KindStream:
		return "stream table"
	case db.KindLedger:
		return "ledger table"
	case db.KindView:
		return "view"
	}
	return kind
}

// tablesCell is s as a Markdown table cell: its pipes escaped.
func tablesCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// tablesKey writes a key as docs/schema.md does: `a`, or `(a, b)`.
func tablesKey(key []string) string {
	switch len(key) {
	case 0:
		return ""
	case 1:
		return "`" + key[0] + "`"
	}
	return "`(" + strings.Join(key, ", ") + ")`"
}

// tablesMarkdown is the data dictionary `syncer tables --output markdown` prints.
func tablesMarkdown(doc tablesDoc) string {
	var b strings.Builder
	b.WriteString("# Data dictionary\n\n" +
		"The tables and views evsync writes in its schema (`database.schema`, default `engage`), as\n" +
		"`syncer tables --output markdown` prints them. The same text is each table's, view's and\n" +
		"column's comment in the database (psql: `\\d+ engage.agents`).\n")
	if len(doc.Entities) > 0 {
		b.WriteString("\n## Entities\n\n| entity | key | reads (one request per …) | after | implies |\n|---|---|---|---|---|\n")
		for _, e := range doc.Entities {
			after := make([]string, len(e.After))
			for i, p := range e.After {
				after[i] = "`" + p + "`"
			}
			implies := make([]string, len(e.Implies))
			for i, n := range e.Implies {
				implies[i] = "`" + n + "`"
			}
			fmt.Fprintf(&b, "| [`%s`](#%s) | %s | `%s` (%s) | %s | %s |\n", e.Name, e.Table, tablesKey(e.Key), e.Endpoint, e.Per,
				strings.Join(after, ", "), strings.Join(implies, ", "))
		}
	}
	b.WriteString("\n## Tables and views\n\n| table | kind | key | what it holds |\n|---|---|---|---|\n")
	for _, t := range doc.Tables {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", t.Name, t.Name, t.Kind, tablesKey(t.Key), tablesCell(t.Description))
	}
	for _, t := range doc.Tables {
		fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", t.Name, t.Description)
		var e *tablesEntity
		if t.Entity != nil && t.Kind == string(db.KindEntity) {
			e = doc.entity(*t.Entity)
		}
		if e != nil {
			fmt.Fprintf(&b, "Entity `%s`, %s: reads `%s`, one request per %s. History in [`%s`](#%s); since migration %d.\n\n",
				e.Name, tablesScope(e.Scope), e.Endpoint, e.Per, e.HistoryTable, e.HistoryTable, e.SinceMigration)
			b.WriteString("| column | type | meaning | from the API |\n|---|---|---|---|\n")
		} else {
			b.WriteString("| column | type | meaning |\n|---|---|---|\n")
		}
		for _, c := range t.Columns {
			name := "`" + c.Name + "`"
			if slices.Contains(t.Key, c.Name) {
				name += " (key)"
			}
			if e != nil {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, c.Type, tablesCell(c.Description), tablesCell(e.from(c.Name)))
			} else {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", name, c.Type, tablesCell(c.Description))
			}
		}
	}
	return b.String()
}
