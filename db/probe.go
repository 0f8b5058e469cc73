package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ServerProbe is what one read-only query tells of the server and of the connected role's
// privileges for a schema: enough to say, before a first run, whether the role may run evsync
// there. A role that may use and create in its schema (owning it is enough) and create
// temporary tables may run; CREATE on the database is needed only to create a missing schema.
type ServerProbe struct {
	Version        string // server_version, e.g. "15.19 (Debian 15.19-1.pgdg120+1)"
	Database       string // current_database()
	Role           string // current_user
	SchemaExists   bool   // the schema exists
	SchemaUsage    bool   // USAGE on the schema (false when it does not exist)
	SchemaCreate   bool   // CREATE on the schema (false when it does not exist)
	DatabaseCreate bool   // CREATE on the database: may create schemas
	DatabaseTemp   bool   // TEMPORARY on the database: may create the staging tables
}

// ShortVersion is the version number alone ("15.19").
func (p *ServerProbe) ShortVersion() string {
	v, _, _ := strings.Cut(p.Version, " ")
	return v
}

// ProbeServer reads the server's version and the connected role's privileges for schema with
// has_database_privilege and has_schema_privilege. It writes nothing and creates nothing.
func ProbeServer(ctx context.Context, pool *pgxpool.Pool, schema string) (*ServerProbe, error) {
	var p ServerProbe
	err := pool.QueryRow(ctx, `
SELECT current_setting('server_version'), current_database(), current_user,
       n.oid IS NOT NULL,
       COALESCE(has_schema_privilege(n.oid, 'USAGE'), false),
       COALESCE(has_schema_privilege(n.oid, 'CREATE'), false),
       has_database_privilege(current_database(), 'CREATE'),
       has_database_privilege(current_database(), 'TEMPORARY')
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1`, schema).Scan(
		&p.Version, &p.Database, &p.Role, &p.SchemaExists, &p.SchemaUsage, &p.SchemaCreate, &p.DatabaseCreate, &p.DatabaseTemp)
	if err != nil {
		return nil, fmt.Errorf("probing the server's privileges for schema %s: %w", schema, err)
	}
	return &p, nil
}
