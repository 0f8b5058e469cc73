package db

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/evsync/evsync/migrations"
)

// MigrateCheck returns nil when schema holds every embedded migration, and otherwise an error
// naming the schema and saying what it lacks (it does not exist, it was never migrated, or
// migrations are pending). Cheap enough for a readiness probe: it takes no lock (a migration
// in progress does not block it), creates nothing, and borrows one of pool's connections.
func MigrateCheck(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	schema = cmp.Or(schema, SchemaDefault)
	if err := CheckSchema(schema); err != nil {
		return fmt.Errorf("checking schema name: %w", err)
	}
	st, err := migrationStateGet(ctx, pool, schema)
	switch {
	case err != nil:
		return err
	case !st.exists:
		return fmt.Errorf("schema %s does not exist", schema)
	case !st.versioned:
		return fmt.Errorf("schema %s is not migrated (it has no goose_db_version table)", schema)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer func() { _ = sqlDB.Close() }() // leaves the pool open; nothing to report
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithTableName(schema+".goose_db_version"),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return fmt.Errorf("creating migration provider: %w", err)
	}
	defer func() { _ = p.Close() }() // releases the provider; its work is done
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("reading the migrations of schema %s: %w", schema, err)
	}
	if pending {
		return fmt.Errorf("schema %s has migrations pending", schema)
	}
	return nil
}
