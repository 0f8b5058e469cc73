package db

import (
	"cmp"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateCheck returns nil when schema holds every embedded migration, and otherwise an error
// naming the schema and saying what it lacks (it does not exist, it was never migrated, or
// migrations are pending). Cheap enough for a readiness probe: two queries on one of pool's
// connections (migrationsRead); it takes no lock (a migration in progress does not block it)
// and creates nothing.
func MigrateCheck(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	schema = cmp.Or(schema, SchemaDefault)
	if err := CheckSchema(schema); err != nil {
		return fmt.Errorf("checking schema name: %w", err)
	}
	ms, err := migrationsRead(ctx, pool, schema)
	switch {
	case err != nil:
		return err
	case !ms.Exists:
		return fmt.Errorf("schema %s does not exist", schema)
	case !ms.Versioned:
		return fmt.Errorf("schema %s is not migrated (it has no goose_db_version table)", schema)
	case ms.pending() > 0:
		return fmt.Errorf("schema %s has migrations pending", schema)
	}
	return nil
}
