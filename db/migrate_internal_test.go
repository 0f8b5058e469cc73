package db

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/evsync/evsync/migrations"
)

// The readers' list of the embedded migrations is goose's: the versions and files that
// MigrateUp applies, in its order.
func TestEmbeddedMigrationsAreGoose(t *testing.T) {
	t.Parallel()
	sqlDB := stdlib.OpenDB(pgx.ConnConfig{}) // never connects: goose lists its sources without it
	t.Cleanup(func() { _ = sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, providerOptions(SchemaDefault)...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	srcs := p.ListSources()
	if len(got) != len(srcs) || len(got) == 0 {
		t.Fatalf("embeddedMigrations lists %d, goose %d", len(got), len(srcs))
	}
	for i, s := range srcs {
		if got[i].Version != s.Version || got[i].Path != s.Path || got[i].Applied || got[i].AppliedAt != nil {
			t.Errorf("embeddedMigrations[%d] = %+v, goose's source %+v", i, got[i], *s)
		}
	}
}
