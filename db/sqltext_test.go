package db

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// TestEntitySQLGolden pins every statement staging and publishing run on each entity, for
// schema engage, in testdata/sql_<entity>.golden: a reviewer reads the SQL that runs.
func TestEntitySQLGolden(t *testing.T) {
	t.Parallel()
	s, err := NewStore(nil, "engage")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entityDefs {
		t.Run(string(d.name), func(t *testing.T) {
			t.Parallel()
			got := renderEntitySQL(s.ents[d.idx])
			path := filepath.Join("testdata", "sql_"+string(d.name)+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./db -run TestEntitySQLGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s statements (-want +got):\n%s", d.name, diff)
			}
		})
	}
}

// renderEntitySQL lists the statements of es, each under its field name.
func renderEntitySQL(es *entitySQL) string {
	var b strings.Builder
	v := reflect.ValueOf(es).Elem()
	for i := range v.NumField() {
		b.WriteString("-- " + v.Type().Field(i).Name + "\n")
		b.WriteString(strings.TrimSpace(v.Field(i).String()) + ";\n\n")
	}
	return b.String()
}

func TestExpand(t *testing.T) {
	t.Parallel()
	v := map[string]string{"a": "1", "bc": "two"}
	if got := expand("x {{a}} {{bc}} '{}' '{deleted_at}' {{a}}", v); got != "x 1 two '{}' '{deleted_at}' 1" {
		t.Errorf("expand = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a placeholder without a value did not panic")
		}
	}()
	expand("{{missing}}", v)
}
