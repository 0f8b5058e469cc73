package db

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"

	"github.com/evsync/evsync/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// SchemaDefault is the target schema when none is given.
const SchemaDefault = "engage"

// MigrateUp applies every pending migration to schema (created if missing). Concurrent
// callers are serialised by a Postgres session advisory lock.
func MigrateUp(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return withProvider(ctx, pool, schema, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrating up: %w", err)
		}
		return nil
	})
}

// MigrateDown rolls back the latest applied migration of schema (one step).
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return withProvider(ctx, pool, schema, func(p *goose.Provider) error {
		if _, err := p.Down(ctx); err != nil {
			return fmt.Errorf("migrating down: %w", err)
		}
		return nil
	})
}

// MigrateStatus writes one line per known migration of schema to w: version, state, file.
func MigrateStatus(ctx context.Context, pool *pgxpool.Pool, schema string, w io.Writer) error {
	return withProvider(ctx, pool, schema, func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("reading migration status: %w", err)
		}
		for _, m := range st {
			applied := "pending"
			if m.State == goose.StateApplied {
				applied = "applied " + m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			if _, err := fmt.Fprintf(w, "%05d  %-28s  %s\n", m.Source.Version, applied, m.Source.Path); err != nil {
				return fmt.Errorf("writing migration status: %w", err)
			}
		}
		return nil
	})
}

// withProvider runs fn with a goose provider whose connections use schema as search_path.
func withProvider(ctx context.Context, pool *pgxpool.Pool, schema string, fn func(*goose.Provider) error) error {
	schema = cmp.Or(schema, SchemaDefault)
	if err := checkSchema(schema); err != nil {
		return err
	}
	// CREATE SCHEMA IF NOT EXISTS races with itself: serialise it like the migrations.
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("goose", schema)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("creating schema: %w", err)
	}
	cc := pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["search_path"] = schema
	// DDL on a big table can take a while; migrations are not subject to the pool's timeout.
	cc.RuntimeParams["statement_timeout"] = "0"
	sqlDB := stdlib.OpenDB(*cc)
	defer sqlDB.Close()
	sqlDB.SetMaxOpenConns(2)

	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockKey("goose", schema)),
		lock.WithLockTimeout(1, 300),
		lock.WithUnlockTimeout(1, 60),
	)
	if err != nil {
		return fmt.Errorf("creating migration locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithTableName(schema+".goose_db_version"),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return fmt.Errorf("creating migration provider: %w", err)
	}
	defer p.Close()
	return fn(p)
}

// lockKey derives a stable advisory-lock key from a purpose and a schema name.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, "evsync:"+purpose+":"+schema)
	return int64(h.Sum64())
}
