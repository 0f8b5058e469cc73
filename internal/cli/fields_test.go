package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// sync and status print at most maxChangesPrinted field changes, then how many more there
// are (issue 21: a run past the path cap printed 500 rows); a list that fits is printed whole.
func TestFieldChangesPrintedAtMostAScreenful(t *testing.T) {
	t.Parallel()
	changes := func(n int) []db.FieldChange {
		var cs []db.FieldChange
		for i := range n {
			cs = append(cs, db.FieldChange{Entity: entity.Agents, Path: fmt.Sprintf("k%05d", i), Change: db.FieldAdded, NewType: "number"})
		}
		return cs
	}
	row := regexp.MustCompile(`(?m)^\s+agents\s+added\s+k\d{5}\s`)
	tests := []struct {
		name     string
		n        int
		rows     int
		more     string
		announce string
	}{
		{"fits", maxChangesPrinted, maxChangesPrinted, "", fmt.Sprintf("%d changes", maxChangesPrinted)},
		{"one too many", maxChangesPrinted + 1, maxChangesPrinted, "… and 1 more", fmt.Sprintf("%d changes", maxChangesPrinted+1)},
		{"past the cap", 500, maxChangesPrinted, fmt.Sprintf("… and %d more", 500-maxChangesPrinted), "500 changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := changes(tt.n)
			outputs := map[string]*bytes.Buffer{"sync": {}, "status": {}}
			printRunFields(&output{w: outputs["sync"]}, false, []db.EntityFields{{Entity: entity.Agents, Objects: 1, Paths: tt.n}}, cs)
			printFieldStatus(&output{w: outputs["status"]}, &db.FieldStatus{Paths: int64(tt.n), Entities: 1, RunID: 2, Changes: cs})
			for cmd, buf := range outputs {
				out := buf.String()
				if got := len(row.FindAllString(out, -1)); got != tt.rows {
					t.Errorf("%s printed %d change rows, want %d:\n%s", cmd, got, tt.rows, out)
				}
				if tt.more != "" && !strings.Contains(out, tt.more) {
					t.Errorf("%s does not say %q:\n%s", cmd, tt.more, out)
				}
				if tt.more == "" && strings.Contains(out, "more") {
					t.Errorf("%s says there are more:\n%s", cmd, out)
				}
				if cmd == "sync" && !strings.Contains(out, tt.announce) {
					t.Errorf("%s does not announce %q:\n%s", cmd, tt.announce, out)
				}
				// The first ones, in order, are those printed.
				if !strings.Contains(out, "k00000") || strings.Contains(out, fmt.Sprintf("k%05d", tt.rows)) {
					t.Errorf("%s printed other changes than the first %d:\n%s", cmd, tt.rows, out)
				}
			}
		})
	}
}
