package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewRole creates a login role with the least privileges evsync needs on the database of
// dbURL (a database made by NewURL or New): CONNECT and TEMP, but not CREATE, so it may not
// create schemas. It owns each of schemas, created here (they must not exist yet). NewRole
// returns dbURL as that role. The role's objects and the role are dropped when the test
// ends, before the database; both are kept when the test failed. Close pools opened on the
// returned URL with t.Cleanup registered after this call, or before the test returns.
func NewRole(t testing.TB, dbURL string, schemas ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "evsync_role_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("dbtest: connecting to the test database: %v", err)
	}
	defer closeAdmin(ctx, conn)
	var dbName string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatalf("dbtest: reading the database's name: %v", err)
	}
	r, d := pgx.Identifier{role}.Sanitize(), pgx.Identifier{dbName}.Sanitize()
	// PUBLIC has CONNECT and TEMP on a new database: take them away and grant them to the
	// role alone, so the role's privileges on the database are exactly these two.
	stmts := []string{
		"CREATE ROLE " + r + " LOGIN",
		"REVOKE ALL ON DATABASE " + d + " FROM PUBLIC",
		"GRANT CONNECT, TEMP ON DATABASE " + d + " TO " + r,
	}
	for _, s := range schemas {
		stmts = append(stmts, "CREATE SCHEMA "+pgx.Identifier{s}.Sanitize()+" AUTHORIZATION "+r)
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("dbtest: %s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dbtest: keeping role %s of failed test", role)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("dbtest: dropping role %s: %v", role, err)
			return
		}
		defer closeAdmin(ctx, conn)
		// DROP OWNED drops the role's objects in this database and revokes its privileges on
		// the database, the role's last dependencies.
		for _, s := range []string{"DROP OWNED BY " + r + " CASCADE", "DROP ROLE " + r} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Errorf("dbtest: %s: %v", s, err)
				return
			}
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("dbtest: parsing the database URL: invalid URL")
	}
	u.User = url.User(role)
	return u.String()
}
