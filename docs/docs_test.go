// Package docs holds the tests that keep the documentation true to the code: the schema doc to
// the entity descriptions, the configuration doc to config.example.yaml, and every doc's links
// to files the repository holds.
package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/entity"
)

// root is the repository's root, seen from this package's directory.
const root = ".."

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The schema doc's tables table has a row for every entity description, naming each of its
// key and typed columns, so the documentation cannot fall behind an added entity or column.
func TestSchemaTablesMatchTheDescriptions(t *testing.T) {
	t.Parallel()
	rows := map[string]string{}
	for line := range strings.SplitSeq(readDoc(t, "docs/schema.md"), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if name, _, ok := strings.Cut(rest, "`"); ok {
				if _, seen := rows[name]; !seen {
					rows[name] = line // the first row naming it: the tables' table
				}
			}
		}
	}
	for _, d := range entity.All() {
		row, ok := rows[string(d.Name)]
		if !ok {
			t.Errorf("docs/schema.md has no table row for %s", d.Name)
			continue
		}
		for _, c := range append(append([]entity.Column{}, d.Key...), d.Columns...) {
			if !strings.Contains(row, c.Name) {
				t.Errorf("docs/schema.md's row for %s does not name its column %s", d.Name, c.Name)
			}
		}
	}
}
