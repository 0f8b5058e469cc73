package dbtest_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

func TestNewIsMigratedAndDropped(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		pool, schema := dbtest.New(t)
		if schema != "engage" {
			t.Fatalf("schema %q", schema)
		}
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM engage.agents`).Scan(&n); err != nil {
			t.Fatalf("migrated table missing: %v", err)
		}
		if err := pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.HasPrefix(name, "evsync_test_") {
		t.Fatalf("database name %q", name)
	}
	conn, err := pgx.Connect(t.Context(), dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s left behind", name)
	}
}

func TestNewURLIsEmptyAndUnique(t *testing.T) {
	t.Parallel()
	a, b := dbtest.NewURL(t), dbtest.NewURL(t)
	if a == b {
		t.Fatal("two NewURL calls returned the same database")
	}
	u, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'engage'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("NewURL database is not empty: %d, %v", n, err)
	}
}
