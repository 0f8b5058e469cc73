package db

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/migrations"
)

// TestEntityListSQLGolden pins the SQL that lists every entity, as rendered from the current
// registry, in testdata/entity_views.golden and testdata/entity_checks.golden, and the comments
// of the schema's relations and columns in testdata/comments.golden.
func TestEntityListSQLGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got string
	}{
		{"entity_views", EntityViewsSQL(entity.All())},
		{"entity_checks", EntityChecksSQL(entity.All(), entity.Streams(), false)},
		{"comments", CommentsSQL(Relations(), false)},
	}
	for _, tt := range tests {
		path := filepath.Join("testdata", tt.name+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(tt.got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./db -run TestEntityListSQLGolden -update)", err)
		}
		if diff := cmp.Diff(string(want), tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// The renderer writes, word for word, what migration 00004 wrote by hand: its Up the view and
// the ledger's check as of 00004, its Down both as of 00003 (the check NOT VALID).
func TestEntityListSQLIsMigration00004(t *testing.T) {
	t.Parallel()
	text, err := fs.ReadFile(migrations.FS, "00004_create_config_entities.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, down, ok := strings.Cut(string(text), "-- +goose Down")
	if !ok {
		t.Fatal("00004 has no Down section")
	}
	// firstCheck is the rendered sync_run_scopes check, the one 00004 replaced.
	firstCheck := func(s string) string {
		i := strings.Index(s, "ALTER TABLE api_fields ")
		return s[:i]
	}
	for _, tt := range []struct {
		section, text, want string
	}{
		{"Up", up, EntityViewsSQL(entity.AsOf(4))},
		{"Up", up, firstCheck(EntityChecksSQL(entity.AsOf(4), nil, false))},
		{"Down", down, EntityViewsSQL(entity.AsOf(3))},
		{"Down", down, firstCheck(EntityChecksSQL(entity.AsOf(3), nil, true))},
	} {
		if !strings.Contains(tt.text, tt.want) {
			t.Errorf("00004's %s section does not hold the rendered text:\n%s", tt.section, tt.want)
		}
	}
}
