package db_test

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// ProbeServer reports the version and, without creating anything, what the role may do: a
// superuser everything; a least-privileged role (CONNECT and TEMP only) that owns its schema
// may use and create in it but may not create another schema.
func TestProbeServer(t *testing.T) {
	t.Parallel()
	u := dbtest.NewURL(t)
	roleURL := dbtest.NewRole(t, u, "owned")
	tests := []struct {
		name   string
		url    string
		schema string
		want   db.ServerProbe
	}{
		{"superuser, missing schema", u, "missing", db.ServerProbe{Role: "postgres", DatabaseCreate: true, DatabaseTemp: true}},
		{"superuser, public", u, "public", db.ServerProbe{Role: "postgres", SchemaExists: true, SchemaUsage: true, SchemaCreate: true, DatabaseCreate: true, DatabaseTemp: true}},
		{"role, its own schema", roleURL, "owned", db.ServerProbe{SchemaExists: true, SchemaUsage: true, SchemaCreate: true, DatabaseTemp: true}},
		{"role, missing schema", roleURL, "missing", db.ServerProbe{DatabaseTemp: true}},
	}
	for _, tt := range tests {
		pool, err := db.Open(t.Context(), tt.url)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.ProbeServer(t.Context(), pool, tt.schema)
		pool.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !regexp.MustCompile(`^\d+(\.\d+)?$`).MatchString(p.ShortVersion()) || p.Database == "" {
			t.Errorf("%s: version %q, database %q", tt.name, p.Version, p.Database)
		}
		ignore := cmpopts.IgnoreFields(db.ServerProbe{}, "Version", "Database", "Role")
		if tt.want.Role != "" {
			ignore = cmpopts.IgnoreFields(db.ServerProbe{}, "Version", "Database")
		}
		if diff := cmp.Diff(tt.want, *p, ignore); diff != "" {
			t.Errorf("%s: probe (-want +got):\n%s", tt.name, diff)
		}
	}
	// Nothing was created.
	pool, err := db.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if ok, err := db.SchemaExists(t.Context(), pool, "missing"); err != nil || ok {
		t.Errorf("schema missing exists = %v, %v; want false", ok, err)
	}
}
