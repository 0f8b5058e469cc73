// Package sqlident holds the rule for the schema names evsync accepts: the tenants' schemas
// and the daemon's control schema alike. It imports only the standard library, so that both
// db and the daemon share one rule without the daemon importing db.
package sqlident

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CheckSchema returns nil when name can hold evsync's tables: a plain lower-case SQL
// identifier (a-z, 0-9, _, not starting with a digit, at most 63 characters) that is not one
// of PostgreSQL's own schemas (information_schema, and pg_catalog, pg_toast and every other
// pg_* name), where the migrations would create their tables among the system's. public is
// fine. Its errors match ErrBadSchema and read after the setting's name ("database.schema:
// must ...").
func CheckSchema(name string) error {
	switch {
	case !schemaRE.MatchString(name):
		return badSchemaError(fmt.Sprintf("must be a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters), got %q", name))
	case strings.HasPrefix(name, "pg_") || name == "information_schema":
		return badSchemaError(fmt.Sprintf("must not be a PostgreSQL system schema (information_schema, pg_*), got %q", name))
	}
	return nil
}

// badSchemaError is CheckSchema's error: its own text, matching ErrBadSchema.
type badSchemaError string

func (e badSchemaError) Error() string        { return string(e) }
func (e badSchemaError) Is(target error) bool { return target == ErrBadSchema }

// ErrBadSchema is matched by the errors of CheckSchema (and of the db and daemon functions that
// check a schema name) when the name is not a plain lower-case identifier or names a
// PostgreSQL system schema.
var ErrBadSchema = errors.New("db: schema must be a lower-case identifier and not a PostgreSQL system schema")
