package migrations_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"testing"

	"github.com/evsync/evsync/migrations"
)

// shipped are the SHA-256 sums of the migrations a release has shipped. A database that applied
// one never applies it again, so an edit would never reach it: a change gets a new migration
// (internal/tools/genmigration writes the one a change to the entity registry needs). A new
// migration is added here when it ships.
var shipped = map[string]string{
	"00001_create_tables.sql":            "baa0256946931901c2d68a2e36a6a28a859b262ddbb596a7bd39ebe9c3aaf3ce",
	"00002_create_views.sql":             "71d6ba2f7b3dfec14fa476cc43179fc09168228a32f56c0b234c1a69de5c3bd3",
	"00003_replace_entity_freshness.sql": "01a844e7052f2d7b6a1a9e5955197054f7862900ac74c051aa4403694af8910c",
	"00004_create_config_entities.sql":   "cbe7237fd4ef79cfbc421702fc479a04d71228f16d1bad1c47ce9f60ba20d2ad",
	"00005_create_api_fields.sql":        "9263159011526c1478dd1780b5e0aa041f0da971ec06c36347864bc199b0e7d9",
	"00006_comment_schema.sql":           "38dd40f8eddb04a1989f8832a6086632aae79079df95e31ca29fba90b5889e30",
}

// TestShippedMigrationsUnchanged: every shipped migration is embedded as it shipped.
func TestShippedMigrationsUnchanged(t *testing.T) {
	t.Parallel()
	for name, want := range shipped {
		b, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Errorf("shipped migration %s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("shipped migration %s was edited (sha256 %s, shipped %s): restore it and put the change in a new migration", name, got, want)
		}
	}
}
