package docs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

// docQuery is one SQL statement of a doc's ```sql block.
type docQuery struct {
	doc  string // the file, relative to the root
	line int    // the line of its block's opening fence
	sql  string
}

// sqlBlocks returns each ```sql block of text with the line of its opening fence.
func sqlBlocks(text string) (blocks []string, lines []int) {
	var b strings.Builder
	open := 0
	for n, line := range strings.Split(text, "\n") {
		switch {
		case open == 0 && strings.TrimSpace(line) == "```sql":
			open = n + 1
			b.Reset()
		case open != 0 && strings.HasPrefix(strings.TrimSpace(line), "```"):
			blocks, lines = append(blocks, b.String()), append(lines, open)
			open = 0
		case open != 0:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return blocks, lines
}

// splitSQL splits a block into its statements at the semicolons outside string literals,
// quoted identifiers and comments; each statement is returned with its comments removed and
// trimmed, and empty ones are dropped.
func splitSQL(block string) []string {
	var stmts []string
	var cur strings.Builder
	for i := 0; i < len(block); i++ {
		c := block[i]
		switch {
		case c == '-' && i+1 < len(block) && block[i+1] == '-':
			for i < len(block) && block[i] != '\n' {
				i++
			}
			cur.WriteByte('\n')
		case c == '/' && i+1 < len(block) && block[i+1] == '*':
			end := strings.Index(block[i+2:], "*/")
			if end < 0 {
				i = len(block)
			} else {
				i += end + 3
			}
			cur.WriteByte(' ')
		case c == '\'' || c == '"':
			end := i + 1
			for end < len(block) && block[end] != c {
				end++
			}
			cur.WriteString(block[i:min(end+1, len(block))])
			i = end
		case c == ';':
			stmts = append(stmts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	stmts = append(stmts, cur.String())
	out := stmts[:0]
	for _, s := range stmts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readOnly reports whether every statement is a query: it begins with SELECT or WITH (a WITH
// that writes is refused by the read-only transaction it runs in).
func readOnly(stmts []string) bool {
	for _, s := range stmts {
		if word := strings.ToUpper(strings.Fields(s)[0]); word != "SELECT" && word != "WITH" {
			return false
		}
	}
	return len(stmts) > 0
}

// docQueries returns the statements of the ```sql blocks of README.md and docs/*.md that are
// queries (see readOnly); blocks with any other statement (the privileges' CREATE ROLE and
// GRANT, say) are left out and returned as skipped ("file:line").
func docQueries(t *testing.T) (queries []docQuery, skipped []string) {
	t.Helper()
	docs := []string{"README.md"}
	for _, f := range repoFiles(t, ".md") {
		if strings.HasPrefix(f, "docs/") {
			docs = append(docs, f)
		}
	}
	for _, doc := range docs {
		blocks, lines := sqlBlocks(readDoc(t, doc))
		for i, block := range blocks {
			stmts := splitSQL(block)
			if !readOnly(stmts) {
				skipped = append(skipped, fmt.Sprintf("%s:%d", doc, lines[i]))
				continue
			}
			for _, s := range stmts {
				queries = append(queries, docQuery{doc: doc, line: lines[i], sql: s})
			}
		}
	}
	return queries, skipped
}

func TestSplitSQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		block string
		want  []string
	}{
		{"two statements", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"no final semicolon", "SELECT 1", []string{"SELECT 1"}},
		{"comments", "-- a; b\nSELECT 1; /* c; d */ SELECT 2 -- e;\n", []string{"SELECT 1", "SELECT 2"}},
		{"literals", "SELECT ';', \"a;b\" FROM t;", []string{"SELECT ';', \"a;b\" FROM t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitSQL(tt.block)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("splitSQL(%q) = %q, want %q", tt.block, got, tt.want)
			}
		})
	}
	if readOnly(splitSQL("SELECT 1; GRANT x TO y;")) {
		t.Error("readOnly: a block with a GRANT counts as read-only")
	}
	if !readOnly(splitSQL("-- q\nWITH a AS (SELECT 1) SELECT * FROM a;\nselect 2;")) {
		t.Error("readOnly: a block of WITH and SELECT does not count as read-only")
	}
}

// Every query the README and docs/ show runs on a freshly migrated schema: each statement of
// their ```sql blocks (those made of queries only) is run in a read-only transaction on a
// database of its own, with a search path that holds no evsync schema, so a query that names
// a column or table the schema lacks, or does not say `engage.`, fails here. The tables are
// empty: the test proves the queries parse and plan against the real schema, not their
// results.
func TestDocQueriesRunOnTheSchema(t *testing.T) {
	t.Parallel()
	queries, skipped := docQueries(t)
	if len(queries) < 10 {
		t.Fatalf("only %d doc queries found: has the ```sql fence changed?", len(queries))
	}
	t.Logf("%d queries; blocks left out (not only SELECT or WITH): %v", len(queries), skipped)
	pool, schema := dbtest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, q := range queries {
		err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL search_path = pg_catalog"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, q.sql)
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		})
		if err != nil {
			t.Errorf("%s:%d: the query fails on a migrated schema %q: %v\n%s", q.doc, q.line, schema, err, q.sql)
		}
	}
}
