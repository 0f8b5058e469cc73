// Package dbtest gives tests their own PostgreSQL database on the server named by
// TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432). Every database is created
// fresh (a migrated one as a clone of a template database), named uniquely, and dropped when
// the test ends (kept, with its URL logged, when the test failed). Tests never skip for lack
// of a server: they fail with one line saying how to start one.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
)

// URLDefault is the server used when TEST_DATABASE_URL is not set.
const URLDefault = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Schema is the schema New migrates.
const Schema = db.SchemaDefault

// AdminURL returns TEST_DATABASE_URL, or URLDefault when it is not set.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return URLDefault
}

// New creates a fresh database, migrated (schema "engage"), and returns a pool on it and
// the schema name. The pool is closed and the database dropped when the test ends. The
// database is a clone of a migrated template: see NewMigratedURL.
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	u := NewMigratedURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool, err := db.Open(ctx, u)
	if err != nil {
		t.Fatalf("dbtest: opening test database: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by NewMigratedURL
	return pool, Schema
}

// NewMigratedURL creates a fresh database in the state db.MigrateUp leaves (schema "engage")
// and returns its URL, as NewURL does. It is a clone of a template database that the
// first call of a test binary makes when the server lacks it, named by a hash of the
// embedded migrations, so a changed migration makes a new one. The clone's goose version
// table dates the migrations from when the template was made.
func NewMigratedURL(t testing.TB) string {
	t.Helper()
	tpl, err := migrated()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return newDatabase(t, &tpl)
}

// NewURL creates a fresh, empty (unmigrated) database and returns its URL. The database is
// dropped when the test ends, after the test's other cleanups (so close pools opened on it
// with t.Cleanup registered after this call, or before the test returns).
func NewURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, nil)
}

// newDatabase creates a database, empty or a clone of tpl, as NewURL describes.
func newDatabase(t testing.TB, tpl *template) string {
	t.Helper()
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // may make tpl
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("dbtest: no PostgreSQL at TEST_DATABASE_URL (default %s): start one (e.g. `pg_ctlcluster 15 main start` or `docker compose up -d postgres`) or set TEST_DATABASE_URL: %v", URLDefault, err)
	}
	defer closeAdmin(ctx, conn)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "evsync_test_" + sanitize(t.Name()) + "_" + hex.EncodeToString(b[:])
	if tpl == nil {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("dbtest: creating database %s: %v", name, err)
		}
	} else if err := cloneTemplate(ctx, conn, admin, *tpl, name); err != nil {
		t.Fatalf("dbtest: creating database %s: %v", name, err)
	}
	dbURL, err := databaseURL(admin, name)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dbtest: keeping database of failed test: %s", dbURL)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("dbtest: dropping database %s: %v", name, err)
			return
		}
		defer closeAdmin(ctx, conn)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: dropping database %s: %v", name, err)
		}
	})
	return dbURL
}

// closeAdmin closes a connection to the admin database. Its error is dropped on purpose: the
// CREATE or DROP it served has already succeeded or been reported, and a connection that fails
// to close cleanly leaves nothing behind for the test to act on.
func closeAdmin(ctx context.Context, conn *pgx.Conn) {
	_ = conn.Close(ctx)
}

// sanitize keeps a short, identifier-safe form of a test name.
func sanitize(name string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
		if sb.Len() >= 30 {
			break
		}
	}
	return sb.String()
}

// Store returns a db.Store over pool for schema, failing the test when the schema is refused.
func Store(t testing.TB, pool *pgxpool.Pool, schema string, opts ...db.StoreOption) *db.Store {
	t.Helper()
	s, err := db.NewStore(pool, schema, opts...)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return s
}
