package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/entity"
)

// The README's "What lands where" table has a row for every entity description, naming each of
// its key and typed columns, so the documentation cannot fall behind an added entity or column.
func TestReadmeTablesMatchTheDescriptions(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
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
			t.Errorf("README has no table row for %s", d.Name)
			continue
		}
		for _, c := range append(append([]entity.Column{}, d.Key...), d.Columns...) {
			if !strings.Contains(row, c.Name) {
				t.Errorf("README's row for %s does not name its column %s", d.Name, c.Name)
			}
		}
	}
}
